"""Append-only audit trail of predictions and admin actions: who, which tenant, which model, which input.

Inputs are recorded by sha256 only, so the trail proves what was asked without keeping patient data.

The API server writes audit rows through a background writer (`AuditWriter`), in batches, so a
prediction does not wait for its own INSERT and commit. Guarantees: a row is never dropped (a full
queue blocks the caller; a failed batch is retried until the database takes it; shutdown flushes
every queued row; reading the trail flushes first, so a caller always sees its own actions). What a
hard crash (SIGKILL, power loss) can lose is the rows accepted in the last `FLUSH_SECONDS` (50 ms)
that were not yet committed. CLI commands and job workers, which have no lifespan to flush on,
write synchronously.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import structlog
from fastapi import Request
from sqlalchemy import Table, insert, select

from hygeia.core.auth import Principal
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.errors import NotFound
from hygeia.core.observability import PREDICTIONS
from hygeia.core.registry import LoadedModel
from hygeia.core.tables import AuditEvent
from hygeia.settings import get_settings

_request_log = structlog.get_logger("hygeia.audit")
FLUSH_SECONDS = 0.05
MAX_BATCH = 500
RETRY_SECONDS = 1.0


class AuditWriter:
    """One thread that commits queued audit rows in batches; see the module docstring for guarantees.

    Rows wait in a plain list and the thread wakes every `FLUSH_SECONDS` (or when a batch is full, or
    someone flushes): a request adding its row wakes nobody, which under load cost more than the row.
    """

    def __init__(self, max_queue: int = 50_000) -> None:
        self._rows: list[dict[str, Any]] = []
        self._max_queue = max_queue
        self._changed = threading.Condition()
        self._accepted = 0  # rows ever submitted
        self._committed = 0  # rows ever committed
        self._hurry = False  # a flush or stop is waiting: write now, not at the next tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        with self._changed:
            while len(self._rows) >= self._max_queue:  # back-pressure, never a dropped row
                self._changed.wait()
            self._rows.append(row)
            self._accepted += 1
            if len(self._rows) == MAX_BATCH:
                self._changed.notify_all()

    def flush(self) -> None:
        """Return once every row submitted before this call is committed."""
        with self._changed:
            wanted = self._accepted
            while self._committed < wanted and self.running:
                self._hurry = True
                self._changed.notify_all()
                self._changed.wait(FLUSH_SECONDS)

    def stop(self) -> None:
        self.flush()
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch:
                self._commit(batch)
            elif self._stop.is_set():
                return

    def _next_batch(self) -> list[dict[str, Any]]:
        with self._changed:
            if not (self._hurry or self._stop.is_set() or len(self._rows) >= MAX_BATCH):
                self._changed.wait(FLUSH_SECONDS)
            self._hurry = False
            batch, self._rows = self._rows[:MAX_BATCH], self._rows[MAX_BATCH:]
            return batch

    def _commit(self, batch: list[dict[str, Any]]) -> None:
        while True:
            try:
                insert_rows(batch)
            except Exception as exc:  # database down or locked: keep the rows and try again
                _request_log.warning("audit_batch_retry", rows=len(batch), error=str(exc))
                time.sleep(RETRY_SECONDS)
                continue
            with self._changed:
                self._committed += len(batch)
                self._changed.notify_all()  # flushers and callers held back by a full queue
            return


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """Rows carry their own tenant id, so one platform session writes a batch spanning tenants.

    One Core executemany INSERT, not ORM objects: the unit of work cost a sixth of a cached prediction's
    server time in the writer thread, competing with requests for the interpreter.
    """
    with system_session() as session:
        session.execute(insert(cast(Table, AuditEvent.__table__)), rows)


writer = AuditWriter()


def _request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


def _sha256(payload: bytes | str | None) -> str | None:
    if payload is None:
        return None
    return hashlib.sha256(payload if isinstance(payload, bytes) else payload.encode()).hexdigest()


def record(
    principal: Principal,
    action: str,
    *,
    model: LoadedModel | None = None,
    payload: bytes | str | None = None,
    n_items: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    row = {
        "tenant_id": principal.tenant_id,
        "actor": principal.subject,
        "role": principal.role,
        "action": action,
        "model_name": model.name if model else None,
        "model_version": model.version if model else None,
        "model_sha256": model.sha256 if model else None,
        "input_sha256": _sha256(payload),
        "n_items": n_items,
        "request_id": _request_id(),
        "detail": detail,
        "at": utcnow(),  # when it happened, not when the batch was written
    }
    if writer.running:
        writer.submit(row)
    else:
        insert_rows([row])
    _request_log.info("audit", action=action, actor=principal.subject, tenant=principal.tenant_id)


def record_denied(request: Request, status: int, reason: str) -> None:
    """A refused request (401/403, or a 404 on another tenant's id) is audited with caller and route."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        address = request.client.host if request.client else "unknown"
        principal = Principal(get_settings().platform_tenant, "none", f"anonymous@{address}", "")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    detail = {"method": request.method, "route": route, "status": status, "reason": reason[:300]}
    record(principal, f"denied:{status}", detail=detail)


@contextmanager
def probes_audited(
    request: Request, reason: str, elsewhere: Callable[[str, str], bool], item_id: str, tenant_id: str
) -> Iterator[None]:
    """A NotFound inside is re-raised unchanged; when `elsewhere(item_id, tenant_id)` says the id exists in
    another tenant, the 404 is a probe and is audited first (denied:404). A truly missing id is not."""
    try:
        yield
    except NotFound:
        if elsewhere(item_id, tenant_id):
            record_denied(request, 404, reason)
        raise


def record_prediction(
    principal: Principal, model: LoadedModel, payload: bytes | str, n_items: int = 1, **detail: Any
) -> None:
    """Audit a prediction and count it per model version for Prometheus."""
    PREDICTIONS.labels(model.name, model.version).inc(n_items)
    record(
        principal,
        f"predict:{model.name}",
        model=model,
        payload=payload,
        n_items=n_items,
        detail=detail or None,
    )


def list_events(tenant_id: str, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    writer.flush()
    with tenant_session(tenant_id) as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(max(limit, 1), 1000))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))
