"""Shared fixtures: an isolated var/ and database per test, cloned from one bootstrapped template."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import hygeia.app  # noqa: F401  (the composition root: tells core how to wire the chosen domains)

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_JWT_SECRET = "test-only-secret-not-used-anywhere-else-0123456789"


def reset_caches() -> None:
    """Settings and adapters are cached per process; tests that change the environment reset them."""
    from hygeia.core import auth, cache, jobs, limits, outcomes, redis_link, registry
    from hygeia.settings import get_settings

    # queued prediction records land in the database they were made for while it is still the test's;
    # what cannot land is dropped, or the writer thread retries it and logs into later tests' output
    outcomes.records.flush()
    with outcomes.records._lock:
        outcomes.records._rows.clear()
    get_settings.cache_clear()
    if jobs.get_backend.cache_info().currsize:
        jobs.get_backend().shutdown()
    jobs.get_backend.cache_clear()
    cache._cache.cache_clear()
    redis_link.redis_link.cache_clear()
    limits._redis_limiter.cache_clear()
    limits.reset_memory_limits()
    auth.verified_keys.clear()
    registry.production_versions.clear()


@dataclass
class Platform:
    var_dir: Path
    admin_key: str


def _base_env(monkeypatch: pytest.MonkeyPatch, var_dir: Path) -> None:
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(var_dir))
    monkeypatch.setenv("HYGEIA_MODELS_DIR", str(REPO_ROOT / "models"))
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(REPO_ROOT.parent / "shared" / "data"))
    monkeypatch.setenv("HYGEIA_ENVIRONMENT", "test")
    monkeypatch.setenv("HYGEIA_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("HYGEIA_LOG_JSON", "false")
    monkeypatch.setenv("HYGEIA_LOG_LEVEL", "WARNING")
    # tests build the evidence index themselves when they need one (first start: test_first_start.py)
    monkeypatch.setenv("HYGEIA_EVIDENCE_INDEX_ON_START", "off")
    # and the toxicity read-across table (~20 s of CPU) only where they test it (read_across_on)
    monkeypatch.setenv("HYGEIA_TOXICITY_READ_ACROSS", "false")
    for name in ("HYGEIA_DATABASE_URL", "HYGEIA_REDIS_URL", "HYGEIA_BROKER_URL", "HYGEIA_JOBS_BACKEND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session", autouse=True)
def wired_domains() -> None:
    """Register every domain's jobs, tools and capability once, as the server's start does; tests that
    call a service directly (no app built) then find its job handlers."""
    from hygeia.app import wire_domains
    from hygeia.settings import ALL_DOMAINS, Settings

    wire_domains(Settings(domains=list(ALL_DOMAINS)))


@pytest.fixture(scope="session")
def template_platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    from hygeia.core.bootstrap import bootstrap

    var_dir = tmp_path_factory.mktemp("template-var")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _base_env(monkeypatch, var_dir)
        reset_caches()
        result = bootstrap()
    reset_caches()
    assert result.admin_key
    return Platform(var_dir, result.admin_key)


@pytest.fixture
def platform(
    template_platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    var_dir = tmp_path / "var"
    shutil.copytree(template_platform.var_dir, var_dir)
    _base_env(monkeypatch, var_dir)
    reset_caches()
    yield Platform(var_dir, template_platform.admin_key)
    reset_caches()


@pytest.fixture
def read_across_on(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Single predictions name their tested Tox21 neighbours. The table is built from the real Tox21
    file once per test session (~20 s) and then kept in memory for the shipped model."""
    from hygeia.settings import get_settings
    from hygeia.toxicity import loading, read_across, service

    monkeypatch.setenv("HYGEIA_TOXICITY_READ_ACROSS", "true")
    get_settings.cache_clear()
    service._rendered.clear()  # answers other tests rendered without read-across
    found = read_across.lookup(loading.get_model(), "C", wait=None)
    assert found.status == "ready", found.reason


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    from hygeia.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def auth_header(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def admin_headers(platform: Platform) -> dict[str, str]:
    return auth_header(platform.admin_key)


@pytest.fixture
def make_key():
    """make_key(tenant, role) -> plaintext key; creates the tenant on first use."""
    from hygeia.core import auth
    from hygeia.core.db import system_session
    from hygeia.core.tables import Tenant

    def factory(tenant_id: str, role: str, tier: str = "standard") -> str:
        with system_session() as session:
            exists = session.get(Tenant, tenant_id) is not None
        if not exists:
            auth.create_tenant(tenant_id, tenant_id.title(), tier)
        return auth.create_api_key(tenant_id, role, f"{role} test key")[1]

    return factory
