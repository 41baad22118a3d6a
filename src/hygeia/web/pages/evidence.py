"""Evidence console: hybrid search with linked entities and cited, ranked documents, and drug
repurposing (candidate indications) as the domain's background job, exported as JSON or HTML. Votes on
a document or a candidate re-fit the tenant's evidence weights through
`hygeia.evidence.service.record_feedback`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.core.errors import NotFound
from hygeia.web import session
from hygeia.web.pages.evidence_paths import path_graph
from hygeia.web.render import SECURITY_HEADERS, ConsoleRoute, domain_state, load_domain, render, templates

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
templates.env.globals["evidence_path_graph"] = path_graph
EVIDENCE_TYPES = ("literature", "clinical_trial", "approval", "curated_indication", "knowledge_graph")
VOTE_WORDS = {"up": "relevant", "down": "not relevant", "flag": "flagged for review"}
CANDIDATE_VOTE_WORDS = {"up": "plausible", "down": "not plausible", "flag": "flagged for review"}
# The readable report is a standalone page with its own inline <style> and no script at all.
REPORT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
}


@router.get("/evidence")
def evidence_page(request: Request, _: Principal = Depends(session.console_principal)) -> Response:
    _service, reason = domain_state("evidence")
    context = {"active": "evidence", "reason": reason, "types": EVIDENCE_TYPES}
    return render(request, "pages/evidence.html", context)


@router.get("/ui/evidence/search")
def search(
    request: Request,
    query: str = Query("", max_length=1000),
    mode: str = Query("hybrid", pattern="^(hybrid|bm25|dense)$"),
    k: int = Query(10, ge=1, le=100),
    types: list[str] = Query(default=[]),
    _: Principal = Depends(session.console_principal),
) -> Response:
    service = load_domain("evidence")
    schemas = load_domain("evidence", "schemas")
    body = schemas.SearchRequest(query=query.strip(), k=k, mode=mode, types=types or None)
    result = service.search(body)
    return render(request, "fragments/evidence_results.html", {"result": result})


@router.post("/ui/evidence/feedback", dependencies=[Depends(session.same_origin)])
def feedback(
    request: Request,
    vote: str = Form(..., pattern="^(up|down|flag)$"),
    doc_id: str = Form("", max_length=200),
    drug_id: str = Form("", max_length=200),
    disease_id: str = Form("", max_length=200),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    """A vote on a document (doc_id) or a candidate (drug_id + disease_id); the domain's
    FeedbackRequest refuses anything else, which the console shows as a 422."""
    service = load_domain("evidence")
    schemas = load_domain("evidence", "schemas")
    body = schemas.FeedbackRequest(
        vote=vote, doc_id=doc_id or None, drug_id=drug_id or None, disease_id=disease_id or None
    )
    recorded = service.record_feedback(principal, body)
    words = VOTE_WORDS if recorded.target == "document" else CANDIDATE_VOTE_WORDS
    context = {"recorded": recorded, "vote": words[vote], "doc_id": doc_id}
    return render(request, "fragments/evidence_feedback.html", context)


@router.post("/ui/evidence/index", dependencies=[Depends(session.same_origin)])
def build_index(
    request: Request,
    lexical_only: bool = Form(False),
    principal: Principal = Depends(session.platform_admin),
) -> Response:
    """Start the shared index build from the banner (platform administrators only)."""
    service = load_domain("evidence")
    schemas = load_domain("evidence", "schemas")
    job = service.submit_index_build(principal, schemas.IndexBuildRequest(lexical_only=lexical_only))
    return render(request, "fragments/evidence_build.html", {"job": job})


@router.get("/ui/evidence/index/{job_id}")
def build_status(
    job_id: str, request: Request, principal: Principal = Depends(session.platform_admin)
) -> Response:
    """The build's progress; the fragment asks for itself again until the job has finished."""
    job = jobs.get_job(principal.tenant_id, job_id)
    return render(request, "fragments/evidence_build.html", {"job": job})


@router.post("/ui/evidence/repurpose", dependencies=[Depends(session.same_origin)])
def repurpose(
    request: Request,
    query: str = Form(..., max_length=2000),
    k: int = Form(20, ge=1, le=200),
    exclude_known: bool = Form(False),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    """Start the same job POST /api/v1/evidence/repurpose starts; a missing index is a 503 now."""
    service = load_domain("evidence")
    schemas = load_domain("evidence", "schemas")
    body = schemas.RepurposeRequest(query=query.strip(), k=k, exclude_known=exclude_known)
    job = service.submit_repurpose(principal, body)
    return _repurpose_fragment(request, jobs.get_job(principal.tenant_id, job.id))


@router.get("/ui/evidence/reports/{job_id}.json")
def report_json(job_id: str, principal: Principal = Depends(session.console_principal)) -> Response:
    """The finished result as a download; `report` is tenant-checked (another tenant's id is a 404)
    and refuses a job that has not succeeded (409)."""
    result = load_domain("evidence").report(principal.tenant_id, job_id)
    disposition = {"Content-Disposition": f'attachment; filename="repurposing-{job_id}.json"'}
    return JSONResponse(result.model_dump(mode="json"), headers={**SECURITY_HEADERS, **disposition})


@router.get("/ui/evidence/reports/{job_id}.html")
def report_html(job_id: str, principal: Principal = Depends(session.console_principal)) -> Response:
    """The same result as the domain's standalone, printable page (inline style, no script)."""
    result = load_domain("evidence").report(principal.tenant_id, job_id)
    return HTMLResponse(load_domain("evidence", "report").render_html(result), headers=REPORT_HEADERS)


@router.get("/ui/evidence/reports/{job_id}")
def repurpose_status(
    job_id: str, request: Request, principal: Principal = Depends(session.console_principal)
) -> Response:
    """The job's progress, then its candidates; the fragment asks for itself again until the job
    has finished. Declared after the .json and .html routes, which would otherwise be taken for ids."""
    return _repurpose_fragment(request, jobs.get_job(principal.tenant_id, job_id))


def _repurpose_fragment(request: Request, job: jobs.JobInfo) -> Response:
    service = load_domain("evidence")
    if job.kind != service.JOB_KIND:
        raise NotFound(f"job {job.id!r} is not a repurposing job")
    result = None
    if job.status == jobs.SUCCEEDED and job.result is not None:
        result = load_domain("evidence", "schemas").RepurposeResult.model_validate(job.result)
    return render(request, "fragments/evidence_repurpose.html", {"job": job, "result": result})
