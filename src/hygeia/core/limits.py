"""Per-tenant rate limits with the `limits` library: moving window, tier from the tenant, 429 + Retry-After.

Counters live in Redis when configured (shared by every API replica) and in memory otherwise or while
Redis is down.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import redis
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from hygeia.core.errors import ProblemError
from hygeia.core.redis_link import redis_link
from hygeia.settings import get_settings

NAMESPACE = "hygeia-rl"


class RateLimited(ProblemError):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(
            429,
            "Too many requests",
            f"rate limit {limit} for your tenant's tier exceeded; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


@lru_cache(maxsize=1)
def _memory_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=4)
def _redis_limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(RedisStorage(url, socket_timeout=0.5, socket_connect_timeout=0.5))


@lru_cache(maxsize=32)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


def _limiter() -> MovingWindowRateLimiter:
    url = get_settings().redis_url
    if url and redis_link(url).usable():
        return _redis_limiter(url)
    return _memory_limiter()


def _hit(limiter: MovingWindowRateLimiter, item: RateLimitItem, tenant_id: str) -> bool:
    url = get_settings().redis_url
    if limiter is _memory_limiter() or not url:
        return limiter.hit(item, NAMESPACE, tenant_id)
    try:
        allowed = limiter.hit(item, NAMESPACE, tenant_id)
    except (StorageError, redis.RedisError, ConnectionError) as exc:
        redis_link(url).mark_down(exc)
        return _memory_limiter().hit(item, NAMESPACE, tenant_id)
    redis_link(url).mark_up()
    return allowed


def enforce_rate_limit(tenant_id: str, tier: str) -> None:
    spec = get_settings().rate_limit_tiers.get(tier)
    if spec is None:
        return  # a tier without a configured limit is unlimited by decision of the operator
    item, limiter = _item(spec), _limiter()
    if _hit(limiter, item, tenant_id):
        return
    try:
        reset_at = limiter.get_window_stats(item, NAMESPACE, tenant_id).reset_time
    except (StorageError, redis.RedisError, ConnectionError):
        reset_at = time.time() + item.get_expiry()
    raise RateLimited(spec, max(1, math.ceil(reset_at - time.time())))


def reset_memory_limits() -> None:
    """Tests and admin tooling: forget in-process counters."""
    _memory_limiter().storage.reset()
