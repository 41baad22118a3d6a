"""Append-only audit trail of predictions and admin actions: who, which tenant, which model, which input.

Inputs are recorded by sha256 only, so the trail proves what was asked without keeping patient data.
"""

from __future__ import annotations

import hashlib
from typing import Any

import structlog
from sqlalchemy import select

from hygeia.core.auth import Principal
from hygeia.core.db import tenant_session
from hygeia.core.observability import PREDICTIONS
from hygeia.core.registry import LoadedModel
from hygeia.core.tables import AuditEvent

_request_log = structlog.get_logger("hygeia.audit")


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
    event = AuditEvent(
        tenant_id=principal.tenant_id,
        actor=principal.subject,
        role=principal.role,
        action=action,
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        model_sha256=model.sha256 if model else None,
        input_sha256=_sha256(payload),
        n_items=n_items,
        request_id=_request_id(),
        detail=detail,
    )
    with tenant_session(principal.tenant_id) as session:
        session.add(event)
    _request_log.info("audit", action=action, actor=principal.subject, tenant=principal.tenant_id)


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
    with tenant_session(tenant_id) as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(max(limit, 1), 1000))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))
