"""Data retention: what is kept how long, per tenant, and the purge that enforces it.

Three kinds of data age out (defaults in settings, a tenant may set its own days): `uploads`
(files users sent), `job_results` (finished jobs with their results) and `conversations`. The audit
trail is never purged. Core purges finished jobs and ended console sessions itself; a domain that
keeps its own data registers a purger for its kind (`register_purger`), and one that keeps files
beside a job registers a cleanup for that job kind (`register_job_cleanup`), so deleting a job never
leaves its files behind; files a job wrote under its own blob prefix (`JobContext.file_key`) go with
it without any cleanup. The purge runs daily under Celery Beat (`hygeia beat`) or by hand
(`hygeia maintenance purge`), counts what it removed in metrics and writes one audit row per tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import structlog
from prometheus_client import Counter
from sqlalchemy import delete, or_, select

from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.blobs import get_blob_store
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.errors import Conflict
from hygeia.core.jobs import FAILED, SUCCEEDED, get_job, job_files_prefix
from hygeia.core.tables import ConsoleSession, Job, Tenant
from hygeia.settings import get_settings

Kind = Literal["uploads", "job_results", "conversations"]
KINDS: tuple[Kind, ...] = ("uploads", "job_results", "conversations")
Purger = Callable[[str, datetime], int]  # (tenant id, cutoff) -> items removed
JobCleanup = Callable[[str, str, dict], None]  # (tenant, job id, payload): remove the job's files

PURGED = Counter("hygeia_retention_purged_total", "Items removed by the retention purge", ["kind"])
log = structlog.get_logger("hygeia.retention")
_purgers: dict[Kind, list[Purger]] = {kind: [] for kind in KINDS}
_job_cleanups: dict[str, JobCleanup] = {}


def register_purger(kind: Kind, purger: Purger) -> None:
    _purgers[kind].append(purger)


def register_job_cleanup(job_kind: str, cleanup: JobCleanup) -> None:
    _job_cleanups[job_kind] = cleanup


def retention_days(tenant: Tenant) -> dict[Kind, int]:
    """The settings' defaults, overridden by whatever the tenant set."""
    settings = get_settings()
    days: dict[Kind, int] = {
        "uploads": settings.retention_upload_days,
        "job_results": settings.retention_job_days,
        "conversations": settings.retention_conversation_days,
    }
    for kind, value in (tenant.retention or {}).items():
        if kind in days:
            days[kind] = int(value)
    return days


def delete_job(tenant_id: str, job_id: str) -> bool:
    """Remove a finished job, its result and the files its domain kept; False if it is not there."""
    with tenant_session(tenant_id) as session:
        job = session.get(Job, job_id)
        if job is None or job.tenant_id != tenant_id:
            return False
        kind, payload = job.kind, dict(job.payload)
        session.delete(job)
    cleanup = _job_cleanups.get(kind)
    if cleanup is not None:
        cleanup(tenant_id, job_id, payload)
    get_blob_store().delete_prefix(job_files_prefix(tenant_id, job_id))
    return True


def delete_finished_job(principal: Principal, job_id: str) -> str:
    """A caller deletes one of its tenant's finished jobs (API and console alike); audited.
    Returns the job's kind; another tenant's id is NotFound, an unfinished job a Conflict."""
    job = get_job(principal.tenant_id, job_id)
    if job.status not in (SUCCEEDED, FAILED):
        raise Conflict(f"job {job_id} is {job.status}; delete it once it has finished")
    delete_job(principal.tenant_id, job_id)
    audit.record(principal, "job.delete", detail={"job_id": job_id, "kind": job.kind})
    return job.kind


def purge_finished_jobs(tenant_id: str, cutoff: datetime) -> int:
    with tenant_session(tenant_id) as session:
        ids = list(
            session.scalars(select(Job.id).where(Job.finished_at.is_not(None), Job.finished_at < cutoff))
        )
    return sum(delete_job(tenant_id, job_id) for job_id in ids)


def purge_console_sessions(now: datetime) -> int:
    """Sessions that ended or expired a day ago or more are of no use to anyone."""
    stale = now - timedelta(days=1)
    with system_session() as session:
        result = session.execute(
            delete(ConsoleSession).where(
                or_(ConsoleSession.ended_at < stale, ConsoleSession.expires_at < stale)
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Apply every tenant's retention now; returns removed counts per tenant and kind."""
    now = now or utcnow()
    with system_session() as session:
        tenants = list(session.scalars(select(Tenant)))
        session.expunge_all()
    report = {tenant.id: _purge_tenant(tenant, now) for tenant in tenants}
    PURGED.labels("console_sessions").inc(purge_console_sessions(now))
    return report


def _purge_tenant(tenant: Tenant, now: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, days in retention_days(tenant).items():
        cutoff = now - timedelta(days=days)
        removed = sum(purge(tenant.id, cutoff) for purge in _purgers[kind])
        counts[kind] = removed
        PURGED.labels(kind).inc(removed)
    if any(counts.values()):
        system = Principal(tenant.id, "admin", "system:retention", tenant.tier)
        audit.record(system, "retention.purge", detail=counts)
        log.info("retention_purged", tenant=tenant.id, **counts)
    return counts


register_purger("job_results", purge_finished_jobs)
