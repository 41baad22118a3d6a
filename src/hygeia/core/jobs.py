"""Background jobs: one API for the in-process pool (default) and Celery workers (scaled out).

A job is a row first and a task second: the row (status, progress, result) is the source of truth,
so a job queued before an API restart is picked up again, and a job redelivered after a worker was
killed is run again but its result is stored once.

A job too large for one worker hands its work to child jobs (`JobContext.hand_off`), one per chunk:
they run wherever the backend sends them (every Celery worker, or the in-process pool), each
redelivered on its own if its worker dies, and the job stays running until a child completes or
fails it. Child ids derive from the parent's, so a redelivered parent finds its children instead of
making a second set.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, tuple_

from hygeia.core import audit
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.blobs import check_key, check_prefix, tenant_key
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.errors import NotFound, ProblemError, without_server_paths
from hygeia.core.observability import JOBS
from hygeia.core.tables import Job
from hygeia.settings import get_settings

log = structlog.get_logger("hygeia.jobs")
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
PROGRESS_WRITE_INTERVAL = 0.25


def job_files_prefix(tenant_id: str, job_id: str) -> str:
    """Where a job's output files live in the blob store; deleting the job deletes this prefix."""
    return check_prefix(tenant_key(tenant_id, "jobs", job_id) + "/")


@dataclass(frozen=True)
class HandedOff:
    """A handler's answer when child jobs do its work: the job stays running until one of them calls
    `complete_job` or `fail_job` for it. The children's ids are `child_job_id(job, index)`."""

    message: str


def child_job_id(parent_id: str, index: int) -> str:
    """The same id for the same chunk of the same job, every time (the id column holds 32 characters)."""
    return hashlib.sha256(f"{parent_id}:{index}".encode()).hexdigest()[:32]


class JobContext:
    """Given to a handler so it can report progress; writes are throttled to spare the database."""

    def __init__(self, job_id: str, tenant_id: str) -> None:
        self.job_id, self.tenant_id = job_id, tenant_id
        self._last_write = 0.0

    def file_key(self, name: str) -> str:
        """A blob key for one of this job's output files (any API pod can read it back)."""
        return check_key(job_files_prefix(self.tenant_id, self.job_id) + name)

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_write < PROGRESS_WRITE_INTERVAL and fraction < 1.0:
            return
        self._last_write = now
        with system_session() as session:
            job = session.get(Job, self.job_id)
            if job is not None and job.status not in (SUCCEEDED, FAILED):
                job.progress, job.message = max(0.0, min(1.0, fraction)), message[:500]

    def hand_off(self, kind: str, payloads: list[dict[str, Any]], message: str) -> HandedOff:
        """Queue one child job per payload (each told its parent) and leave this job running.

        Children that exist already (this job was delivered again) are queued again, not made twice;
        running one twice is harmless, since a finished job is not run again and stores its result once.
        """
        if kind not in _CHILD_ONLY:
            raise RuntimeError(f"{kind!r} is not registered as a child job kind")
        ids = [child_job_id(self.job_id, index) for index in range(len(payloads))]
        with tenant_session(self.tenant_id) as session:
            parent = session.get(Job, self.job_id)
            created_by = parent.created_by if parent is not None else "system"
            for child_id, payload in zip(ids, payloads, strict=True):
                if session.get(Job, child_id) is None:
                    session.add(
                        Job(
                            id=child_id,
                            kind=kind,
                            payload={**payload, "parent": self.job_id},
                            created_by=created_by,
                            status=QUEUED,
                            progress=0.0,
                            message="",
                        )
                    )
        for child_id in ids:
            get_backend().enqueue(child_id, chunk=True)
        return HandedOff(message)


Handler = Callable[[dict[str, Any], JobContext], dict[str, Any] | HandedOff]
_HANDLERS: dict[str, Handler] = {}
_SCHEDULED_ONLY: set[str] = set()  # kinds the platform submits itself (retraining), never a caller
_CHILD_ONLY: set[str] = set()  # chunks of another job: never submitted by a caller, not listed


def register_job_handler(
    kind: str, handler: Handler, *, scheduled_only: bool = False, child_only: bool = False
) -> None:
    _HANDLERS[kind] = handler
    if scheduled_only:
        _SCHEDULED_ONLY.add(kind)
    if child_only:
        _CHILD_ONLY.add(kind)


def load_plugin_modules() -> None:
    """Plugin modules named in HYGEIA_JOB_MODULES register their handlers on import; a typo fails loudly.

    Hygeia's own domains are wired by the composition root (`hygeia.app`), never by name here.
    """
    for module in get_settings().job_modules:
        importlib.import_module(module)


@dataclass(frozen=True)
class JobSummary:
    """A job without its payload and result: what a listing needs, a few hundred bytes a row."""

    id: str
    kind: str
    status: str
    progress: float
    message: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class JobInfo(JobSummary):
    """A job with its result and payload, for one job's page and for the code that ran it.

    The payload is what the domain stored at submission (e.g. a signal run's upload id), so a domain
    reads its own job back through here instead of querying the Job table. Not part of JobOut.
    """

    result: dict[str, Any] | None
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, job: Job) -> JobInfo:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            message=job.message,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            result=job.result,
            payload=dict(job.payload or {}),
        )


def execute_job(job_id: str) -> str:
    """Run one job to completion; safe to call twice (a finished job is not run again)."""
    with system_session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        if job.status in (SUCCEEDED, FAILED):
            return job.status
        job.status, job.attempts = RUNNING, job.attempts + 1
        kind, payload, tenant_id = job.kind, dict(job.payload), job.tenant_id
    handler = _HANDLERS.get(kind)
    status, result, error = SUCCEEDED, None, None
    try:
        if handler is None:
            raise RuntimeError(f"no handler for job kind {kind!r} on this worker")
        token = CURRENT_TENANT.set(tenant_id)
        try:
            result = handler(payload, JobContext(job_id, tenant_id))
        finally:
            CURRENT_TENANT.reset(token)
    except ProblemError as exc:
        status, error = FAILED, exc.detail or exc.title
    except Exception as exc:  # a failing job must be recorded, not crash the worker
        status, error = FAILED, f"{type(exc).__name__}: {exc}"
        log.error("job_failed", job_id=job_id, kind=kind, trace=traceback.format_exc())
    if isinstance(result, HandedOff):
        _handed_off(job_id, result)
        return RUNNING
    _finish(job_id, status, result, error)
    JOBS.labels(kind, status).inc()
    return status


def _handed_off(job_id: str, handed: HandedOff) -> None:
    with system_session() as session:
        job = session.get(Job, job_id)
        if job is not None and job.status not in (SUCCEEDED, FAILED):
            job.message = handed.message[:500]


def complete_job(job_id: str, result: dict[str, Any]) -> None:
    """A child finished its parent's work (see `JobContext.hand_off`); stored once, like any result."""
    _finish_counted(job_id, SUCCEEDED, result, None)


def fail_job(job_id: str, error: str) -> None:
    """A child could not do its part, so the parent has failed, with the child's reason."""
    _finish_counted(job_id, FAILED, None, error)


def _finish_counted(job_id: str, status: str, result: dict[str, Any] | None, error: str | None) -> None:
    with system_session() as session:
        job = session.get(Job, job_id)
        kind = job.kind if job is not None and job.status not in (SUCCEEDED, FAILED) else None
    if kind is not None:
        _finish(job_id, status, result, error)
        JOBS.labels(kind, status).inc()


def _finish(job_id: str, status: str, result: dict[str, Any] | None, error: str | None) -> None:
    with system_session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status in (SUCCEEDED, FAILED):
            return  # another delivery of the same job already stored its result
        stored_error = without_server_paths(error)[:4000] if error else None  # callers read this text
        job.status, job.result, job.error, job.finished_at = status, result, stored_error, utcnow()
        if status == SUCCEEDED:
            job.progress, job.message = 1.0, job.message or "done"


class InProcessBackend:
    """Jobs on a thread pool; chunks of larger jobs one at a time on a thread of their own, so a
    screen of a million molecules never holds up anyone's other jobs."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hygeia-job")
        self._chunks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hygeia-chunk")
        self._lock = threading.Lock()

    def enqueue(self, job_id: str, *, chunk: bool = False) -> None:
        (self._chunks if chunk else self._pool).submit(self._run, job_id)

    @staticmethod
    def _run(job_id: str) -> None:
        try:
            execute_job(job_id)
        except Exception:
            log.error("job_crashed", job_id=job_id, trace=traceback.format_exc())

    def resume_pending(self) -> int:
        """Re-enqueue jobs left queued or running when the previous process stopped."""
        with system_session() as session:
            rows = session.execute(select(Job.id, Job.kind).where(Job.status.in_((QUEUED, RUNNING)))).all()
        for job_id, kind in rows:
            self.enqueue(job_id, chunk=kind in _CHILD_ONLY)
        return len(rows)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._chunks.shutdown(wait=False, cancel_futures=True)


class CeleryBackend:
    def enqueue(self, job_id: str, *, chunk: bool = False) -> None:
        """Chunks go to their own queue, which every worker also consumes: the broker serves the queues
        in turn, so other jobs do not wait behind a large screen's hundreds of chunks."""
        from hygeia.core.celery_app import CHUNK_QUEUE, JOB_QUEUE, configure_broker, run_job

        configure_broker()
        run_job.apply_async(args=[job_id], queue=CHUNK_QUEUE if chunk else JOB_QUEUE)

    def resume_pending(self) -> int:
        return 0  # the broker keeps unacknowledged tasks; workers redeliver them

    def shutdown(self) -> None:
        return None


@lru_cache(maxsize=1)
def get_backend() -> InProcessBackend | CeleryBackend:
    settings = get_settings()
    if settings.jobs_backend == "celery":
        if not settings.celery_broker:
            raise RuntimeError("HYGEIA_JOBS_BACKEND=celery needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL")
        return CeleryBackend()
    return InProcessBackend(settings.job_workers)


def submit_job(
    principal: Principal, kind: str, payload: dict[str, Any], *, scheduled: bool = False
) -> JobInfo:
    if kind not in _HANDLERS:
        raise ProblemError(400, "Unknown job kind", f"no job kind {kind!r} is registered")
    if kind in _SCHEDULED_ONLY and not scheduled:
        raise ProblemError(403, "Job kind is scheduled", f"{kind!r} jobs are submitted by the platform only")
    if kind in _CHILD_ONLY:
        raise ProblemError(403, "Job kind is a chunk", f"{kind!r} jobs are parts of another job")
    with tenant_session(principal.tenant_id) as session:
        job = Job(
            kind=kind, payload=payload, created_by=principal.subject, status=QUEUED, progress=0.0, message=""
        )
        session.add(job)
        session.flush()
        info = JobInfo.of(job)
    # every submission, whichever domain or console page made it; the payload only as its sha256
    detail = {"job_id": info.id, "kind": kind}
    audit.record(
        principal, "job.submit", payload=json.dumps(payload, sort_keys=True, default=str), detail=detail
    )
    get_backend().enqueue(info.id)
    return info


def get_job(tenant_id: str, job_id: str) -> JobInfo:
    with tenant_session(tenant_id) as session:
        job = session.get(Job, job_id)
        # session.get may return an identity-mapped row; tenant is re-checked explicitly
        if job is None or job.tenant_id != tenant_id:
            raise NotFound(f"no job {job_id!r} for this tenant")
        return JobInfo.of(job)


class JobQueueCollector:
    """Scrape-time job gauges: how many jobs wait or run, and how long the oldest has waited."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with system_session() as session:
                counts = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
                oldest = session.scalar(  # a big screen's chunks wait by design; callers' jobs must not
                    select(func.min(Job.created_at)).where(Job.status == QUEUED, Job.kind.not_in(_CHILD_ONLY))
                )
        except Exception as exc:  # a scrape must not fail because the database does: /ready says why
            log.warning("job_metrics_unavailable", error=type(exc).__name__)
            return
        by_status = GaugeMetricFamily(
            "hygeia_jobs_in_state", "Jobs currently in each state", labels=["status"]
        )
        for status in (QUEUED, RUNNING):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        age = 0.0
        if oldest is not None:
            aware = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = (utcnow() - aware).total_seconds()
        yield GaugeMetricFamily(
            "hygeia_jobs_oldest_queued_seconds", "Age of the oldest job still waiting for a worker", value=age
        )


def belongs_to_another_tenant(job_id: str, tenant_id: str) -> bool:
    """For the audit trail: was a 404 someone probing another tenant's existing job?"""
    with system_session() as session:
        owner = session.scalar(select(Job.tenant_id).where(Job.id == job_id))
    return owner is not None and owner != tenant_id


def list_jobs(tenant_id: str, limit: int = 50) -> list[JobInfo]:
    with tenant_session(tenant_id) as session:
        query = select(Job).where(Job.kind.not_in(_CHILD_ONLY)) if _CHILD_ONLY else select(Job)
        rows = session.scalars(query.order_by(Job.created_at.desc()).limit(min(max(limit, 1), 500)))
        return [JobInfo.of(job) for job in rows]


SUMMARY_COLUMNS = (
    Job.id,
    Job.kind,
    Job.status,
    Job.progress,
    Job.message,
    Job.created_at,
    Job.finished_at,
    Job.error,
)


def list_job_summaries(
    tenant_id: str, limit: int = 50, before: str | None = None, kind: str | None = None
) -> list[JobSummary]:
    """Newest first; `before` is the id of the last job of the previous page (keyset pagination)."""
    with tenant_session(tenant_id) as session:
        query = select(*SUMMARY_COLUMNS).where(Job.tenant_id == tenant_id)
        if kind:
            query = query.where(Job.kind == kind)
        elif _CHILD_ONLY:  # a screen of a million molecules is one job to its owner, not 200
            query = query.where(Job.kind.not_in(_CHILD_ONLY))
        if before:
            cursor = session.execute(
                select(Job.created_at, Job.id).where(Job.id == before, Job.tenant_id == tenant_id)
            ).first()
            if cursor is None:
                raise NotFound(f"no job {before!r} for this tenant to page from")
            query = query.where(tuple_(Job.created_at, Job.id) < tuple_(cursor[0], cursor[1]))
        query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(min(max(limit, 1), 500))
        return [JobSummary(*row) for row in session.execute(query)]


def _verify_registered_models(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Re-hash every registered artifact: a real integrity sweep an operator can schedule."""
    from pathlib import Path

    from hygeia.core.registry import ModelIntegrityError, get_registry, verify_folder

    rows = get_registry().versions(payload.get("name"))
    report = []
    for index, row in enumerate(rows, start=1):
        try:
            verify_folder(Path(row.path))
            report.append({"name": row.name, "version": row.version, "ok": True})
        except ModelIntegrityError as exc:
            report.append({"name": row.name, "version": row.version, "ok": False, "error": exc.detail})
        ctx.progress(index / max(len(rows), 1), f"verified {index}/{len(rows)}")
    return {"models": report, "all_ok": all(item["ok"] for item in report)}


register_job_handler("registry.verify", _verify_registered_models)
