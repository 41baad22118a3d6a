"""Rate limits with the `limits` library: per tenant and per key, burst + sustained windows, costs.

Each tier names one or more moving windows (`"100/second;6000/minute"`: a burst and a sustained
rate); the tenant shares them across its keys, and every key also has its own windows
(`key_rate_limit`), so one runaway script cannot starve a tenant's other users. A request costs one
unit unless its route charges more (a synchronous batch of N molecules costs N). Callers see where
they stand in `RateLimit-*` headers (IETF draft: the window closest to running out) and at
`GET /api/v1/auth/limits`. Failed authentications are counted per source address and refused with
429 past `auth_failure_limit`, before any key is looked up.

Counters live in Redis when configured (shared by every API replica) and in memory otherwise or while
Redis is down.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar

import redis
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from hygeia.core.errors import ProblemError
from hygeia.core.redis_link import redis_link
from hygeia.settings import get_settings

NAMESPACE = "hygeia-rl"
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Where one caller stands in one window."""

    scope: str  # "tenant" or "key"
    limit: int
    seconds: int
    remaining: int
    reset_seconds: int

    @property
    def policy(self) -> str:
        return f"{self.limit};w={self.seconds}"


class RateLimited(ProblemError):
    def __init__(self, window: Window, cost: int) -> None:
        super().__init__(
            429,
            "Too many requests",
            f"your {window.scope}'s limit of {window.limit} units per {window.seconds} s is used up "
            f"(this request costs {cost}); retry in {window.reset_seconds} s",
            headers={"Retry-After": str(window.reset_seconds)},
        )


class CostOverLimit(ProblemError):
    """A single request larger than a whole window can never pass: say so instead of 429 forever."""

    def __init__(self, window: Window, cost: int) -> None:
        super().__init__(
            413,
            "Request larger than your rate limit",
            f"this request costs {cost} units but your {window.scope}'s limit is {window.limit} per "
            f"{window.seconds} s; split it into requests of at most {window.limit} items or use a batch job",
        )


class TooManyFailedLogins(ProblemError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "Too many failed authentications",
            f"too many invalid credentials from your address; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


@lru_cache(maxsize=1)
def _memory_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=4)
def _redis_limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(RedisStorage(url, socket_timeout=0.5, socket_connect_timeout=0.5))


@lru_cache(maxsize=64)
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


@lru_cache(maxsize=8)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


def _with_limiter(operation: Callable[[MovingWindowRateLimiter], T]) -> T:
    """Run against Redis when configured and up, in memory otherwise (and when Redis fails mid-call)."""
    url = get_settings().redis_url
    if not url or not redis_link(url).usable():
        return operation(_memory_limiter())
    try:
        result = operation(_redis_limiter(url))
    except (StorageError, redis.RedisError, ConnectionError) as exc:
        redis_link(url).mark_down(exc)
        return operation(_memory_limiter())
    redis_link(url).mark_up()
    return result


def _windows(tenant_id: str, tier: str, key_id: str) -> list[tuple[str, str, RateLimitItem]]:
    settings = get_settings()
    scoped = []
    tier_spec = settings.rate_limit_tiers.get(tier)
    if tier_spec:  # a tier without a configured limit is unlimited by decision of the operator
        scoped += [("tenant", f"tenant:{tenant_id}", item) for item in _items(tier_spec)]
    if key_id and settings.key_rate_limit:
        scoped += [("key", f"key:{key_id}", item) for item in _items(settings.key_rate_limit)]
    return scoped


def _window(limiter: MovingWindowRateLimiter, scope: str, ident: str, item: RateLimitItem) -> Window:
    reset_at, remaining = limiter.get_window_stats(item, NAMESPACE, ident)
    return Window(
        scope, item.amount, item.get_expiry(), max(0, remaining), max(1, math.ceil(reset_at - time.time()))
    )


def _charged(window: Window, cost: int) -> Window:
    return replace(window, remaining=max(0, window.remaining - cost))


def enforce_rate_limit(tenant_id: str, tier: str, key_id: str = "", cost: int = 1) -> list[Window]:
    """Charge `cost` units to the tenant's and the key's windows, all or none; returns where they stand.

    One read and one atomic acquire per window (8 Redis round trips for a tenant's and a key's burst
    and sustained windows, not 12): where a window stands after the charge follows from the read.
    A request that loses a race for the last units between the read and the acquire is refused.
    """
    scoped = _windows(tenant_id, tier, key_id)
    if not scoped or cost <= 0:
        return status(tenant_id, tier, key_id)

    def charge(limiter: MovingWindowRateLimiter) -> list[Window]:
        before = [_window(limiter, *window) for window in scoped]
        for window in before:
            if cost > window.limit:
                raise CostOverLimit(window, cost)
            if window.remaining < cost:
                raise RateLimited(window, cost)
        for (_scope, ident, item), window in zip(scoped, before, strict=True):
            if not limiter.hit(item, NAMESPACE, ident, cost=cost):
                raise RateLimited(_window(limiter, window.scope, ident, item), cost)
        return [_charged(window, cost) for window in before]

    return _with_limiter(charge)


def status(tenant_id: str, tier: str, key_id: str = "") -> list[Window]:
    """Every window of this caller, without charging anything."""
    scoped = _windows(tenant_id, tier, key_id)
    return _with_limiter(lambda limiter: [_window(limiter, *window) for window in scoped])


def rate_limit_headers(windows: list[Window]) -> dict[str, str]:
    """IETF RateLimit header fields: the window closest to running out, and every policy."""
    if not windows:
        return {}
    tightest = min(windows, key=lambda w: (w.remaining, w.reset_seconds))
    values = (
        tightest.limit,
        tightest.remaining,
        tightest.reset_seconds,
        ", ".join(w.policy for w in windows),
    )
    return dict(zip(RATE_LIMIT_HEADERS, map(str, values), strict=True))


def check_auth_failures(address: str) -> None:
    """Refuse an address that sent too many invalid credentials recently, before looking anything up."""
    item = _item(get_settings().auth_failure_limit)
    if not _with_limiter(lambda limiter: limiter.test(item, NAMESPACE, f"authfail:{address}")):
        window = _with_limiter(lambda limiter: _window(limiter, "address", f"authfail:{address}", item))
        raise TooManyFailedLogins(window.reset_seconds)


def record_auth_failure(address: str) -> None:
    item = _item(get_settings().auth_failure_limit)
    _with_limiter(lambda limiter: limiter.hit(item, NAMESPACE, f"authfail:{address}"))


def reset_memory_limits() -> None:
    """Tests and admin tooling: forget in-process counters."""
    _memory_limiter().storage.reset()
