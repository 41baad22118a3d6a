"""Platform HTTP API: health, readiness, metrics, tokens, jobs, and admin (registry, keys, audit)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select, text
from starlette.background import BackgroundTask

from hygeia import __version__
from hygeia.core import audit, auth, jobs, limits, retention, tenants
from hygeia.core.auth import Analyst, Forbidden, PlatformAdmin, TenantAdmin, Viewer
from hygeia.core.blobs import get_blob_store
from hygeia.core.db import get_engine, system_session
from hygeia.core.drift import drift_monitor
from hygeia.core.errors import PROBLEM_RESPONSES, NotFound
from hygeia.core.lifecycle_routes import outcomes_api, releases_admin
from hygeia.core.observability import READINESS, metrics_response
from hygeia.core.redis_link import redis_link
from hygeia.core.registry import get_registry
from hygeia.core.schemas import (
    ApiKeyCreate,
    ApiKeyOut,
    AuditEventOut,
    JobOut,
    JobSubmit,
    JobSummaryOut,
    ModelVersionOut,
    RateWindowOut,
    RetentionPolicy,
    TenantCreate,
    TokenResponse,
)
from hygeia.core.tables import ApiKey, ModelVersion, Tenant
from hygeia.core.tools import capability_status
from hygeia.settings import get_settings

public = APIRouter(tags=["health"])
api = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)


@public.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    """Async: a liveness probe should not wait for a free worker thread."""
    return {"status": "ok", "version": __version__}


def _database_ok() -> str | None:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@public.get("/ready", summary="Readiness: database, Redis and models")
def ready() -> JSONResponse:
    settings = get_settings()
    db_error = _database_ok()
    checks: dict[str, Any] = {"database": {"ok": db_error is None, "error": db_error}}
    degraded = False
    if settings.redis_url:
        redis_ok = redis_link(settings.redis_url).ping()
        checks["redis"] = {"ok": redis_ok, "fallback": None if redis_ok else "memory"}
        degraded = not redis_ok
    blob_error = get_blob_store().check()
    checks["blobs"] = {"ok": blob_error is None, "backend": get_blob_store().backend, "error": blob_error}
    degraded = degraded or blob_error is not None
    models = {} if db_error else {name: version for name, version in _production_models().items()}
    capabilities = capability_status()
    degraded = degraded or any(not c["available"] for c in capabilities.values())
    status = "unavailable" if db_error else ("degraded" if degraded else "ready")
    _export_readiness(checks, capabilities)
    body: dict[str, Any] = {
        "status": status,
        "checks": checks,
        "models": models,
        "capabilities": capabilities,
    }
    if not db_error:
        body["platform_jobs"] = _platform_work(settings.platform_tenant)
    return JSONResponse(body, status_code=503 if db_error else 200)


def _platform_work(platform_tenant: str) -> list[dict[str, Any]]:
    """Platform jobs still queued or running (e.g. the first start's evidence vectors), with progress."""
    return [
        {"kind": job.kind, "status": job.status, "progress": round(job.progress, 3), "message": job.message}
        for job in jobs.list_job_summaries(platform_tenant, 20)
        if job.status in ("queued", "running")
    ]


def _export_readiness(checks: dict[str, Any], capabilities: dict[str, Any]) -> None:
    """The same verdicts as Prometheus gauges, for the 'readiness degraded' alert."""
    for name, check in checks.items():
        READINESS.labels(name).set(1 if check["ok"] else 0)
    for name, capability in capabilities.items():
        READINESS.labels(f"capability:{name}").set(1 if capability["available"] else 0)


def _production_models() -> dict[str, str]:
    with system_session() as session:
        rows = session.execute(
            select(ModelVersion.name, ModelVersion.version).where(ModelVersion.stage == "production")
        )
        return {name: version for name, version in rows}


@public.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Open on a private network by default; HYGEIA_METRICS_TOKEN makes Prometheus present a bearer token."""
    token = get_settings().metrics_token
    if token is not None:
        offered = auth.credential_from(request) or ""
        if not secrets.compare_digest(offered.encode(), token.get_secret_value().encode()):
            raise auth.Unauthorized("/metrics needs the scrape token (Authorization: Bearer ...)")
    return metrics_response()


@api.post("/auth/token", response_model=TokenResponse, tags=["auth"])
def token(principal: Viewer) -> TokenResponse:
    """Exchange an API key (or a still-valid token) for a short-lived JWT with the same role."""
    access_token, ttl = auth.issue_jwt(principal)
    return TokenResponse(access_token=access_token, expires_in=ttl)


@api.get("/auth/whoami", tags=["auth"])
async def whoami(principal: Viewer) -> dict[str, str]:
    """Who you are; async because it does no I/O, so it needs no worker thread."""
    return {"tenant_id": principal.tenant_id, "role": principal.role, "subject": principal.subject}


@api.get("/auth/limits", response_model=list[RateWindowOut], tags=["auth"])
def rate_limits(principal: Viewer) -> list[RateWindowOut]:
    """Every rate-limit window that applies to you (tenant and key), after this request was counted."""
    windows = limits.status(principal.tenant_id, principal.tier, principal.key_id)
    return [RateWindowOut(**asdict(window), policy=window.policy) for window in windows]


@api.get("/capabilities", tags=["health"])
def capabilities(_: Viewer) -> dict[str, Any]:
    return capability_status()


@api.get("/jobs", response_model=list[JobSummaryOut], tags=["jobs"])
def list_jobs(
    response: Response,
    principal: Viewer,
    limit: int = Query(50, ge=1, le=500),
    before: str | None = Query(None, max_length=64, description="id of the last job of the previous page"),
    kind: str | None = Query(None, max_length=100),
) -> Any:
    """Newest first, without payloads or results (GET /jobs/{id} has those); a full page links the next."""
    page = jobs.list_job_summaries(principal.tenant_id, limit, before, kind)
    if len(page) == limit:
        query = urlencode({"limit": limit, "before": page[-1].id, **({"kind": kind} if kind else {})})
        response.headers["Link"] = f'</api/v1/jobs?{query}>; rel="next"'
    return [JobSummaryOut(**vars(job)) for job in page]


@api.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
def get_job(job_id: str, request: Request, principal: Viewer) -> Any:
    with audit.probes_audited(
        request, "job of another tenant", jobs.belongs_to_another_tenant, job_id, principal.tenant_id
    ):
        return JobOut(**vars(jobs.get_job(principal.tenant_id, job_id)))


@api.delete("/jobs/{job_id}", status_code=204, tags=["jobs"])
def delete_job(job_id: str, principal: Analyst) -> Response:
    """Remove a finished job, its result and the files it left (e.g. a signal run's upload); audited."""
    retention.delete_finished_job(principal, job_id)
    return Response(status_code=204)


@api.post("/jobs", response_model=JobOut, status_code=202, tags=["jobs"])
def submit_job(body: JobSubmit, principal: TenantAdmin) -> Any:
    return JobOut(**vars(jobs.submit_job(principal, body.kind, body.payload)))


admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=PROBLEM_RESPONSES)
admin.include_router(releases_admin)  # shadow and canary releases (lifecycle_routes.py)


@admin.get("/models", response_model=list[ModelVersionOut])
def list_models(_: Viewer) -> Any:
    return [_model_out(row, with_card=False) for row in get_registry().versions()]


@admin.get("/models/{name}/{version}", response_model=ModelVersionOut)
def model_detail(name: str, version: str, _: Viewer) -> Any:
    rows = [row for row in get_registry().versions(name) if row.version == version]
    if not rows:
        raise NotFound(f"no model {name} {version}")
    return _model_out(rows[0], with_card=True)


@admin.post("/models/{name}/{version}/promote", response_model=ModelVersionOut)
def promote(name: str, version: str, principal: PlatformAdmin) -> Any:
    row = get_registry().promote(name, version)
    audit.record(principal, "model.promote", detail={"name": name, "version": version})
    return _model_out(row, with_card=False)


@admin.post("/models/{name}/rollback", response_model=ModelVersionOut)
def rollback(name: str, principal: PlatformAdmin) -> Any:
    row = get_registry().rollback(name)
    audit.record(principal, "model.rollback", detail={"name": name, "version": row.version})
    return _model_out(row, with_card=False)


def _model_out(row: ModelVersion, with_card: bool) -> ModelVersionOut:
    return ModelVersionOut(
        name=row.name,
        version=row.version,
        stage=row.stage,
        sha256=row.sha256,
        created_at=row.created_at,
        promoted_at=row.promoted_at,
        card=row.card if with_card else None,
    )


@admin.post("/tenants", status_code=201)
def create_tenant(body: TenantCreate, principal: PlatformAdmin) -> dict[str, str]:
    tenant = auth.create_tenant(body.id, body.name, body.tier)
    audit.record(principal, "tenant.create", detail={"tenant": tenant.id, "tier": tenant.tier})
    return {"id": tenant.id, "name": tenant.name, "tier": tenant.tier}


@admin.put("/tenants/{tenant_id}/retention", response_model=RetentionPolicy)
def set_retention(tenant_id: str, body: RetentionPolicy, principal: PlatformAdmin) -> RetentionPolicy:
    """Set how long a tenant's data is kept (days per kind); omitted kinds keep the platform default."""
    with system_session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        tenant.retention = body.model_dump(exclude_none=True) or None
        effective = RetentionPolicy(**retention.retention_days(tenant))
    audit.record(principal, "tenant.retention", detail={"tenant": tenant_id, **effective.model_dump()})
    return effective


@admin.get("/tenants/{tenant_id}/export", response_class=FileResponse)
def export_tenant(tenant_id: str, principal: PlatformAdmin) -> FileResponse:
    """Everything stored for a tenant, as a zip: JSON-lines files (one per table), the tenant's
    uploads and job files under files/, and a manifest (what is where, what is not included)."""
    folder = Path(tempfile.mkdtemp(prefix="hygeia-export-"))
    archive = folder / f"hygeia-tenant-{tenant_id}.zip"
    try:
        manifest = tenants.export_tenant(tenant_id, archive)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    detail = {"tenant": tenant_id, "bytes": archive.stat().st_size, "files": len(manifest["files"])}
    audit.record(principal, "tenant.export", detail=detail)
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    return FileResponse(archive, media_type="application/zip", filename=archive.name, background=cleanup)


@admin.delete("/tenants/{tenant_id}")
def delete_tenant(tenant_id: str, principal: PlatformAdmin) -> dict[str, Any]:
    """Delete a tenant with all its data and files; the audit trail is kept. Export it first."""
    removed = tenants.delete_tenant(tenant_id)
    audit.record(principal, "tenant.delete", detail={"tenant": tenant_id, "removed": removed})
    return {"tenant": tenant_id, "removed": removed}


@admin.get("/retention", response_model=RetentionPolicy)
def my_retention(principal: TenantAdmin) -> RetentionPolicy:
    """How long your tenant's uploads, job results and conversations are kept, in days."""
    with system_session() as session:
        tenant = session.get(Tenant, principal.tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {principal.tenant_id!r}")
        return RetentionPolicy(**retention.retention_days(tenant))


@admin.post("/keys", response_model=ApiKeyOut, status_code=201)
def create_key(body: ApiKeyCreate, principal: TenantAdmin) -> Any:
    tenant_id = body.tenant_id or principal.tenant_id
    if tenant_id != principal.tenant_id and principal.tenant_id != get_settings().platform_tenant:
        raise Forbidden("a tenant administrator creates keys in its own tenant only")
    key, plaintext = auth.create_api_key(tenant_id, body.role, body.name)
    audit.record(principal, "key.create", detail={"key_id": key.id, "tenant": tenant_id, "role": body.role})
    return ApiKeyOut(**_key_fields(key), key=plaintext)


@admin.get("/keys", response_model=list[ApiKeyOut])
def list_keys(principal: TenantAdmin) -> Any:
    with system_session() as session:
        rows = session.scalars(select(ApiKey).where(ApiKey.tenant_id == principal.tenant_id))
        return [ApiKeyOut(**_key_fields(key)) for key in rows]


@admin.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, principal: TenantAdmin) -> Response:
    auth.revoke_api_key(principal.tenant_id, key_id)
    audit.record(principal, "key.revoke", detail={"key_id": key_id})
    return Response(status_code=204)


def _key_fields(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


@admin.get("/drift")
def drift(principal: Viewer) -> list[dict[str, Any]]:
    """Population stability of live model outputs against their training distribution, last 7 days:
    your tenant's traffic; a platform administrator sees every tenant's together."""
    platform_admin = principal.role == "admin" and principal.tenant_id == get_settings().platform_tenant
    return drift_monitor.report(None if platform_admin else principal.tenant_id)


@admin.get("/audit", response_model=list[AuditEventOut])
def audit_log(
    principal: TenantAdmin,
    limit: int = Query(100, ge=1, le=1000),
    action: str | None = Query(None, max_length=100),
) -> Any:
    return [
        AuditEventOut.model_validate(event, from_attributes=True)
        for event in audit.list_events(principal.tenant_id, limit, action)
    ]


api.include_router(outcomes_api)  # last: /{domain}/outcomes must not shadow a platform route
