"""Moving-window rate-limit counters in process memory (the embedded default and Redis's fallback).

They count as the `limits` library's moving window does (every unit taken within the last `expiry`
seconds; a request passes when its cost still fits under the limit), and answer in the shape of the
Redis charging script in limits.py, so one parser serves both. Written here rather than taken from the
library's MemoryStorage because that one restarts an expiry timer thread about a hundred times a
second under load and needs two calls per window; here one lock covers reading and charging every
window of a request, so a charge is all or nothing.
"""

from __future__ import annotations

import threading
from collections import deque

SWEEP_SECONDS = 60.0  # how often windows nobody touched are dropped


class MemoryWindows:
    def __init__(self) -> None:
        self._hits: dict[str, deque[tuple[float, int]]] = {}  # (timestamp, units), oldest first
        self._units: dict[str, int] = {}
        self._expiry: dict[str, int] = {}
        self._lock = threading.Lock()
        self._swept = 0.0

    def charge(self, windows: list[tuple[str, int, int]], cost: int, now: float) -> list[float | int]:
        """Take `cost` units from every (key, limit, expiry) window, or from none when one is full.

        Returns [0 or the 1-based window that refused, then units and oldest timestamp per window
        as they stood before this charge]: the Redis script's reply."""
        with self._lock:
            reply: list[float | int] = [0]
            for number, (key, limit, expiry) in enumerate(windows, start=1):
                units, oldest = self._stand(key, expiry, now)
                if not reply[0] and units + cost > limit:
                    reply[0] = number
                reply += [units, oldest]
            if not reply[0]:
                for key, _limit, expiry in windows:
                    self._hits.setdefault(key, deque()).append((now, cost))
                    self._units[key] = self._units.get(key, 0) + cost
                    self._expiry[key] = expiry
            self._sweep(now)
        return reply

    def stand(self, key: str, expiry: int, now: float) -> tuple[int, float]:
        """(units taken within the window, timestamp of the oldest of them; now when none)."""
        with self._lock:
            return self._stand(key, expiry, now)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._units.clear()
            self._expiry.clear()

    def _stand(self, key: str, expiry: int, now: float) -> tuple[int, float]:
        hits = self._hits.get(key)
        start = now - expiry
        while hits and hits[0][0] < start:
            self._units[key] -= hits.popleft()[1]
        if not hits:
            self._forget(key)
            return 0, now
        return self._units[key], hits[0][0]

    def _forget(self, key: str) -> None:
        self._hits.pop(key, None)
        self._units.pop(key, None)
        self._expiry.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now - self._swept < SWEEP_SECONDS:
            return
        self._swept = now
        for key, expiry in list(self._expiry.items()):
            self._stand(key, expiry, now)
