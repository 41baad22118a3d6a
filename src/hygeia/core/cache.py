"""Response cache: in-process TTL cache by default, Redis when configured, memory while Redis is down."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from typing import Any

import redis
from cachetools import TTLCache

from hygeia.core.redis_link import redis_link
from hygeia.settings import get_settings

PREFIX = "hygeia:cache:"


def cache_key(*parts: str | bytes) -> str:
    """A stable key from the parts (model hash, normalised input …); inputs are hashed, never stored raw."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


class Cache:
    def __init__(self, redis_url: str | None, default_ttl: int) -> None:
        self._redis_url = redis_url
        self._default_ttl = default_ttl
        self._memory: TTLCache[str, bytes] = TTLCache(maxsize=10_000, ttl=default_ttl)
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        if self._redis_url and not redis_link(self._redis_url).degraded:
            return "redis"
        return "memory"

    def get(self, key: str) -> bytes | None:
        if self._redis_url and redis_link(self._redis_url).usable():
            link = redis_link(self._redis_url)
            try:
                value = link.client.get(PREFIX + key)
            except redis.RedisError as exc:
                link.mark_down(exc)
            else:
                link.mark_up()
                return value if isinstance(value, bytes) else None
        with self._lock:
            return self._memory.get(key)

    def set(self, key: str, value: bytes, ttl: int | None = None) -> None:
        ttl = ttl or self._default_ttl
        if self._redis_url and redis_link(self._redis_url).usable():
            link = redis_link(self._redis_url)
            try:
                link.client.setex(PREFIX + key, ttl, value)
            except redis.RedisError as exc:
                link.mark_down(exc)
            else:
                link.mark_up()
                return
        with self._lock:
            self._memory[key] = value

    def get_json(self, key: str) -> Any | None:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: int | None = None) -> None:
        self.set(key, json.dumps(value, separators=(",", ":")).encode(), ttl)

    def clear_memory(self) -> None:
        with self._lock:
            self._memory.clear()


@lru_cache(maxsize=4)
def _cache(redis_url: str | None, ttl: int) -> Cache:
    return Cache(redis_url, ttl)


def get_cache() -> Cache:
    settings = get_settings()
    return _cache(settings.redis_url, settings.cache_ttl_seconds)
