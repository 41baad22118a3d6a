"""All configuration in one place: HYGEIA_* environment variables (or a .env file).

Embedded defaults run everything in one process on SQLite; setting the Redis / broker URLs switches
cache, rate limits and jobs to their scaled-out adapters without touching code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALL_DOMAINS = ("toxicity", "signals", "dermatology", "evidence", "agents")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HYGEIA_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    var_dir: Path = Path("var")
    models_dir: Path = Path("models")
    data_dir: Path = Path("../shared/data")
    database_url: str = ""  # empty: SQLite file under var_dir

    redis_url: str | None = None  # cache + rate limits (+ Celery broker unless broker_url is set)
    broker_url: str | None = None
    jobs_backend: Literal["inprocess", "celery"] = "inprocess"
    job_workers: int = Field(2, ge=1, le=32)
    job_modules: list[str] = []  # extra modules that register job handlers (plugins), imported by workers
    celery_visibility_timeout: int = Field(3600, ge=1)  # seconds before an unacknowledged job is redelivered

    jwt_secret: SecretStr | None = None  # JWT auth is off until a secret is configured
    jwt_ttl_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)
    rate_limit_tiers: dict[str, str] = {
        "free": "60/minute",
        "standard": "600/minute",
        "enterprise": "6000/minute",
    }
    cache_ttl_seconds: int = 3600

    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    cors_origins: list[str] = []
    domains: list[str] = list(ALL_DOMAINS)
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

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'hygeia.db').resolve()}"

    @property
    def celery_broker(self) -> str | None:
        return self.broker_url or self.redis_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
