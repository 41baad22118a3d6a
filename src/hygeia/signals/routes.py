"""HTTP layer of the signals domain: submit a scoring run, follow it, query ranked signals."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse

from hygeia.core.auth import Analyst, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES
from hygeia.signals import case_service, pair_service, service
from hygeia.signals.schemas import (
    AlertChanges,
    AlertLevel,
    CasePage,
    ChangeKind,
    Consensus,
    PairDetail,
    PairScoreRequest,
    PairScoreResponse,
    RunStatus,
    RunSubmitted,
    SignalPage,
    TimeToOnsetOut,
)

PairDrug = Annotated[str, Query(min_length=1, max_length=300, description="drug name, any case")]
PairEvent = Annotated[str, Query(min_length=1, max_length=300, description="event term, any case")]
router = APIRouter(prefix="/api/v1/signals", tags=["signals"], responses=PROBLEM_RESPONSES)


def _current_run(run_id: str, principal: Viewer) -> RunStatus:
    """The caller's signal run named in the path: 404 for another tenant's run or another job kind."""
    return service.run_status(principal.tenant_id, run_id)


# Dispatch's CurrentIncident: a route that is about one run says so in its signature
CurrentRun = Annotated[RunStatus, Depends(_current_run)]


@router.post(
    "/runs", response_model=RunSubmitted, status_code=202, summary="Score a report file (background job)"
)
async def submit_run(
    principal: Analyst,
    file: UploadFile = File(
        ...,
        description="cases: CSV id,drug,event[,strata][,serious,death,quarter]; counts: drug,event,n; "
        "faers: a zip of one quarter's FAERS ASCII tables, or a FAERS XML (E2B) file",
    ),
    strata: list[str] = Query(default=[], description="columns to stratify the expected counts by"),
    input_format: str = Query("cases", alias="format", pattern="^(cases|counts|faers)$"),
    digits: int | None = Query(2, ge=0, le=12, description="EBGM/EB05/EB95 rounding; omit for openEBGM's 2"),
    fit: str = Query(
        "consistent",
        pattern="^(consistent|global)$",
        description="MGPS prior: 'consistent' = openEBGM autoHyper's rule (an estimate another start "
        "agrees with); 'global' = best single-start likelihood. The summary's fit section says which "
        "chose it, how many starts agreed and the alternatives' likelihoods.",
    ),
    known: UploadFile | None = File(
        None, description="optional CSV of labelled (known) drug,event pairs: novelty 0.25 for these"
    ),
    source: str | None = Query(
        None,
        max_length=200,
        description="the data's name (e.g. FAERS, safety-db); default the file name. Runs of one source "
        "form the alert history: /runs/{run_id}/changes compares a run with the previous one",
    ),
) -> RunSubmitted:
    content = await file.read()
    job = service.submit_run(
        principal,
        content,
        strata=strata,
        digits=digits,
        input_format=input_format,
        fit_rule=fit,
        known=await known.read() if known is not None else None,
        source=source or file.filename,
    )
    return RunSubmitted(run_id=job.id, status=job.status)


@router.get("/runs/{run_id}", response_model=RunStatus, summary="Progress, and the summary once finished")
def run_status(run: CurrentRun) -> RunStatus:
    return run


@router.get("/runs/{run_id}/signals", response_model=SignalPage, summary="Ranked signals with filters")
def list_signals(
    run_id: str,
    principal: Viewer,
    drug: str | None = None,
    event: str | None = None,
    min_eb05: float | None = Query(None, ge=0),
    alert_level: AlertLevel | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> SignalPage:
    return service.list_signals(
        principal.tenant_id,
        run_id,
        drug=drug,
        event=event,
        min_eb05=min_eb05,
        alert_level=alert_level,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/runs/{run_id}/signals.csv",
    response_class=FileResponse,
    summary="The ranked signals as CSV (spreadsheet-safe: formula-like cells are neutralised)",
)
def export_signals(run_id: str, background: BackgroundTasks, principal: Viewer) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="signals-export-"))
    path = service.export_signals(principal.tenant_id, run_id, folder / "signals.csv")
    background.add_task(shutil.rmtree, folder, True)
    return FileResponse(path, media_type="text/csv", filename=f"signals-{run_id[:8]}.csv")


@router.get("/runs/{run_id}/pair", response_model=PairDetail, summary="One drug-event pair with its trend")
def pair_detail(
    run_id: str,
    principal: Viewer,
    drug: str = Query(..., min_length=1),
    event: str = Query(..., min_length=1),
) -> PairDetail:
    return service.pair_detail(principal.tenant_id, run_id, drug, event)


@router.get(
    "/runs/{run_id}/cases",
    response_model=CasePage,
    summary="The reports behind a drug-event pair (case series), one per report, paged",
)
def pair_cases(
    run_id: str,
    principal: Viewer,
    drug: PairDrug,
    event: PairEvent,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> CasePage:
    return case_service.case_page(principal.tenant_id, run_id, drug, event, limit=limit, offset=offset)


@router.get(
    "/runs/{run_id}/cases.csv",
    response_class=FileResponse,
    summary="The pair's whole case series as CSV (spreadsheet-safe), for an escalation",
)
def export_pair_cases(
    run_id: str,
    background: BackgroundTasks,
    principal: Viewer,
    drug: PairDrug,
    event: PairEvent,
) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="signals-cases-"))
    path = case_service.export_cases(principal.tenant_id, run_id, drug, event, folder / "cases.csv")
    background.add_task(shutil.rmtree, folder, True)
    return FileResponse(path, media_type="text/csv", filename=f"cases-{run_id[:8]}.csv")


@router.get(
    "/runs/{run_id}/onset",
    response_model=TimeToOnsetOut,
    summary="Time to onset of a drug-event pair, where the upload has start and event dates",
)
def pair_onset(
    run_id: str,
    principal: Viewer,
    drug: PairDrug,
    event: PairEvent,
) -> TimeToOnsetOut:
    return case_service.onset(principal.tenant_id, run_id, drug, event)


@router.get(
    "/runs/{run_id}/changes",
    response_model=AlertChanges,
    summary="Alert history: pairs new, escalated, de-escalated or ended since the source's previous run",
)
def alert_changes(
    run_id: str,
    principal: Viewer,
    change: ChangeKind | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> AlertChanges:
    return case_service.alert_changes(principal.tenant_id, run_id, change=change, limit=limit, offset=offset)


@router.get(
    "/consensus",
    response_model=Consensus,
    summary="Cross-source consensus: pairs by how many of 2-10 runs (sources) flag them",
)
def consensus(
    principal: Viewer,
    run: list[str] = Query(
        ..., description="two to ten finished run ids of this tenant, e.g. FAERS and a safety DB"
    ),
    min_sources: int = Query(2, ge=1, le=10, description="keep pairs alerting in at least this many runs"),
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> Consensus:
    return case_service.consensus(
        principal.tenant_id, run, min_sources=min_sources, limit=limit, offset=offset
    )


@router.post(
    "/score",
    response_model=PairScoreResponse,
    response_model_exclude_none=False,
    summary="Score one pair or a small count table now (PRR, ROR, IC, EBGM, alert, priority)",
)
def score_pairs(request: PairScoreRequest, principal: Viewer) -> PairScoreResponse:
    return pair_service.score_pair_counts(
        principal.tenant_id,
        [p.model_dump() for p in request.pairs],
        n_total=request.n_total,
        prior=None if request.prior is None else request.prior.model_dump(),
        run_id=request.run_id,
        digits=request.digits,
    )
