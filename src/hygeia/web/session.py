"""Console sessions: an API key typed once, a server-side session behind an HttpOnly cookie; CSRF checks.

The cookie holds a random token; the database holds its sha256, the key it acts for and when it ends.
Sign-out, revoking the key or expiry end the session on the server, so a copied cookie is worthless
afterwards; the cookie never holds the API key or a token that outlives sign-out.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from hygeia.core.auth import (
    CURRENT_TENANT,
    ROLE_RANK,
    Forbidden,
    Principal,
    Unauthorized,
    authenticate_from,
    bind_principal,
    client_address,
    hash_key,
    principal_for_key,
)
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.errors import ProblemError
from hygeia.core.tables import ConsoleSession
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
    """Check the key (401 if unknown or revoked; 429 after many failures) and open a session."""
    principal = authenticate_from(client_address(request), api_key)
    if not principal.key_id:
        raise Unauthorized("sign in with an API key")
    token, lifetime = secrets.token_urlsafe(32), get_settings().console_session_seconds
    with tenant_session(principal.tenant_id) as session:
        session.add(
            ConsoleSession(
                id=hash_key(token), key_id=principal.key_id, expires_at=utcnow() + timedelta(seconds=lifetime)
            )
        )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return principal


def end_session(request: Request, response: Response) -> None:
    """Sign-out: the session ends on the server, then the cookie is cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with system_session() as session:
            row = session.get(ConsoleSession, hash_key(token))
            if row is not None and row.ended_at is None:
                row.ended_at = utcnow()
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )


def _session_principal(token: str) -> Principal:
    with system_session() as session:
        row = session.get(ConsoleSession, hash_key(token))
        if row is None or row.ended_at is not None:
            raise Unauthorized("your session has ended; please sign in again")
        if _aware(row.expires_at) <= utcnow():
            raise Unauthorized("your session has expired; please sign in again")
        key_id = row.key_id
    return principal_for_key(key_id)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def console_principal(request: Request) -> Principal:
    """FastAPI dependency: the signed-in principal, rate-limited like any API caller."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        principal = _session_principal(token)
    except ProblemError as exc:
        raise LoginRequired(exc.detail or exc.title) from exc
    bind_principal(request, principal)
    return principal


def has_role(principal: Principal, minimum: str) -> bool:
    return ROLE_RANK[principal.role] >= ROLE_RANK[minimum]


def is_platform_admin(principal: Principal) -> bool:
    return principal.role == "admin" and principal.tenant_id == get_settings().platform_tenant


def console_role(minimum: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the principal if its role is at least `minimum`, else a 403 problem."""

    async def dependency(principal: Principal = Depends(console_principal)) -> Principal:
        if not has_role(principal, minimum):
            raise Forbidden(f"this needs the {minimum} role; you are signed in as {principal.role}")
        CURRENT_TENANT.set(principal.tenant_id)  # async: in the request's task, seen by the page
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
