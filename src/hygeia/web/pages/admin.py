"""Administration: model registry (cards, promote, rollback), API keys, audit log, jobs with progress;
and the models page: live performance on the tenant's outcomes, releases and their comparison reports.

Registry mutations call the same registry and audit functions as the admin API, with the same rules:
tenant admins see everything here, only platform-tenant admins promote or roll back. On the models
page every role sees its own tenant's live performance, analysts add outcomes, and only platform
admins see releases: a comparison report pairs answers from every tenant.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, Response, UploadFile

from hygeia.core import (
    audit,
    auth,
    candidate_report,
    jobs,
    lifecycle_routes,
    live_performance,
    outcomes,
    release_report,
    releases,
    retention,
)
from hygeia.core.auth import Forbidden, Principal
from hygeia.core.db import system_session
from hygeia.core.errors import Conflict, NotFound, ProblemError
from hygeia.core.registry import get_registry
from hygeia.core.tables import ApiKey
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
admin_only = session.console_role("admin")
viewer = session.console_role("viewer")
analyst = session.console_role("analyst")
OUTCOME_DOMAINS = ("toxicity", "dermatology", "signals", "evidence")  # domains that take outcomes (#19)
RELEASE_DOMAINS = ("toxicity", "dermatology")  # of those, the ones with shadow or canary releases
CARD_FIELDS = ("task", "intended_use", "limitations", "feature_spec", "metrics", "training_data")


def _keys(tenant_id: str) -> list[ApiKey]:
    from sqlalchemy import select

    with system_session() as db:
        return list(
            db.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at.desc()))
        )


@router.get("/admin")
def admin_page(request: Request, principal: Principal = Depends(admin_only)) -> Response:
    context = {
        "active": "admin",
        "models": get_registry().versions(),
        "events": audit.list_events(principal.tenant_id, 50),
        "jobs": jobs.list_jobs(principal.tenant_id, 20),
        "keys": _keys(principal.tenant_id),
    }
    return render(request, "pages/admin.html", context)


@router.get("/ui/admin/models")
def models_fragment(request: Request, _: Principal = Depends(admin_only)) -> Response:
    return render(request, "fragments/models.html", {"models": get_registry().versions()})


@router.get("/ui/admin/models/{name}/{version}/card")
def model_card(name: str, version: str, request: Request, _: Principal = Depends(admin_only)) -> Response:
    rows = [row for row in get_registry().versions(name) if row.version == version]
    if not rows:
        raise NotFound(f"no model {name} {version}")
    card: dict[str, Any] = rows[0].card or {}
    sections = [
        (field, _pretty(card[field])) for field in CARD_FIELDS if card.get(field) not in (None, "", {})
    ]
    other = sorted(
        k for k in card if k not in CARD_FIELDS and k not in ("artifacts", "name", "version", "sha256")
    )
    context = {"row": rows[0], "sections": sections, "other": other, "artifacts": card.get("artifacts", {})}
    return render(request, "fragments/model_card.html", context)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _problem(exc: ProblemError) -> dict[str, Any]:
    return {"status": exc.status, "title": exc.title, "detail": exc.detail, "errors": []}


def _models_with_problem(request: Request, exc: ProblemError) -> Response:
    """A refused promote or rollback keeps the table and says why above it."""
    context = {"models": get_registry().versions(), "problem": _problem(exc)}
    return render(request, "fragments/models.html", context, status_code=exc.status)


@router.post("/ui/admin/models/{name}/{version}/promote", dependencies=[Depends(session.same_origin)])
def promote(
    name: str, version: str, request: Request, principal: Principal = Depends(session.platform_admin)
) -> Response:
    try:
        row = get_registry().promote(name, version)
    except ProblemError as exc:
        return _models_with_problem(request, exc)
    audit.record(principal, "model.promote", detail={"name": name, "version": version})
    notice = f"{row.name} {row.version} is now in production."
    return render(request, "fragments/models.html", {"models": get_registry().versions(), "notice": notice})


@router.post("/ui/admin/models/{name}/rollback", dependencies=[Depends(session.same_origin)])
def rollback(name: str, request: Request, principal: Principal = Depends(session.platform_admin)) -> Response:
    try:
        row = get_registry().rollback(name)
    except ProblemError as exc:
        return _models_with_problem(request, exc)
    audit.record(principal, "model.rollback", detail={"name": name, "version": row.version})
    notice = f"{name} rolled back: {row.version} is in production again."
    return render(request, "fragments/models.html", {"models": get_registry().versions(), "notice": notice})


@router.get("/ui/admin/audit")
def audit_fragment(
    request: Request,
    action: str = Query("", max_length=100),
    limit: int = Query(50, ge=1, le=500),
    principal: Principal = Depends(admin_only),
) -> Response:
    events = audit.list_events(principal.tenant_id, limit, action.strip() or None)
    return render(request, "fragments/audit.html", {"events": events, "action": action})


@router.post("/ui/admin/keys", dependencies=[Depends(session.same_origin)])
def create_key(
    request: Request,
    name: str = Form(..., min_length=1, max_length=200),
    role: str = Form(...),
    principal: Principal = Depends(admin_only),
) -> Response:
    key, plaintext = auth.create_api_key(principal.tenant_id, role, name.strip())
    audit.record(
        principal, "key.create", detail={"key_id": key.id, "tenant": principal.tenant_id, "role": role}
    )
    context = {"keys": _keys(principal.tenant_id), "new_key": plaintext, "new_key_name": key.name}
    return render(request, "fragments/keys.html", context)


@router.post("/ui/admin/keys/{key_id}/revoke", dependencies=[Depends(session.same_origin)])
def revoke_key(key_id: str, request: Request, principal: Principal = Depends(admin_only)) -> Response:
    if key_id == principal.key_id:
        raise Conflict("you cannot revoke the key you are signed in with", title="Refused")
    auth.revoke_api_key(principal.tenant_id, key_id)
    audit.record(principal, "key.revoke", detail={"key_id": key_id})
    context = {"keys": _keys(principal.tenant_id), "notice": "Key revoked."}
    return render(request, "fragments/keys.html", context)


@router.get("/ui/jobs")
def jobs_fragment(request: Request, principal: Principal = Depends(admin_only)) -> Response:
    return render(request, "fragments/jobs.html", {"jobs": jobs.list_jobs(principal.tenant_id, 20)})


@router.get("/ui/jobs/{job_id}")
def job_fragment(
    job_id: str, request: Request, principal: Principal = Depends(session.console_principal)
) -> Response:
    """One job's row; while it runs, the row asks for itself again every second."""
    return render(request, "fragments/job_row.html", {"job": jobs.get_job(principal.tenant_id, job_id)})


def delete_job_for(request: Request, principal: Principal, job_id: str) -> str:
    """The API's job deletion (finished jobs, with their files; audited), with the console's
    refusals audited as the API's are: another tenant's existing job id is a probe."""
    with audit.probes_audited(
        request, "job of another tenant", jobs.belongs_to_another_tenant, job_id, principal.tenant_id
    ):
        return retention.delete_finished_job(principal, job_id)


@router.post("/ui/jobs/{job_id}/delete", dependencies=[Depends(session.same_origin)])
def delete_job(job_id: str, request: Request, principal: Principal = Depends(admin_only)) -> Response:
    kind = delete_job_for(request, principal, job_id)
    context = {"jobs": jobs.list_jobs(principal.tenant_id, 20), "notice": f"Deleted {kind} job {job_id[:8]}."}
    return render(request, "fragments/jobs.html", context)


@router.post("/ui/admin/jobs/verify", dependencies=[Depends(session.same_origin)])
def verify_models(request: Request, principal: Principal = Depends(admin_only)) -> Response:
    """Submit the registry integrity sweep, a real job whose progress the page follows."""
    jobs.submit_job(principal, "registry.verify", {})
    return render(request, "fragments/jobs.html", {"jobs": jobs.list_jobs(principal.tenant_id, 20)})


def release_admin(principal: Principal = Depends(admin_only)) -> Principal:
    """Releases and their reports span every tenant, so they are for platform admins only."""
    if not session.is_platform_admin(principal):
        raise Forbidden("release reports cover every tenant; only platform administrators see them")
    return principal


def _outcome_domains() -> list[str]:
    """Domains of this deployment that take outcomes (a switched-off domain registers no kind)."""
    ready = []
    for domain in OUTCOME_DOMAINS:
        try:
            outcomes.outcome_kind(domain)
        except ProblemError:
            continue
        ready.append(domain)
    return ready


def _releases_context(**extra: Any) -> dict[str, Any]:
    running = {release.model_name: release for release in releases.list_releases()}
    served = {outcomes.outcome_kind(d).model_name for d in _outcome_domains() if d in RELEASE_DOMAINS}
    models = sorted(served | set(running))
    return {"release_models": models, "running": running, **extra}


@router.get("/models")
def models_page(request: Request, principal: Principal = Depends(viewer)) -> Response:
    context: dict[str, Any] = {
        "active": "models",
        "domains": _outcome_domains(),
        "min_outcomes": outcomes.LifecycleSettings().min_outcomes,
        "csv_columns": lifecycle_routes.CSV_COLUMNS,
    }
    if session.is_platform_admin(principal):
        context.update(_releases_context(candidates=candidate_report.staged_candidates()))
    return render(request, "pages/models.html", context)


@router.get("/ui/models/{domain}/performance")
def performance_fragment(domain: str, request: Request, principal: Principal = Depends(viewer)) -> Response:
    """The signed-in tenant's live performance, computed as `GET /api/v1/{domain}/outcomes/performance`."""
    kind, report = live_performance.performance(principal.tenant_id, domain)
    context = {"kind": kind, "report": report, "min_outcomes": outcomes.LifecycleSettings().min_outcomes}
    return render(request, "fragments/live_performance.html", context)


@router.post("/ui/models/outcomes", dependencies=[Depends(session.same_origin)])
def upload_outcomes(
    request: Request,
    after: BackgroundTasks,
    principal: Principal = Depends(analyst),
    domain: str = Form(..., max_length=50),
    file: UploadFile = File(...),
) -> Response:
    """The API's CSV upload itself: the same checks, per-row errors, audit and gauge refresh."""
    result = lifecycle_routes.add_outcomes_csv(principal, after, domain, file)
    return render(request, "fragments/outcomes_result.html", {"result": result, "domain": domain})


@router.get("/ui/models/releases/{name}/report")
def release_report_fragment(name: str, request: Request, _: Principal = Depends(release_admin)) -> Response:
    report = release_report.comparison(name)
    return render(request, "fragments/release_report.html", {"report": report})


@router.post("/ui/models/releases/{name}/promote", dependencies=[Depends(session.same_origin)])
def promote_release(name: str, request: Request, principal: Principal = Depends(release_admin)) -> Response:
    """Promote from the report as `POST /api/v1/admin/releases/{name}/promote` does (audited there)."""
    try:
        version, _ = release_report.promote_candidate(principal, name)
    except ProblemError as exc:
        context = _releases_context(problem=_problem(exc))
        return render(request, "fragments/releases.html", context, exc.status)
    notice = f"{name} {version} is now in production; its release has ended."
    return render(request, "fragments/releases.html", _releases_context(notice=notice))


@router.post("/ui/models/candidates/{name}/{version}/promote", dependencies=[Depends(session.same_origin)])
def promote_staged(
    name: str, version: str, request: Request, principal: Principal = Depends(release_admin)
) -> Response:
    """Promote a retrained candidate from its card's comparison, as the admin API does (audited)."""
    try:
        candidate_report.promote_staged(principal, name, version)
    except ProblemError as exc:
        context = {"candidates": candidate_report.staged_candidates(), "problem": _problem(exc)}
        return render(request, "fragments/candidates.html", context, exc.status)
    notice = f"{name} {version} is now in production."
    context = {"candidates": candidate_report.staged_candidates(), "notice": notice}
    return render(request, "fragments/candidates.html", context)
