"""HTTP layer for evidence search and drug repurposing; the work is in service.py."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from hygeia.core.auth import Analyst, PlatformAdmin, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES
from hygeia.core.schemas import JobOut
from hygeia.evidence import drift, service
from hygeia.evidence.report import render_html
from hygeia.evidence.schemas import (
    FeedbackRequest,
    FeedbackResponse,
    FeedbackStats,
    IndexBuildRequest,
    JobFeedback,
    RepurposeRequest,
    RepurposeResult,
    SearchRequest,
    SearchResponse,
)

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"], responses=PROBLEM_RESPONSES)


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, principal: Viewer) -> SearchResponse:
    """Hybrid BM25 + dense (RRF) search over cited evidence, with drug/disease entity linking."""
    response = service.search(body)
    drift.observe_search(response.entities)  # the query mix, per tenant (core drift monitor)
    return response


@router.post("/repurpose", response_model=JobOut, status_code=202)
def repurpose(body: RepurposeRequest, principal: Analyst) -> JobOut:
    """Start a job ranking candidate indications; poll GET /api/v1/jobs/{id}, export via /reports/{id}."""
    return JobOut(**vars(service.submit_repurpose(principal, body)))


@router.post("/index", response_model=JobOut, status_code=202)
def build_index(body: IndexBuildRequest, principal: PlatformAdmin) -> JobOut:
    """(Re)build the shared evidence index from DATA_DIR/evidence as a background job with progress;
    searches keep using the previous index until the new one is complete."""
    return JobOut(**vars(service.submit_index_build(principal, body)))


@router.post("/feedback", response_model=FeedbackResponse, status_code=201)
def feedback(body: FeedbackRequest, principal: Analyst) -> FeedbackResponse:
    """Upvote, downvote or flag a candidate or a document; re-fits this tenant's evidence weights."""
    return service.record_feedback(principal, body)


@router.get("/feedback/stats", response_model=FeedbackStats)
def feedback_stats(principal: Viewer) -> FeedbackStats:
    """This tenant's votes by target and vote, and how they moved its weights from the prior."""
    return service.feedback_stats(principal.tenant_id)


@router.get("/feedback/job/{job_id}", response_model=JobFeedback)
def job_feedback(job_id: str, principal: Viewer) -> JobFeedback:
    """The votes this tenant cast on one finished repurposing job's candidates and citations."""
    return service.job_feedback(principal.tenant_id, job_id)


@router.get("/reports/{job_id}", response_model=RepurposeResult)
def report(
    job_id: str,
    principal: Viewer,
    format: Literal["json", "html"] = Query("json"),
) -> JSONResponse | HTMLResponse:
    """A finished repurposing job as JSON (download) or a readable HTML page."""
    result = service.report(principal.tenant_id, job_id)
    if format == "html":
        return HTMLResponse(render_html(result))
    return JSONResponse(
        result.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="repurposing-{job_id}.json"'},
    )
