"""Signals console: upload a case or count table, follow the scoring job, filter ranked signals, open
one drug-event pair with its cumulative-IC trend, case series and time to onset, see what changed since
the source's previous run, and compare runs of several sources (consensus). All work is the signals
domain's (`service` and `case_service`), tenant-scoped by the caller's principal."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.core.errors import Conflict, InputError
from hygeia.web import session
from hygeia.web.pages.admin import delete_job_for
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render
from hygeia.web.svg import trend_chart

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
ALERT_LEVELS = ("high", "medium", "low", "none")
PAGE_SIZE = 25
CHANGE_KINDS = ("new", "escalated", "de-escalated", "ended")
PairName = Annotated[str, Query(min_length=1, max_length=300)]  # a drug or event name, any case


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
    context["finished_runs"] = []  # the runs a consensus can compare
    if service is not None:
        context["runs"] = _runs(service, principal.tenant_id)
        if run:
            context["run"] = service.run_status(principal.tenant_id, run)
        context["finished_runs"] = [job for job in context["runs"] if job.status == jobs.SUCCEEDED]
    return render(request, "pages/signals.html", context)


@router.post("/ui/signals/runs", dependencies=[Depends(session.same_origin)])
async def submit_run(
    request: Request,
    file: UploadFile = File(...),
    input_format: str = Form("cases", alias="format", pattern="^(cases|counts|faers)$"),
    strata: str = Form("", max_length=500),
    fit: str = Form("consistent", pattern="^(consistent|global)$"),
    known: UploadFile | None = File(None),
    source: str = Form("", max_length=200),
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
        source=source.strip() or file.filename,
    )
    return _run_fragment(request, service, principal, job.id)


@router.post("/ui/signals/runs/{run_id}/delete", dependencies=[Depends(session.same_origin)])
def delete_run(
    run_id: str, request: Request, principal: Principal = Depends(session.console_role("analyst"))
) -> Response:
    """A finished run with its upload and ranked table, as DELETE /api/v1/jobs/{id}; audited."""
    service = load_domain("signals")
    delete_job_for(request, principal, run_id)
    context = {
        "runs": _runs(service, principal.tenant_id),
        "notice": f"Deleted run {run_id[:8]} and its files.",
    }
    return render(request, "fragments/signals_runs.html", context)


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


@router.get("/ui/signals/runs/{run_id}/cases")
def pair_cases(
    run_id: str,
    request: Request,
    drug: PairName,
    event: PairName,
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    """The reports behind a pair, a page at a time; a run with no case reports says why instead."""
    cases = load_domain("signals", "case_service")
    context: dict[str, Any] = {"run_id": run_id, "drug": drug, "event": event, "page_size": PAGE_SIZE}
    try:
        page = cases.case_page(principal.tenant_id, run_id, drug, event, limit=PAGE_SIZE, offset=offset)
    except Conflict as exc:  # scored from a count table, or not finished: nothing to list, say why
        return render(request, "fragments/signals_cases.html", {**context, "page": None, "why": exc.detail})
    fields = list(dict.fromkeys(name for item in page.items for name in item.fields))
    return render(request, "fragments/signals_cases.html", {**context, "page": page, "fields": fields})


@router.get("/ui/signals/runs/{run_id}/cases.csv")
def pair_cases_csv(
    run_id: str,
    background: BackgroundTasks,
    drug: PairName,
    event: PairName,
    principal: Principal = Depends(session.console_principal),
) -> FileResponse:
    """The pair's whole case series as the API's spreadsheet-safe CSV, for the console's download link."""
    cases = load_domain("signals", "case_service")
    folder = Path(tempfile.mkdtemp(prefix="signals-console-cases-"))
    try:
        path = cases.export_cases(principal.tenant_id, run_id, drug, event, folder / "cases.csv")
    except Exception:  # an error page carries no background task: remove the folder now
        shutil.rmtree(folder, True)
        raise
    background.add_task(shutil.rmtree, folder, True)
    return FileResponse(path, media_type="text/csv", filename=f"cases-{run_id[:8]}.csv")


@router.get("/ui/signals/runs/{run_id}/onset")
def pair_onset(
    run_id: str,
    request: Request,
    drug: PairName,
    event: PairName,
    principal: Principal = Depends(session.console_principal),
) -> Response:
    cases = load_domain("signals", "case_service")
    try:
        onset = cases.onset(principal.tenant_id, run_id, drug, event)
    except Conflict as exc:
        return render(request, "fragments/signals_onset.html", {"onset": None, "why": exc.detail})
    return render(request, "fragments/signals_onset.html", {"onset": onset})


@router.get("/ui/signals/runs/{run_id}/changes")
def alert_changes(
    run_id: str,
    request: Request,
    change: str = Query("", pattern="^(|new|escalated|de-escalated|ended)$"),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    """What is new, escalated, de-escalated or ended since the previous run of the run's source."""
    cases = load_domain("signals", "case_service")
    history = cases.alert_changes(
        principal.tenant_id, run_id, change=change or None, limit=PAGE_SIZE, offset=offset
    )
    context = {"h": history, "change": change, "kinds": CHANGE_KINDS, "page_size": PAGE_SIZE}
    return render(request, "fragments/signals_changes.html", context)


@router.get("/ui/signals/consensus")
def consensus(
    request: Request,
    run: list[str] = Query([], max_length=10),
    min_sources: int = Query(2, ge=1, le=10),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(session.console_principal),
) -> Response:
    """Pairs by how many of the chosen runs (sources) flag them; fewer than two runs is explained."""
    cases = load_domain("signals", "case_service")
    result = cases.consensus(
        principal.tenant_id, run, min_sources=min_sources, limit=PAGE_SIZE, offset=offset
    )
    context = {"c": result, "min_sources": min_sources, "page_size": PAGE_SIZE}
    return render(request, "fragments/signals_consensus.html", context)
