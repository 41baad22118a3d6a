"""Platform tables. Tenant data carries `tenant_id` (TenantOwned); the model catalogue is platform-wide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hygeia.core.db import Base, TenantOwned, Timestamped, new_id, utcnow


class Tenant(Timestamped, Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    tier: Mapped[str] = mapped_column(String(32), default="standard", nullable=False)
    retention: Mapped[dict[str, int] | None] = mapped_column(JSON)  # days per kind; None: the defaults


class ApiKey(TenantOwned, Timestamped, Base):
    """Only the sha256 of a key is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(TenantOwned, Timestamped, Base):
    """A signed-in console: the cookie holds a random token, only its sha256 is stored.

    Ending it (sign-out, key revocation, expiry) is a server-side fact, so a copied cookie stops
    working too; the cookie never holds an API key or a token that outlives sign-out.
    """

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Job(TenantOwned, Timestamped, Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True, nullable=False)
    progress: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    message: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(TenantOwned, Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migration)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    action: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    model_name: Mapped[str | None] = mapped_column(String(100))
    model_version: Mapped[str | None] = mapped_column(String(50))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    n_items: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ModelVersion(Timestamped, Base):
    """A registered model artifact folder; `stage` is production / staging / archived."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    version: Mapped[str] = mapped_column(String(50), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), default="staging", nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    path: Mapped[str] = mapped_column(String(1000), nullable=False)
    card: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DriftCount(TenantOwned, Base):
    """Live histogram counts of one model signal for one tenant and day, summed across all processes.

    The reference histogram (from the model card) travels with the row, so a drift report needs no
    model loaded and survives restarts.
    """

    __tablename__ = "drift_counts"
    __table_args__ = (UniqueConstraint("tenant_id", "model_name", "model_version", "signal", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(100), nullable=False)
    model_version: Mapped[str] = mapped_column(String(50), nullable=False)
    signal: Mapped[str] = mapped_column(String(100), nullable=False)
    day: Mapped[str] = mapped_column(String(10), index=True, nullable=False)  # UTC, YYYY-MM-DD
    edges: Mapped[list[float]] = mapped_column(JSON, nullable=False)
    reference: Mapped[list[float]] = mapped_column(JSON, nullable=False)
    live: Mapped[list[float]] = mapped_column(JSON, nullable=False)
    observations: Mapped[int] = mapped_column(Integer, nullable=False)


class PredictionRecord(TenantOwned, Base):
    """One answer a user may follow up: which model version said what about which input.

    The input is kept as a key (InChIKey, image sha256), never itself. `served` is False for a shadow
    candidate's answer, which was computed beside production and never returned to the caller.
    """

    __tablename__ = "prediction_records"
    __table_args__ = (Index("ix_prediction_records_key", "tenant_id", "model_name", "input_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    capability: Mapped[str] = mapped_column(String(50), nullable=False)
    model_name: Mapped[str] = mapped_column(String(100), nullable=False)
    model_version: Mapped[str] = mapped_column(String(50), nullable=False)
    input_key: Mapped[str] = mapped_column(String(100), nullable=False)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    predicted: Mapped[str | None] = mapped_column(String(100))
    served: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True, nullable=False
    )


class Outcome(TenantOwned, Base):
    """What later turned out to be true about an input (an assay result, a histopathology diagnosis)."""

    __tablename__ = "outcomes"
    __table_args__ = (Index("ix_outcomes_key", "tenant_id", "capability", "input_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    capability: Mapped[str] = mapped_column(String(50), nullable=False)
    prediction_id: Mapped[str | None] = mapped_column(String(32))
    input_key: Mapped[str] = mapped_column(String(100), nullable=False)
    # the standardised input, only where the domain keeps it for retraining (toxicity: parent SMILES)
    input_text: Mapped[str | None] = mapped_column(String(5000))
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    observed: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True, nullable=False
    )


class ModelRelease(Base):
    """A candidate version running beside production: in shadow (sampled, never returned) or as a canary."""

    __tablename__ = "model_releases"
    model_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    candidate_version: Mapped[str] = mapped_column(String(50), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)  # shadow | canary
    shadow_rate: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    canary_percent: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    sticky_by: Mapped[str] = mapped_column(String(16), default="tenant", nullable=False)
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
