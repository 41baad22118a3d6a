"""Sign in, sign out and the dashboard (capabilities with their reasons, production models, jobs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from hygeia.core import audit, jobs
from hygeia.core.auth import Principal
from hygeia.core.errors import ProblemError
from hygeia.core.registry import PRODUCTION, get_registry
from hygeia.core.tools import capability_status
from hygeia.settings import ALL_DOMAINS
from hygeia.web import session
from hygeia.web.render import ConsoleRoute, domain_state, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

DOMAIN_SUMMARIES = {
    "toxicity": "Tox21 assay endpoints for molecules, with applicability domain and highlighted atoms.",
    "signals": "Pharmacovigilance disproportionality (PRR, ROR, IC, EBGM) from adverse-event reports.",
    "dermatology": "Dermatoscopic lesion triage with calibrated probabilities and Grad-CAM.",
    "evidence": "Cited evidence search over literature, trials and curated indications.",
    "agents": "Question answering that routes to the other capabilities and cites its sources.",
}


def _signed_in(request: Request) -> Principal | None:
    try:
        return session.console_principal(request)
    except (session.LoginRequired, ProblemError):
        return None


@router.get("/login")
def login_page(
    request: Request, next: str = Query("/", max_length=2000), reason: str = Query("", max_length=200)
) -> Response:
    if _signed_in(request) is not None:
        return RedirectResponse(session.safe_next(next), status_code=303)
    return render(request, "pages/login.html", {"next": session.safe_next(next), "reason": reason})


@router.post("/login", dependencies=[Depends(session.same_origin)])
def login(
    request: Request, api_key: str = Form("", max_length=2000), next: str = Form("/", max_length=2000)
) -> Response:
    target = session.safe_next(next)
    key = api_key.strip()
    if not key:
        return render(
            request, "pages/login.html", {"next": target, "error": "Enter your API key."}, status_code=422
        )
    response = RedirectResponse(target, status_code=303)
    try:
        principal = session.start_session(request, response, key)
    except ProblemError as exc:
        if exc.status in (401, 403):
            audit.record_denied(request, exc.status, f"console sign-in: {exc.detail or exc.title}")
        context = {"next": target, "error": f"Sign-in failed: {exc.detail or exc.title}."}
        return render(request, "pages/login.html", context, status_code=exc.status)
    audit.record(principal, "console.sign_in", detail={"key_id": principal.key_id})
    return response


@router.post("/logout", dependencies=[Depends(session.same_origin)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login?reason=" + "signed%20out", status_code=303)
    session.end_session(request, response)
    return response


def _capabilities() -> list[dict[str, Any]]:
    """Each domain's availability (import + capability check) and any other registered capability."""
    rows: list[dict[str, Any]] = []
    for domain in ALL_DOMAINS:
        _, reason = domain_state(domain)
        rows.append(
            {
                "name": domain,
                "href": f"/{domain}",
                "summary": DOMAIN_SUMMARIES[domain],
                "available": reason is None,
                "reason": reason,
            }
        )
    for name, status in capability_status().items():
        if name not in ALL_DOMAINS:
            rows.append({"name": name, "href": None, "summary": "", **status})
    return rows


@router.get("/")
def dashboard(request: Request, principal: Principal = Depends(session.console_principal)) -> Response:
    production = [row for row in get_registry().versions() if row.stage == PRODUCTION]
    context = {
        "active": "dashboard",
        "capabilities": _capabilities(),
        "models": production,
        "jobs": jobs.list_jobs(principal.tenant_id, 8),
    }
    return render(request, "pages/dashboard.html", context)
