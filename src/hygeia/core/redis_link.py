"""One Redis connection shared by cache and rate limits, with a circuit that falls back to memory.

When Redis stops answering we log a warning once, serve from the in-process fallback, report
`degraded` on /ready, and try Redis again after a short back-off, so a Redis restart heals itself.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache

import redis
import structlog

log = structlog.get_logger("hygeia.redis")
RETRY_SECONDS = 5.0


class RedisLink:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down

    def usable(self) -> bool:
        """False while the circuit is open; after the back-off one call is let through to probe."""
        return not self._down or time.monotonic() >= self._down_until

    def mark_down(self, exc: Exception) -> None:
        with self._lock:
            if not self._down:
                log.warning("redis_unavailable_falling_back_to_memory", url=_redact(self.url), error=str(exc))
            self._down = True
            self._down_until = time.monotonic() + RETRY_SECONDS

    def mark_up(self) -> None:
        if not self._down:  # every successful call lands here: no lock while all is well
            return
        with self._lock:
            if self._down:
                log.info("redis_recovered", url=_redact(self.url))
            self._down = False

    def ping(self) -> bool:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            self.mark_down(exc)
            return False
        self.mark_up()
        return True


def _redact(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


@lru_cache(maxsize=4)
def redis_link(url: str) -> RedisLink:
    return RedisLink(url)
