"""Console sessions: an API key typed once, kept in an HttpOnly SameSite=Strict cookie; CSRF checks.

With a JWT secret configured the cookie holds a short-lived token minted from the key (revoking the key
ends it); without one it holds the key itself, which the browser never exposes to scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from hygeia.core.auth import (
    ROLE_RANK,
    Forbidden,
    Principal,
    authenticate,
    authenticate_from,
    charge,
    client_address,
    issue_jwt,
)
from hygeia.core.errors import ProblemError
from hygeia.settings import get_settings

SESSION_COOKIE = "hygeia_session"


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, fragments ask htmx to do so."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or "please sign in")
        self.reason = reason


class CrossSiteRequest(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "Cross-site request refused",
            "console actions must come from the console itself (htmx request or same-origin form)",
        )


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def start_session(request: Request, response: Response, api_key: str) -> Principal:
    """Check the key (401 problem if unknown or revoked; 429 after many failures) and set the cookie."""
    principal = authenticate_from(client_address(request), api_key)
    credential, max_age = api_key, None
    if get_settings().jwt_secret is not None:
        credential, max_age = issue_jwt(principal)
    response.set_cookie(
        SESSION_COOKIE,
        credential,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return principal


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )


def console_principal(request: Request) -> Principal:
    """FastAPI dependency: the signed-in principal, rate-limited like any API caller."""
    credential = request.cookies.get(SESSION_COOKIE)
    if not credential:
        raise LoginRequired()
    try:
        principal = authenticate(credential)
    except ProblemError as exc:
        raise LoginRequired(exc.detail or exc.title) from exc
    request.state.principal = principal
    charge(request, principal)
    return principal


def has_role(principal: Principal, minimum: str) -> bool:
    return ROLE_RANK[principal.role] >= ROLE_RANK[minimum]


def is_platform_admin(principal: Principal) -> bool:
    return principal.role == "admin" and principal.tenant_id == get_settings().platform_tenant


def console_role(minimum: str) -> Callable[..., Principal]:
    """Dependency: the principal if its role is at least `minimum`, else a 403 problem."""

    def dependency(principal: Principal = Depends(console_principal)) -> Principal:
        if not has_role(principal, minimum):
            raise Forbidden(f"this needs the {minimum} role; you are signed in as {principal.role}")
        return principal

    return dependency


def platform_admin(principal: Principal = Depends(console_role("admin"))) -> Principal:
    if not is_platform_admin(principal):
        raise Forbidden("only administrators of the platform tenant promote or roll back models")
    return principal


def same_origin(request: Request) -> None:
    """CSRF guard for state-changing requests: htmx's header, or an Origin naming this very host.

    A cross-site page can neither add HX-Request (it would need a CORS preflight that is refused) nor
    forge Origin; the SameSite=Strict cookie is a second, independent line.
    """
    if request.headers.get("hx-request") == "true":
        return
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if origin and host and origin != "null" and urlsplit(origin).netloc.lower() == host.lower():
        return
    raise CrossSiteRequest()


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login, never another site (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
