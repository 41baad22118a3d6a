"""Structured JSON logs with a request id on every line, and Prometheus metrics."""

from __future__ import annotations

import collections
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LATENCY = Histogram(
    "hygeia_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PREDICTIONS = Counter(
    "hygeia_predictions_total", "Items predicted, by model and version", ["model", "version"]
)
PREDICTION_SCORES = Histogram(
    "hygeia_prediction_score",
    "Predicted probabilities by model, version and label (one observation per item and label)",
    ["model", "version", "label"],
    buckets=tuple(round(0.1 * i, 1) for i in range(1, 11)),
)
DECISIONS = Counter(
    "hygeia_capability_decisions_total",
    "What a capability decided per item: a lesion accepted or rejected, a signal's alert level, "
    "an agent answer given or abstained",
    ["capability", "decision"],
)
JOBS = Counter("hygeia_jobs_total", "Background jobs by kind and final status", ["kind", "status"])
READINESS = Gauge(
    "hygeia_readiness_ok",
    "1 when a readiness check (database, redis, capability:*) passed at /ready",
    ["check"],
)
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_BYTES = REQUEST_ID_HEADER.lower().encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestContext:
    """Pure ASGI middleware: request id in and out, latency histogram, one log line per request.

    Written against ASGI directly rather than `@app.middleware("http")`, whose per-request task and
    body streams cost more than the rest of a cached prediction.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("hygeia.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        transport = _transport_headers(scope)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                limits = state.get("rate_limit_headers") or {}
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_BYTES, request_id.encode()),
                    *((name.lower().encode(), value.encode()) for name, value in limits.items()),
                    *transport,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        REQUEST_LATENCY.labels(scope["method"], route, str(status)).observe(elapsed)
        principal = scope.get("state", {}).get("principal")
        self.log.info(
            "request",
            method=scope["method"],
            route=route,
            status=status,
            ms=round(elapsed * 1000, 2),
            tenant=getattr(principal, "tenant_id", None),
        )


def _transport_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """HSTS on answers that went out over HTTPS (directly, or via a TLS-terminating ingress)."""
    from hygeia.settings import get_settings

    seconds = get_settings().hsts_seconds
    forwarded = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
    if seconds <= 0 or (scope.get("scheme") != "https" and forwarded != "https"):
        return []
    return [(b"strict-transport-security", f"max-age={seconds}; includeSubDomains".encode())]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def install_request_middleware(app: FastAPI) -> None:
    app.add_middleware(RequestContext)


class VarDirCollector:
    """Free space where uploads, indexes and the SQLite database live, for the disk alert."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from hygeia.settings import get_settings

        try:
            usage = shutil.disk_usage(get_settings().var_dir)
        except OSError:
            return
        yield GaugeMetricFamily(
            "hygeia_var_free_ratio",
            "Free fraction of the filesystem holding var/",
            value=usage.free / usage.total,
        )


_registered: set[str] = set()


def register_collector(name: str, collector: Collector) -> None:
    """Scrape-time collectors are registered once per process, however many apps are built."""
    if name not in _registered:
        REGISTRY.register(collector)
        _registered.add(name)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def observe_scores(model: str, version: str, scores_by_label: Mapping[str, Iterable[float]]) -> None:
    """Score distributions per label feed the capability dashboards and make output drift visible."""
    for label, scores in scores_by_label.items():
        histogram = PREDICTION_SCORES.labels(model, version, label)
        for score in scores:
            if score == score:  # NaN (no score) is not a probability
                histogram.observe(score)


def count_decisions(capability: str, decisions: Iterable[str]) -> None:
    """Count each item's decision (a bounded vocabulary per capability, never free text)."""
    for decision, n in collections.Counter(decisions).items():
        DECISIONS.labels(capability, decision).inc(n)
