"""Circuit breaker and token meter for the language model.

The breaker exists so a dead or overloaded endpoint costs one fast refusal per question instead of
retries x timeout per question: after `threshold` consecutive failures it opens for `cooldown`
seconds, then lets one trial request through (half-open) and closes again only if that succeeds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

LLM_TOKENS = Counter("hygeia_llm_tokens_total", "Language model tokens", ["backend", "kind"])
LLM_REQUESTS = Counter("hygeia_llm_requests_total", "Language model requests", ["backend", "outcome"])
LLM_CIRCUIT_OPENED = Counter("hygeia_llm_circuit_opened_total", "Times the language-model circuit opened")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(
        self, threshold: int, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold, self.cooldown = threshold, cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.cooldown:
            return HALF_OPEN
        return OPEN

    def allow(self) -> bool:
        """True if a request may go out now; in half-open state only one trial at a time."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return True
            if state == HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def retry_after(self) -> float:
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_in_flight = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_in_flight or self._failures >= self.threshold:
                if self._opened_at is None or self._trial_in_flight:
                    LLM_CIRCUIT_OPENED.inc()
                self._opened_at = self._clock()
            self._trial_in_flight = False


@dataclass
class TokenTotals:
    prompt: int = 0
    completion: int = 0
    requests: int = 0
    estimated_requests: int = 0  # responses without a usage block: counted by characters / 4


class TokenMeter:
    """Process-wide token accounting per backend, also exported to Prometheus."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.totals = TokenTotals()
        self._lock = threading.Lock()

    def add(self, prompt: int, completion: int, estimated: bool) -> None:
        with self._lock:
            self.totals.prompt += prompt
            self.totals.completion += completion
            self.totals.requests += 1
            self.totals.estimated_requests += int(estimated)
        LLM_TOKENS.labels(self.backend, "prompt").inc(prompt)
        LLM_TOKENS.labels(self.backend, "completion").inc(completion)


def estimate_tokens(text: str) -> int:
    """Rough count for endpoints that omit `usage`; flagged as estimated wherever it is used."""
    return max(1, len(text) // 4) if text else 0
