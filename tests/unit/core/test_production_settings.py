"""Production settings refuse what is only safe on a developer's machine, all problems in one error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from hygeia.settings import Settings

MANIFEST = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "config.yaml"
POSTGRES = "postgresql+psycopg://hygeia@db:5432/hygeia"
GOOD_SECRET = "x" * 40
REDIS = "redis://redis:6379/0"


def _manifest_environment() -> dict[str, str]:
    """The ConfigMap and Secret exactly as deploy/k8s/config.yaml ships them (secrets blank)."""
    documents = list(yaml.safe_load_all(MANIFEST.read_text()))
    return {**documents[0]["data"], **documents[1]["stringData"]}


def test_the_shipped_manifest_values_are_refused_with_every_problem_named(monkeypatch):
    for name, value in _manifest_environment().items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "HYGEIA_JWT_SECRET is empty" in message
    assert "HYGEIA_DATABASE_URL must name PostgreSQL" in message
    assert "HYGEIA_JOBS_BACKEND=celery needs HYGEIA_REDIS_URL" in message
    assert "HYGEIA_REDIS_URL is unset with HYGEIA_REPLICAS=2" in message


def test_the_manifest_with_real_secrets_starts(monkeypatch):
    for name, value in _manifest_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HYGEIA_DATABASE_URL", POSTGRES)
    monkeypatch.setenv("HYGEIA_JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("HYGEIA_REDIS_URL", REDIS)
    settings = Settings()
    assert settings.environment == "production" and settings.replicas == 2


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"jwt_secret": "short"}, "shorter than 32"),
        ({"database_url": ""}, "SQLite is for one embedded process"),
        ({"database_url": "sqlite:///var/x.db"}, "SQLite is for one embedded process"),
        ({"jobs_backend": "inprocess", "replicas": 3}, "HYGEIA_REPLICAS=3"),
        ({"redis_url": None}, "celery needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL"),
        ({"redis_url": None, "broker_url": "amqp://mq//", "replicas": 2}, "count per pod"),
        ({"cors_origins": ["*"]}, "not '*'"),
    ],
)
def test_each_unsafe_production_value_is_refused(overrides, problem):
    values = {
        "environment": "production",
        "database_url": POSTGRES,
        "jwt_secret": GOOD_SECRET,
        "jobs_backend": "celery",
        "redis_url": REDIS,
        **overrides,
    }
    with pytest.raises(ValidationError, match=problem):
        Settings(**values)


def test_one_inprocess_replica_is_fine_in_production():
    settings = Settings(environment="production", database_url=POSTGRES, jwt_secret=GOOD_SECRET)
    assert settings.jobs_backend == "inprocess"


def test_development_keeps_its_embedded_defaults_and_never_signs_with_an_empty_key():
    settings = Settings(environment="development", database_url="", jwt_secret="", cors_origins=["*"])
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    assert settings.jwt_secret is None


@pytest.mark.parametrize(
    ("workers", "redis", "warned"), [(2, None, True), (2, REDIS, False), (1, None, False)]
)
def test_serve_warns_when_workers_would_each_keep_their_own_rate_limits(monkeypatch, workers, redis, warned):
    import uvicorn
    from typer.testing import CliRunner

    from hygeia.cli import app
    from hygeia.settings import get_settings

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: served.update(options))
    monkeypatch.delenv("HYGEIA_REDIS_URL", raising=False)
    if redis:
        monkeypatch.setenv("HYGEIA_REDIS_URL", redis)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--no-bootstrap", "--workers", str(workers)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["workers"] == workers
    assert ("rate-limit counters" in result.output) is warned
