"""Request/response models of the platform API (auth, jobs, admin, health)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ModelReference(BaseModel):
    """Which registered model answered: every prediction carries it (DESIGN: Models)."""

    name: str = Field(examples=["toxicity"])
    version: str = Field(examples=["1.0.0"])
    sha256: str = Field(description="first 12 hex digits of the model manifest hash", examples=["6718309df5"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RateWindowOut(BaseModel):
    scope: Literal["tenant", "key"]
    limit: int = Field(description="cost units allowed per window")
    seconds: int = Field(description="window length")
    remaining: int
    reset_seconds: int = Field(description="seconds until a unit is freed")
    policy: str = Field(description='IETF RateLimit-Policy item, e.g. "100;w=1"')


class JobSummaryOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float = Field(ge=0, le=1)
    message: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None = None


class JobOut(JobSummaryOut):
    result: dict[str, Any] | None = None


class JobSubmit(BaseModel):
    kind: Literal["registry.verify"] = Field(description="platform job kinds; domains submit their own")
    payload: dict[str, Any] = Field(default_factory=dict)


class ModelVersionOut(BaseModel):
    name: str
    version: str
    stage: str
    sha256: str
    created_at: datetime
    promoted_at: datetime | None
    card: dict[str, Any] | None = None


class TenantCreate(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$", examples=["acme-safety"])
    name: str = Field(min_length=1, max_length=200)
    tier: str = "standard"


class RetentionPolicy(BaseModel):
    """Days each kind of data is kept; a missing kind keeps the platform default."""

    uploads: int | None = Field(None, ge=1, le=3650)
    job_results: int | None = Field(None, ge=1, le=3650)
    conversations: int | None = Field(None, ge=1, le=3650)


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["signal-triage bot"])
    role: Literal["admin", "analyst", "viewer"]
    tenant_id: str | None = Field(None, description="defaults to the caller's tenant")


class ApiKeyOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(None, description="shown once, at creation")


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    model_name: str | None
    model_version: str | None
    model_sha256: str | None
    input_sha256: str | None
    n_items: int | None
    request_id: str | None
    detail: dict[str, Any] | None
