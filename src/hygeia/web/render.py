"""Rendering for the console: templates, HTML problem pages, and the route class that turns every
failure (problem, validation, unexpected) into readable HTML instead of JSON or a stack trace."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from hygeia import __version__
from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.errors import AUDITED_DENIALS, CapabilityUnavailable, ProblemError
from hygeia.core.tools import capability_status
from hygeia.settings import get_settings
from hygeia.web import session

log = structlog.get_logger("hygeia.web")
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["hygeia_version"] = __version__


def web_url(value: object) -> str:
    """Only http(s) links from data reach an href; anything else (javascript:, data:) renders as ''."""
    text = str(value or "")
    return text if urlsplit(text).scheme in ("http", "https") else ""


templates.env.filters["web_url"] = web_url

NAV = [
    ("dashboard", "/", "Dashboard"),
    ("toxicity", "/toxicity", "Toxicity"),
    ("signals", "/signals", "Signals"),
    ("dermatology", "/dermatology", "Dermatology"),
    ("evidence", "/evidence", "Evidence"),
    ("agents", "/agents", "Agents"),
    ("models", "/models", "Models"),
    ("admin", "/admin", "Admin"),
]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _base_context(request: Request) -> dict[str, Any]:
    principal: Principal | None = getattr(request.state, "principal", None)
    return {
        "principal": principal,
        "nav": NAV,
        "can_run": bool(principal and session.has_role(principal, "analyst")),
        "is_admin": bool(principal and principal.role == "admin"),
        "is_platform_admin": bool(principal and session.is_platform_admin(principal)),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    merged = {**_base_context(request), **(context or {})}
    response = templates.TemplateResponse(
        request, template, merged, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )
    return response


def problem_html(
    request: Request,
    status: int,
    title: str,
    detail: str = "",
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    """The problem+json fields, as HTML: a fragment for htmx, a full page otherwise."""
    problem = {
        "status": status,
        "title": title,
        "detail": detail,
        "errors": errors or [],
        "request_id": getattr(request.state, "request_id", None),
        "unavailable": status == 503,
    }
    template = "fragments/problem.html" if is_htmx(request) else "pages/error.html"
    return render(request, template, {"problem": problem, "active": ""}, status, headers)


def _login_redirect(request: Request, reason: str) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if is_htmx(request) and request.headers.get("hx-current-url"):
        page = urlsplit(request.headers["hx-current-url"])  # back to the page, not the fragment
        target = session.safe_next(page.path + (f"?{page.query}" if page.query else ""))
    location = "/login?next=" + quote(target, safe="/")
    if reason:
        location += "&reason=" + quote(reason[:200])
    if is_htmx(request):
        return problem_html(
            request, 401, "Signed out", reason or "please sign in", headers={"HX-Redirect": location}
        )
    if request.method != "GET":
        return problem_html(request, 401, "Signed out", reason or "please sign in again")
    return RedirectResponse(location, status_code=303)


def _validation_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": " / ".join(str(p) for p in err.get("loc", ()) if p != "body"), "msg": str(err.get("msg", ""))}
        for err in exc.errors()
    ]


class ConsoleRoute(APIRoute):
    """Every console route: failures become HTML (never JSON, never a traceback) with the request id."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except session.LoginRequired as exc:
                return _login_redirect(request, exc.reason)
            except ProblemError as exc:
                if exc.status in AUDITED_DENIALS:  # as the API's: denied:403 with caller and route
                    audit.record_denied(request, exc.status, exc.detail or exc.title)
                return problem_html(request, exc.status, exc.title, exc.detail, headers=exc.headers)
            except (RequestValidationError, ValidationError) as exc:
                errors = _validation_errors(exc)
                return problem_html(request, 422, "Invalid input", "check the form fields", errors=errors)
            except HTTPException as exc:
                return problem_html(request, exc.status_code, "Request refused", str(exc.detail))
            except Exception as exc:
                log.error("console_error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
                return problem_html(
                    request, 500, "Internal server error", "the error was logged with this request id"
                )

        return route


def _toxicity_modules() -> dict[str, ModuleType]:
    import hygeia.toxicity as package
    from hygeia.toxicity import io, schemas, screen, service

    return {"": package, "io": io, "schemas": schemas, "screen": screen, "service": service}


def _signals_modules() -> dict[str, ModuleType]:
    from hygeia.signals import case_service, service

    return {"service": service, "case_service": case_service}


def _dermatology_modules() -> dict[str, ModuleType]:
    from hygeia.dermatology import card, dataset, images, lifecycle, service

    return {"card": card, "dataset": dataset, "images": images, "lifecycle": lifecycle, "service": service}


def _evidence_modules() -> dict[str, ModuleType]:
    from hygeia.evidence import report, schemas, service

    return {"report": report, "schemas": schemas, "service": service}


def _agents_modules() -> dict[str, ModuleType]:
    from hygeia.agents import schemas, service

    return {"schemas": schemas, "service": service}


# The domain modules console pages may use, imported explicitly (never by a computed name) and only
# when a page asks, so a switched-off domain is never imported by the console.
CONSOLE_DOMAIN_MODULES: dict[str, Callable[[], dict[str, ModuleType]]] = {
    "toxicity": _toxicity_modules,
    "signals": _signals_modules,
    "dermatology": _dermatology_modules,
    "evidence": _evidence_modules,
    "agents": _agents_modules,
}


def load_domain(domain: str, module: str = "service") -> ModuleType:
    """One of a domain's modules for a console page (`module=""`: the package itself); a missing,
    switched-off or broken domain is a 503 with the reason."""
    if domain not in get_settings().domains:
        raise CapabilityUnavailable(domain, f"the {domain} domain is switched off here (HYGEIA_DOMAINS)")
    try:
        modules = CONSOLE_DOMAIN_MODULES[domain]()
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith(f"hygeia.{domain}"):
            raise CapabilityUnavailable(
                domain, f"the {domain} domain is not part of this build yet (no {exc.name} module)"
            ) from exc
        raise CapabilityUnavailable(
            domain, f"the {domain} domain needs {exc.name!r}, which is not installed"
        ) from exc
    except Exception as exc:  # a half-built domain must not take the console down
        log.error("domain_import_failed", domain=domain, error=type(exc).__name__, exc_info=exc)
        raise CapabilityUnavailable(
            domain, f"the {domain} domain failed to load ({type(exc).__name__})"
        ) from exc
    return modules[module]


def domain_state(domain: str, module: str = "service") -> tuple[ModuleType | None, str | None]:
    """(module, None) when the domain can serve; (module or None, reason) when it cannot."""
    try:
        loaded = load_domain(domain, module)
    except CapabilityUnavailable as exc:
        return None, exc.detail
    for name, status in capability_status().items():
        if (name == domain or name.startswith(domain + ".")) and not status["available"]:
            return loaded, f"{name}: {status['reason']}"
    return loaded, None
