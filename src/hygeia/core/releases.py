"""Shadow and canary releases: a registered candidate version beside production, per model.

- **shadow**: a sampled share of live requests is scored again by the candidate, off the request
  path (one background thread, a bounded queue: when full, samples are dropped and counted), and
  stored as unserved prediction records. The caller only ever gets production's answer.
- **canary**: a set percentage of requests is answered by the candidate, sticky per tenant or per
  input (hash of the model, candidate and tenant or input key), so a tenant or a molecule keeps
  getting the same version while the canary runs.

A platform admin sets, ends and promotes releases (all audited); `comparison` is the report to
promote from. Domains hand their answers to `track` and register a `ShadowRunner` from register().
"""

from __future__ import annotations

import hashlib
import queue
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from cachetools import TTLCache
from prometheus_client import Counter
from sqlalchemy import select

from hygeia.core import audit
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.db import system_session, utcnow
from hygeia.core.errors import Conflict, InputError, NotFound
from hygeia.core.outcomes import LifecycleSettings, Served, record_served, records
from hygeia.core.registry import PRODUCTION, get_registry
from hygeia.core.tables import ModelRelease

Mode = Literal["shadow", "canary"]
StickyBy = Literal["tenant", "input"]
ShadowRunner = Callable[[str, list[Any]], Sequence[Served | None]]  # (candidate version, inputs)
RELEASE_CACHE_SECONDS = 1.0  # how long another process keeps an ended or changed release
log = structlog.get_logger("hygeia.releases")
SHADOW = Counter(
    "hygeia_shadow_requests_total", "Sampled shadow requests by model and fate", ["model", "fate"]
)
CANARY = Counter("hygeia_canary_requests_total", "Requests answered per release arm", ["model", "arm"])


@dataclass(frozen=True)
class Release:
    model_name: str
    candidate_version: str
    mode: Mode
    shadow_rate: float
    canary_percent: float
    sticky_by: StickyBy
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: ModelRelease) -> Release:
        return cls(
            row.model_name,
            row.candidate_version,
            row.mode,  # type: ignore[arg-type]
            row.shadow_rate,
            row.canary_percent,
            row.sticky_by,  # type: ignore[arg-type]
            row.updated_by,
            row.updated_at,
        )


_releases: TTLCache[str, Release | None] = TTLCache(maxsize=256, ttl=RELEASE_CACHE_SECONDS)
_releases_lock = threading.Lock()
_refresh_lock = threading.Lock()  # one database read per expiry
_runners: dict[str, tuple[str, ShadowRunner]] = {}  # model name -> (capability, runner)


def register_shadow_runner(capability: str, model_name: str, runner: ShadowRunner) -> None:
    _runners[model_name] = (capability, runner)


def current_release(model_name: str) -> Release | None:
    """The model's running release, remembered for a second: cheap enough for every request. Threads
    that find the memory stale together wait for one query rather than each sending their own."""
    remembered, release = remembered_release(model_name)
    if remembered:
        return release
    with _refresh_lock:
        remembered, release = remembered_release(model_name)
        if remembered:
            return release
        with system_session() as session:
            row = session.get(ModelRelease, model_name)
            release = Release.of(row) if row is not None else None
        with _releases_lock:
            _releases[model_name] = release
    return release


def remembered_release(model_name: str) -> tuple[bool, Release | None]:
    """(True, the release) when it was read within the last second, else (False, None); never any I/O,
    so code on the event loop can ask and take the worker-thread path when it cannot tell."""
    with _releases_lock:
        if model_name in _releases:
            return True, _releases[model_name]
    return False, None


def list_releases() -> list[Release]:
    with system_session() as session:
        return [
            Release.of(row) for row in session.scalars(select(ModelRelease).order_by(ModelRelease.model_name))
        ]


def set_release(
    principal: Principal,
    model_name: str,
    candidate_version: str,
    mode: Mode,
    shadow_rate: float = 0.0,
    canary_percent: float = 0.0,
    sticky_by: StickyBy = "tenant",
) -> Release:
    """Start or change a model's release; the candidate must be registered and not in production."""
    rows = {row.version: row for row in get_registry().versions(model_name)}
    if candidate_version not in rows:
        raise NotFound(f"model {model_name!r} has no registered version {candidate_version!r}")
    if rows[candidate_version].stage == PRODUCTION:
        raise Conflict(f"{model_name} {candidate_version} is already in production")
    if mode == "shadow" and not 0 < shadow_rate <= 1:
        raise InputError("a shadow release needs shadow_rate in (0, 1]")
    if mode == "canary" and not 0 < canary_percent <= 100:
        raise InputError("a canary release needs canary_percent in (0, 100]")
    with system_session() as session:
        row = session.get(ModelRelease, model_name) or ModelRelease(model_name=model_name)
        row.candidate_version, row.mode, row.sticky_by = candidate_version, mode, sticky_by
        row.shadow_rate = shadow_rate if mode == "shadow" else 0.0
        row.canary_percent = canary_percent if mode == "canary" else 0.0
        row.updated_by, row.updated_at = principal.subject, utcnow()
        session.add(row)
        release = Release.of(row)
    _forget(model_name)
    audit.record(principal, "release.set", detail=_detail(release))
    return release


def end_release(principal: Principal, model_name: str, reason: str = "ended") -> Release:
    with system_session() as session:
        row = session.get(ModelRelease, model_name)
        if row is None:
            raise NotFound(f"model {model_name!r} has no release running")
        release = Release.of(row)
        session.delete(row)
    _forget(model_name)
    audit.record(principal, f"release.{reason}", detail=_detail(release))
    return release


def _forget(model_name: str) -> None:
    with _releases_lock:
        _releases.pop(model_name, None)


def forget_all() -> None:
    """Drop every remembered release (tests that switch databases)."""
    with _releases_lock:
        _releases.clear()


def _detail(release: Release) -> dict[str, Any]:
    detail = asdict(release)
    detail["updated_at"] = release.updated_at.isoformat()
    return detail


def sticky_bucket(*parts: str) -> float:
    """A stable position in [0, 100) for a tenant or input: the same parts always land in the same place."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def canary_version(model_name: str, input_key: str) -> str | None:
    """The candidate version when this request falls in the canary's share, else None (production)."""
    release = current_release(model_name)
    if release is None or release.mode != "canary":
        return None
    tenant = CURRENT_TENANT.get() or "-"
    sticky = tenant if release.sticky_by == "tenant" else f"{tenant}\x1f{input_key}"
    chosen = sticky_bucket(model_name, release.candidate_version, sticky) < release.canary_percent
    CANARY.labels(model_name, "candidate" if chosen else "production").inc()
    return release.candidate_version if chosen else None


class ShadowQueue:
    """Sampled shadow work, run by one daemon thread so the request that sampled it never waits."""

    def __init__(self) -> None:
        self._tasks: queue.Queue[tuple[str, str, str, list[Any]]] | None = None
        self._lock = threading.Lock()

    def submit(self, tenant: str, model_name: str, version: str, inputs: list[Any]) -> bool:
        with self._lock:
            if self._tasks is None:
                self._tasks = queue.Queue(maxsize=LifecycleSettings().shadow_queue)
                threading.Thread(target=self._run, args=(self._tasks,), name="shadow", daemon=True).start()
            tasks = self._tasks
        try:
            tasks.put_nowait((tenant, model_name, version, inputs))
        except queue.Full:
            SHADOW.labels(model_name, "dropped").inc()
            return False
        return True

    def join(self) -> None:
        """Wait until every submitted shadow task is done (tests, shutdown)."""
        if self._tasks is not None:
            self._tasks.join()

    @staticmethod
    def _run(tasks: queue.Queue[tuple[str, str, str, list[Any]]]) -> None:
        while True:
            tenant, model_name, version, inputs = tasks.get()
            token = CURRENT_TENANT.set(tenant)
            try:
                capability, runner = _runners[model_name]
                answers = runner(version, inputs)
                record_served(capability, model_name, version, answers, served=False)
                SHADOW.labels(model_name, "scored").inc()
            except Exception as exc:  # a broken candidate is a finding for the report, never a crash
                SHADOW.labels(model_name, "failed").inc()
                log.warning(
                    "shadow_failed", model=model_name, version=version, error=f"{type(exc).__name__}: {exc}"
                )
            finally:
                CURRENT_TENANT.reset(token)
                tasks.task_done()


shadow_queue = ShadowQueue()


def track(
    capability: str, model_name: str, version: str, answers: Sequence[Served | None], inputs: Sequence[Any]
) -> list[str | None]:
    """Record one request's answers (their stable ids back, in order) and, when a shadow release
    samples this request, queue the same inputs for the candidate."""
    ids = record_served(capability, model_name, version, answers)
    tenant = CURRENT_TENANT.get()
    release = current_release(model_name) if tenant is not None else None  # no tenant: no shadow
    if (
        release is not None
        and release.mode == "shadow"
        and tenant is not None
        and model_name in _runners
        and version != release.candidate_version
        and random.random() < release.shadow_rate  # sampling, not security
    ):
        shadow_queue.submit(tenant, model_name, release.candidate_version, list(inputs))
    return ids


def flush() -> None:
    """Everything recorded so far is in the database (shadow work finished, records written)."""
    shadow_queue.join()
    records.flush()
