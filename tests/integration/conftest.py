"""Integration fixtures: the real PostgreSQL and Redis on 127.0.0.1 (as CI runs them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.conftest import Platform, _base_env, reset_caches

POSTGRES_URL = os.environ.get("HYGEIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HYGEIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reset_postgres() -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def postgres_url() -> str:
    _reset_postgres()
    return POSTGRES_URL


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def pg_platform(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """A bootstrapped platform on PostgreSQL (models registered, first admin key)."""
    from hygeia.core.bootstrap import bootstrap

    _base_env(monkeypatch, tmp_path / "var")
    monkeypatch.setenv("HYGEIA_DATABASE_URL", postgres_url)
    reset_caches()
    result = bootstrap()
    assert result.admin_key
    yield Platform(tmp_path / "var", result.admin_key)
    reset_caches()


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; the fault tests need it to stop and restart Redis")
    return binary
