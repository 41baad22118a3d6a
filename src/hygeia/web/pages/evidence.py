"""Evidence console: hybrid search with linked entities and cited, ranked documents; votes on a
document re-fit the tenant's evidence weights through `hygeia.evidence.service.record_feedback`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
EVIDENCE_TYPES = ("literature", "clinical_trial", "approval", "curated_indication")
VOTE_WORDS = {"up": "relevant", "down": "not relevant", "flag": "flagged for review"}


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
    doc_id: str = Form(..., min_length=1, max_length=200),
    vote: str = Form(..., pattern="^(up|down|flag)$"),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    service = load_domain("evidence")
    schemas = load_domain("evidence", "schemas")
    recorded = service.record_feedback(principal, schemas.FeedbackRequest(vote=vote, doc_id=doc_id))
    context = {"recorded": recorded, "vote": VOTE_WORDS[vote], "doc_id": doc_id}
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
