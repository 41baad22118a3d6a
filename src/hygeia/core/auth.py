"""Authentication (hashed API keys, HS256 JWTs) and role-based authorisation, tenant on every principal.

Roles are ordered viewer < analyst < admin. A JWT carries the id of the key it was minted from, so
revoking that key also ends every token derived from it.

Verified keys are remembered for `KEY_CACHE_SECONDS` so the hot path does not query the database on
every request. Revocation clears this process's memory at once; every other process forgets the key
when its entry expires, so a revoked key stops working everywhere within that second. A request with
a remembered key is authenticated and charged on the event loop (no thread hand-off); anything that
needs the database (a key not seen in the last second, a JWT) goes through a worker thread, once
per credential and address however many requests are waiting for it (see `_verify_once`).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Literal

import jwt
from cachetools import TTLCache
from fastapi import Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from hygeia.core.db import system_session, utcnow
from hygeia.core.errors import Conflict, NotFound, ProblemError
from hygeia.core.limits import (
    check_auth_failures,
    enforce_rate_limit,
    enforce_rate_limit_async,
    rate_limit_headers,
    record_auth_failure,
)
from hygeia.core.tables import ApiKey, Tenant
from hygeia.settings import get_settings

Role = Literal["admin", "analyst", "viewer"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "analyst": 1, "admin": 2}
KEY_PREFIX = "hyg_"
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "hygeia"
KEY_CACHE_SECONDS = 1.0  # the longest a revoked key keeps working on another process
# the tenant the current request or job acts for: lets platform code (drift) attribute what it sees
CURRENT_TENANT: ContextVar[str | None] = ContextVar("hygeia_current_tenant", default=None)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    role: str
    subject: str
    tier: str
    key_id: str = ""


class Unauthorized(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(403, "Forbidden", detail)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_tenant(tenant_id: str, name: str, tier: str = "standard") -> Tenant:
    if tier not in get_settings().rate_limit_tiers:
        raise ProblemError(
            422, "Unknown tier", f"tier must be one of {sorted(get_settings().rate_limit_tiers)}"
        )
    with system_session() as session:
        if session.get(Tenant, tenant_id):
            raise Conflict(f"tenant {tenant_id!r} already exists", title="Tenant exists")
        tenant = Tenant(id=tenant_id, name=name, tier=tier)
        session.add(tenant)
    return tenant


MIN_KEY_CHARS = 40


def create_api_key(tenant_id: str, role: str, name: str, plaintext: str | None = None) -> tuple[ApiKey, str]:
    """Returns the stored key row and the plaintext, which is never stored or shown again.

    `plaintext` lets an operator bring a key generated elsewhere (e.g. the bootstrap key kept in a
    Kubernetes Secret); it must look like one of ours and be as long.
    """
    if role not in ROLE_RANK:
        raise ProblemError(422, "Unknown role", f"role must be one of {sorted(ROLE_RANK)}")
    if plaintext is not None and (not plaintext.startswith(KEY_PREFIX) or len(plaintext) < MIN_KEY_CHARS):
        raise ProblemError(
            422, "Weak key", f"a supplied key starts with {KEY_PREFIX} and has {MIN_KEY_CHARS}+ chars"
        )
    plaintext = plaintext or KEY_PREFIX + secrets.token_urlsafe(32)
    with system_session() as session:
        if not session.get(Tenant, tenant_id):
            raise NotFound(f"no tenant {tenant_id!r}")
        key = ApiKey(
            tenant_id=tenant_id, name=name, role=role, prefix=plaintext[:12], key_hash=hash_key(plaintext)
        )
        session.add(key)
    return key, plaintext


class _VerifiedKeys:
    """Principals of keys verified within the last second, by key hash, and active key ids for JWTs."""

    def __init__(self, ttl: float) -> None:
        self._by_hash: TTLCache[str, Principal] = TTLCache(maxsize=50_000, ttl=ttl)
        self._active_ids: TTLCache[str, bool] = TTLCache(maxsize=50_000, ttl=ttl)
        self._lock = threading.Lock()

    def principal(self, key_hash: str) -> Principal | None:
        with self._lock:
            return self._by_hash.get(key_hash)

    def remember(self, key_hash: str, principal: Principal) -> None:
        with self._lock:
            self._by_hash[key_hash] = principal
            self._active_ids[principal.key_id] = True

    def is_active(self, key_id: str) -> bool:
        with self._lock:
            return self._active_ids.get(key_id, False)

    def remember_active(self, key_id: str) -> None:
        with self._lock:
            self._active_ids[key_id] = True

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._active_ids.pop(key_id, None)
            for key_hash in [h for h, p in self._by_hash.items() if p.key_id == key_id]:
                self._by_hash.pop(key_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._by_hash.clear()
            self._active_ids.clear()


verified_keys = _VerifiedKeys(KEY_CACHE_SECONDS)


def revoke_api_key(tenant_id: str, key_id: str) -> None:
    with system_session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.tenant_id != tenant_id:
            raise NotFound(f"no API key {key_id!r} in tenant {tenant_id!r}")
        key.revoked_at = utcnow()
    verified_keys.forget(key_id)


def _principal_from_key(plaintext: str) -> Principal:
    key_hash = hash_key(plaintext)
    principal = verified_keys.principal(key_hash)
    if principal is None:
        principal = _lookup_key(key_hash)
        verified_keys.remember(key_hash, principal)
    return principal


def _lookup_key(key_hash: str) -> Principal:
    with system_session() as session:
        row = session.execute(
            select(ApiKey, Tenant.tier)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.key_hash == key_hash)
        ).first()
        if row is None:
            raise Unauthorized("unknown API key")
        key, tier = row
        if key.revoked_at is not None:
            raise Unauthorized("API key has been revoked")
        return Principal(key.tenant_id, key.role, f"key:{key.id}", tier, key.id)


def principal_for_key(key_id: str) -> Principal:
    """The principal of an active key, by id: what a console session acts as."""
    with system_session() as session:
        row = session.execute(
            select(ApiKey, Tenant.tier).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == key_id)
        ).first()
        if row is None or row[0].revoked_at is not None:
            raise Unauthorized("the API key behind this session has been revoked")
        key, tier = row
        return Principal(key.tenant_id, key.role, f"key:{key.id}", tier, key.id)


def _assert_key_active(key_id: str) -> None:
    if verified_keys.is_active(key_id):
        return
    with system_session() as session:
        key = session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            raise Unauthorized("the API key this token was issued from has been revoked")
    verified_keys.remember_active(key_id)


def issue_jwt(principal: Principal, ttl_seconds: int | None = None) -> tuple[str, int]:
    settings = get_settings()
    if settings.jwt_secret is None:
        raise ProblemError(503, "JWT disabled", "set HYGEIA_JWT_SECRET to enable token authentication")
    ttl = ttl_seconds or settings.jwt_ttl_seconds
    now = int(time.time())
    claims = {
        "iss": JWT_ISSUER,
        "sub": principal.subject,
        "tenant": principal.tenant_id,
        "role": principal.role,
        "tier": principal.tier,
        "kid": principal.key_id,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM), ttl


def _principal_from_jwt(token: str) -> Principal:
    secret = get_settings().jwt_secret
    if secret is None:
        raise Unauthorized("JWT authentication is not enabled on this server")
    try:
        claims = jwt.decode(
            token,
            secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token") from exc
    if claims.get("role") not in ROLE_RANK or not claims.get("tenant"):
        raise Unauthorized("token lacks a valid role or tenant")
    if claims.get("kid"):
        _assert_key_active(str(claims["kid"]))
    return Principal(
        claims["tenant"], claims["role"], claims["sub"], claims.get("tier", "free"), claims.get("kid", "")
    )


def _recently_verified(credential: str) -> bool:
    return remembered_principal(credential) is not None


def remembered_principal(credential: str) -> Principal | None:
    """The principal of an API key verified within the last second, without any I/O; else None."""
    if not credential.startswith(KEY_PREFIX):
        return None
    return verified_keys.principal(hash_key(credential))


def authenticate(credential: str) -> Principal:
    if credential.startswith(KEY_PREFIX):
        return _principal_from_key(credential)
    return _principal_from_jwt(credential)


def credential_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate_from(address: str, credential: str) -> Principal:
    """Authenticate, refusing an address that has sent too many invalid credentials (429 first).

    A key verified within the last second skips the address check: guessing needs unknown keys,
    which are never in that cache, and the hot path saves a rate-limit store round trip.
    """
    if not _recently_verified(credential):
        check_auth_failures(address)
    try:
        return authenticate(credential)
    except Unauthorized:
        record_auth_failure(address)
        raise


def bind_principal(request: Request, principal: Principal) -> None:
    """The request acts for this principal from here on (logs, audit, rate limits)."""
    request.state.principal = principal
    charge(request, principal)


def charge(request: Request, principal: Principal, cost: int = 1) -> None:
    """Charge a request's cost to its tenant's and key's windows; the headers report where they stand."""
    windows = enforce_rate_limit(principal.tenant_id, principal.tier, principal.key_id, cost)
    request.state.rate_limit_headers = rate_limit_headers(windows)


async def current_principal(request: Request) -> Principal:
    """Who calls, charged one unit. A remembered key costs no thread and no database; the rest (first
    sight of a key, a JWT, a bad credential) is looked up in a worker thread, off the event loop."""
    credential = credential_from(request)
    if not credential:
        raise Unauthorized("send an API key (X-API-Key or Authorization: Bearer) or a JWT")
    principal = remembered_principal(credential)
    if principal is None:
        principal = await _verify_once(client_address(request), credential)
    request.state.principal = principal
    windows = await enforce_rate_limit_async(principal.tenant_id, principal.tier, principal.key_id)
    request.state.rate_limit_headers = rate_limit_headers(windows)
    return principal


_verifying: dict[tuple[str, str], asyncio.Future[Principal]] = {}


async def _verify_once(address: str, credential: str) -> Principal:
    """Authenticate in a worker thread; concurrent requests with the same credential from the same
    address wait for that one verification instead of each starting their own.

    Why: a busy key's memory expires every second with a dozen requests in flight, and each used to
    query the database at the same instant; on PostgreSQL that burst set the p99 of every cached
    endpoint. Sharing is keyed by address too, so every address still has its own failures counted,
    and a guessed key is a new credential each time, never shared. A future belongs to the event loop
    that made it, so one left by a closed loop is not awaited from another."""
    slot = (address, hash_key(credential))
    pending = _verifying.get(slot)
    if pending is None or pending.get_loop() is not asyncio.get_running_loop():
        pending = asyncio.ensure_future(run_in_threadpool(authenticate_from, address, credential))
        _verifying[slot] = pending
        pending.add_done_callback(lambda done: _settled(slot, done))
    return await asyncio.shield(pending)  # a caller that goes away does not cancel the others' lookup


def _settled(slot: tuple[str, str], done: asyncio.Future[Principal]) -> None:
    if _verifying.get(slot) is done:
        del _verifying[slot]
    if not done.cancelled():
        done.exception()  # retrieved here: an abandoned failure is not logged as "never retrieved"


def require_role(minimum: Role) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency: the caller's principal, if its role is at least `minimum`.

    Async on purpose: it runs in the request's own task, so the tenant it binds (CURRENT_TENANT) is
    seen by the endpoint; a sync dependency runs in a worker thread whose context is thrown away.
    """

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if ROLE_RANK[principal.role] < ROLE_RANK[minimum]:
            raise Forbidden(f"this action needs the {minimum} role; you are {principal.role}")
        CURRENT_TENANT.set(principal.tenant_id)
        return principal

    return dependency


def require_platform_admin(principal: Principal = Depends(require_role("admin"))) -> Principal:
    """Operations shared by every tenant: tenants, the model registry, shared indexes."""
    if principal.tenant_id != get_settings().platform_tenant:
        raise Forbidden(
            "only administrators of the platform tenant manage tenants, the model registry and shared indexes"
        )
    return principal


# Named dependencies (FastAPI full-stack template's `CurrentUser`): a route says who may call it in its
# signature, `def promote(..., principal: PlatformAdmin)`, instead of repeating Depends(...) inline.
Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Analyst = Annotated[Principal, Depends(require_role("analyst"))]
TenantAdmin = Annotated[Principal, Depends(require_role("admin"))]
PlatformAdmin = Annotated[Principal, Depends(require_platform_admin)]
