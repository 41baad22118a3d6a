"""Rate limits with the `limits` library: per tenant and per key, burst + sustained windows, costs.

Each tier names one or more moving windows (`"100/second;6000/minute"`: a burst and a sustained
rate); the tenant shares them across its keys, and every key also has its own windows
(`key_rate_limit`), so one runaway script cannot starve a tenant's other users. A request costs one
unit unless its route charges more (a synchronous batch of N molecules costs N). Callers see where
they stand in `RateLimit-*` headers (IETF draft: the window closest to running out) and at
`GET /api/v1/auth/limits`. Failed authentications are counted per source address and refused with
429 past `auth_failure_limit`, before any key is looked up.

Counters live in Redis when configured (shared by every API replica) and in memory otherwise or while
Redis is down. They are the library's moving windows (a list of hit timestamps per window); charging a
request's windows is one Lua script over those same lists in Redis (one round trip, all windows or
none, no race between reading and taking), and one step under a lock in memory (memory_windows.py).
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

import redis
import redis.asyncio
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from hygeia.core.errors import ProblemError
from hygeia.core.memory_windows import MemoryWindows
from hygeia.core.redis_link import RedisLink, redis_link
from hygeia.settings import get_settings

NAMESPACE = "hygeia-rl"
# Moving windows as `limits` keeps them in Redis (a list of hit timestamps, newest first, at most
# `limit` long), all of one request's windows checked and charged together.
# KEYS: one list per window; ARGV: now, cost, then limit and expiry (s) per window.
# Returns 0 or the 1-based window that refused, then per window: hits in it before this request and
# the oldest hit's timestamp (a string: Lua numbers come back as integers).
CHARGE_SCRIPT = """
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local function in_window(key, limit, start)
  local low, high, found = 0, limit - 1, nil
  while low <= high do
    local mid = math.floor((low + high) / 2)
    local stamp = tonumber(redis.call('lindex', key, mid))
    if stamp and stamp >= start then found = mid; low = mid + 1 else high = mid - 1 end
  end
  if found == nil then return 0, now end
  return found + 1, tonumber(redis.call('lindex', key, found))
end
local reply, refused = {0}, 0
for i, key in ipairs(KEYS) do
  local limit, expiry = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local count, oldest = in_window(key, limit, now - expiry)
  if refused == 0 and count + cost > limit then refused = i end
  reply[#reply + 1] = count
  reply[#reply + 1] = tostring(oldest)
end
reply[1] = refused
if refused > 0 then return reply end
local stamps = {}
for n = 1, cost do stamps[n] = now end
for i, key in ipairs(KEYS) do
  local limit, expiry = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  for n = 1, cost, 5000 do redis.call('lpush', key, unpack(stamps, n, math.min(n + 4999, cost))) end
  redis.call('ltrim', key, 0, limit - 1)
  redis.call('expire', key, expiry)
end
return reply
"""
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


_memory_windows = MemoryWindows()  # the request windows in memory; auth failures use the library's


@lru_cache(maxsize=4)
def _charge_script(link: RedisLink) -> Any:
    """The charging script on the shared connection (sent once, then called by its sha)."""
    return link.client.register_script(CHARGE_SCRIPT)


# one asyncio client per event loop (a connection belongs to the loop that opened it)
_async_scripts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def _async_charge_script(url: str) -> Any:
    scripts = _async_scripts.setdefault(asyncio.get_running_loop(), {})
    if url not in scripts:
        client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        scripts[url] = client.register_script(CHARGE_SCRIPT)
    return scripts[url]


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


Scoped = list[tuple[str, str, RateLimitItem]]


def enforce_rate_limit(tenant_id: str, tier: str, key_id: str = "", cost: int = 1) -> list[Window]:
    """Charge `cost` units to the tenant's and the key's windows, all or none; returns where they stand
    after the charge. One Redis round trip (or one step in memory) for every window together."""
    scoped = _windows(tenant_id, tier, key_id)
    if not scoped or cost <= 0:
        return status(tenant_id, tier, key_id)
    _refuse_oversized(scoped, cost)
    url = get_settings().redis_url
    if url and redis_link(url).usable():
        now = time.time()
        try:
            reply = _charge_script(redis_link(url))(
                keys=_redis_keys(scoped), args=_script_args(scoped, cost, now)
            )
        except (redis.RedisError, ConnectionError, OSError) as exc:
            redis_link(url).mark_down(exc)
        else:
            redis_link(url).mark_up()
            return _charged_from_reply(scoped, cost, now, reply)
    return _charge_memory(scoped, cost)


async def enforce_rate_limit_async(
    tenant_id: str, tier: str, key_id: str = "", cost: int = 1
) -> list[Window]:
    """`enforce_rate_limit` for the event loop: awaits Redis instead of blocking on it, and charges the
    in-memory windows in place (microseconds, no I/O), so an authenticated request needs no thread."""
    scoped = _windows(tenant_id, tier, key_id)
    if not scoped or cost <= 0:
        return await asyncio.to_thread(status, tenant_id, tier, key_id)
    _refuse_oversized(scoped, cost)
    url = get_settings().redis_url
    if url and redis_link(url).usable():
        now = time.time()
        try:
            reply = await _async_charge_script(url)(
                keys=_redis_keys(scoped), args=_script_args(scoped, cost, now)
            )
        except (redis.RedisError, ConnectionError, OSError) as exc:
            redis_link(url).mark_down(exc)
        else:
            redis_link(url).mark_up()
            return _charged_from_reply(scoped, cost, now, reply)
    return _charge_memory(scoped, cost)


def _refuse_oversized(scoped: Scoped, cost: int) -> None:
    for scope, _ident, item in scoped:
        if cost > item.amount:
            raise CostOverLimit(Window(scope, item.amount, item.get_expiry(), item.amount, 1), cost)


def _redis_keys(scoped: Scoped) -> list[str]:
    return [f"{RedisStorage.PREFIX}:{item.key_for(NAMESPACE, ident)}" for _scope, ident, item in scoped]


def _script_args(scoped: Scoped, cost: int, now: float) -> list[float | int]:
    args: list[float | int] = [now, cost]
    for _scope, _ident, item in scoped:
        args += [item.amount, item.get_expiry()]
    return args


def _charged_from_reply(scoped: Scoped, cost: int, now: float, reply: Sequence[Any]) -> list[Window]:
    """Where each window stood before the charge, from the script's counts; refused: a 429."""
    before = [
        _stood(scope, item, int(reply[1 + 2 * n]), float(reply[2 + 2 * n]), now)
        for n, (scope, _ident, item) in enumerate(scoped)
    ]
    refused = int(reply[0])
    if refused:
        raise RateLimited(before[refused - 1], cost)
    return [_charged(window, cost) for window in before]


def _stood(scope: str, item: RateLimitItem, hits: int, oldest: float, now: float) -> Window:
    """The library's window stats: remaining = limit - hits, reset when the oldest hit leaves."""
    reset_seconds = max(1, math.ceil(oldest + item.get_expiry() - now))
    return Window(scope, item.amount, item.get_expiry(), max(0, item.amount - hits), reset_seconds)


def _charge_memory(scoped: Scoped, cost: int) -> list[Window]:
    now = time.time()
    windows = [(item.key_for(NAMESPACE, ident), item.amount, item.get_expiry()) for _s, ident, item in scoped]
    return _charged_from_reply(scoped, cost, now, _memory_windows.charge(windows, cost, now))


def status(tenant_id: str, tier: str, key_id: str = "") -> list[Window]:
    """Every window of this caller, without charging anything."""
    scoped = _windows(tenant_id, tier, key_id)
    url = get_settings().redis_url
    if url and redis_link(url).usable():
        try:
            windows = [_window(_redis_limiter(url), *window) for window in scoped]
        except (StorageError, redis.RedisError, ConnectionError) as exc:
            redis_link(url).mark_down(exc)
        else:
            redis_link(url).mark_up()
            return windows
    now = time.time()
    return [
        _stood(
            scope, item, *_memory_windows.stand(item.key_for(NAMESPACE, ident), item.get_expiry(), now), now
        )
        for scope, ident, item in scoped
    ]


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
    _memory_windows.reset()
