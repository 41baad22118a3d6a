"""Signals console: upload a case or count table, follow the scoring job, filter ranked signals and
open one drug-event pair with its cumulative-IC trend. All work is `hygeia.signals.service`'s."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.core.errors import InputError
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render
from hygeia.web.svg import trend_chart

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ALERT_LEVELS = ("high", "medium", "low", "none")
PAGE_SIZE = 25


def _runs(service: Any, tenant_id: str) -> list[jobs.JobInfo]:
    return [job for job in jobs.list_jobs(tenant_id, 100) if job.kind == service.RUN_KIND][:15]


@router.get("/signals")
def signals_page(
    request: Request,
    run: str = Query("", max_length=64),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    service, reason = domain_state("signals")
    context: dict[str, Any] = {"active": "signals", "reason": reason, "runs": [], "run": None}
    if service is not None:
        context["runs"] = _runs(service, principal.tenant_id)
        if run:
            context["run"] = service.run_status(principal.tenant_id, run)
    return render(request, "pages/signals.html", context)


@router.post("/ui/signals/runs", dependencies=[Depends(session.same_origin)])
async def submit_run(
    request: Request,
    file: UploadFile = File(...),
    input_format: str = Form("cases", alias="format", pattern="^(cases|counts|faers)$"),
    strata: str = Form("", max_length=500),
    fit: str = Form("consistent", pattern="^(consistent|global)$"),
    known: UploadFile | None = File(None),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    service = load_domain("signals")
    content = await file.read()
    columns = [s.strip() for s in strata.split(",") if s.strip()]
    labelled = await known.read() if known is not None else None
    job = service.submit_run(
        principal,
        content,
        strata=columns,
        digits=2,
        input_format=input_format,
        fit_rule=fit,
        known=labelled or None,
    )
    return _run_fragment(request, service, principal, job.id)


@router.get("/ui/signals/runs/{run_id}")
def run_fragment(
    run_id: str, request: Request, principal: Principal = Depends(session.console_principal)
) -> Response:
    """The run's status; it polls itself while the job runs, then loads the ranked table."""
    return _run_fragment(request, load_domain("signals"), principal, run_id)


def _run_fragment(request: Request, service: Any, principal: Principal, run_id: str) -> Response:
    """The run's status and, once it has finished, the refreshed list of runs (out-of-band swap)."""
    context = {
        "run": service.run_status(principal.tenant_id, run_id),
        "oob_runs": _runs(service, principal.tenant_id),
    }
    return render(request, "fragments/signals_run.html", context)


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise InputError(f"{name} must be a number, got {text!r}") from exc
    if value < 0:
        raise InputError(f"{name} must not be negative")
    return value


@router.get("/ui/signals/runs/{run_id}/signals")
def signals_table(
    run_id: str,
    request: Request,
    drug: str = Query("", max_length=200),
    event: str = Query("", max_length=200),
    min_eb05: str = Query("", max_length=20),
    alert_level: str = Query("", pattern="^(|high|medium|low|none)$"),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    service = load_domain("signals")
    page = service.list_signals(
        principal.tenant_id,
        run_id,
        drug=drug.strip() or None,
        event=event.strip() or None,
        min_eb05=_number(min_eb05, "minimum EB05"),
        alert_level=alert_level or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    filters = {"drug": drug, "event": event, "min_eb05": min_eb05, "alert_level": alert_level}
    context = {"page": page, "filters": filters, "run_id": run_id, "page_size": PAGE_SIZE}
    return render(request, "fragments/signals_table.html", context)


@router.get("/ui/signals/runs/{run_id}/pair")
def pair_detail(
    run_id: str,
    request: Request,
    drug: str = Query(..., min_length=1, max_length=200),
    event: str = Query(..., min_length=1, max_length=200),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    service = load_domain("signals")
    detail = service.pair_detail(principal.tenant_id, run_id, drug, event)
    signal = detail.signal
    chart = None
    if detail.trend:
        chart = trend_chart(
            [point.model_dump() for point in detail.trend],
            title=f"Cumulative information component of {signal.drug} and {signal.event} by period, "
            "with its lower 2.5% credibility bound and new reports per period",
        )
    return render(request, "fragments/signals_pair.html", {"detail": detail, "s": signal, "chart": chart})
