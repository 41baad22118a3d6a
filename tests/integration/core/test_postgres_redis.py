"""Production adapters against the real PostgreSQL and Redis: migrations, isolation, limits, cache."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DatabaseError

from hygeia.core import audit, migrate
from hygeia.core.auth import Principal
from hygeia.core.cache import get_cache
from hygeia.core.db import tenant_session
from hygeia.core.tables import Job
from tests.conftest import auth_header, reset_caches
from tests.unit.core.test_migrations import schema_drift

pytestmark = pytest.mark.integration


def test_migrations_upgrade_downgrade_upgrade_on_postgres(postgres_url):
    migrate.upgrade(postgres_url)
    engine = create_engine(postgres_url)
    assert {"tenants", "api_keys", "jobs", "audit_events", "model_versions"} <= set(
        inspect(engine).get_table_names()
    )
    migrate.downgrade(postgres_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(postgres_url)
    engine.dispose()
    assert schema_drift(postgres_url) == []


def test_tenant_isolation_and_append_only_audit_on_postgres(pg_platform):
    from hygeia.core.db import get_engine

    for tenant in ("acme", "globex"):
        with tenant_session(tenant) as session:
            session.add(Job(kind="registry.verify", payload={}, created_by="t", status="queued"))
    with tenant_session("acme") as session:
        assert [job.tenant_id for job in session.scalars(select(Job))] == ["acme"]
    audit.record(Principal("acme", "admin", "key:x", "standard"), "key.create")
    with get_engine().begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text("DELETE FROM audit_events"))


def test_rate_limit_counts_are_shared_through_redis(pg_platform, redis_url, monkeypatch, make_key):
    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", '{"free": "4/minute"}')
    reset_caches()
    key = auth_header(make_key("small", "viewer", tier="free"))
    with TestClient(create_app()) as replica_a:
        assert [replica_a.get("/api/v1/auth/whoami", headers=key).status_code for _ in range(2)] == [200, 200]
    from hygeia.core import limits

    limits.reset_memory_limits()  # a second replica shares nothing in memory with the first
    with TestClient(create_app()) as replica_b:
        codes = [replica_b.get("/api/v1/auth/whoami", headers=key).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    ready = TestClient(create_app()).get("/ready").json()
    assert ready["checks"]["redis"]["ok"] is True


def test_one_script_charges_every_window_in_redis_or_none(pg_platform, redis_url, monkeypatch):
    """Tenant and key windows are charged together in one round trip; a refusal takes nothing, and the
    library reads the same lists back (GET /auth/limits), so both agree on what is left."""
    import asyncio

    from hygeia.core import limits

    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", '{"standard": "10/second;12/minute"}')
    monkeypatch.setenv("HYGEIA_KEY_RATE_LIMIT", "5/minute")
    reset_caches()
    charged = limits.enforce_rate_limit("acme", "standard", "k1", cost=3)
    assert [(w.scope, w.limit, w.remaining) for w in charged] == [
        ("tenant", 10, 7),
        ("tenant", 12, 9),
        ("key", 5, 2),
    ]
    with pytest.raises(limits.RateLimited, match="key's limit of 5"):
        asyncio.run(limits.enforce_rate_limit_async("acme", "standard", "k1", cost=3))
    after = asyncio.run(limits.enforce_rate_limit_async("acme", "standard", "k1", cost=2))
    assert [w.remaining for w in after] == [5, 7, 0]  # the refused 3 took nothing from any window
    assert [w.remaining for w in limits.status("acme", "standard", "k1")] == [5, 7, 0]
    assert limits.status("acme", "standard", "k1")[2].reset_seconds in range(59, 61)
    assert redis.Redis.from_url(redis_url).keys("LIMITS:*")  # in Redis, not the memory fallback


def test_cache_uses_redis(pg_platform, redis_url, monkeypatch):
    import redis

    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    reset_caches()
    cache = get_cache()
    cache.set_json("k1", {"ebgm": 2.5})
    cache.clear_memory()
    assert cache.get_json("k1") == {"ebgm": 2.5} and cache.backend == "redis"
    assert redis.Redis.from_url(redis_url).exists("hygeia:cache:k1") == 1
