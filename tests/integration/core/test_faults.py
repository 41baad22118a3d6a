"""Faults: a Celery worker killed mid-job (job redelivered, result stored once) and PostgreSQL dropping
every connection (the next request reconnects)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from hygeia.core import jobs
from hygeia.core.auth import Principal
from tests.conftest import auth_header, reset_caches

pytestmark = pytest.mark.integration


def _start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hygeia.cli", "worker", "--concurrency", "1"],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _wait_status(tenant: str, job_id: str, statuses: set[str], timeout: float) -> jobs.JobInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = jobs.get_job(tenant, job_id)
        if info.status in statuses:
            return info
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {statuses}; last: {info.status}")


def test_worker_killed_mid_job_is_redelivered_and_stored_once(pg_platform, redis_url, monkeypatch, tmp_path):
    attempts = tmp_path / "attempts.txt"
    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    monkeypatch.setenv("HYGEIA_JOBS_BACKEND", "celery")
    monkeypatch.setenv("HYGEIA_JOB_MODULES", '["tests.integration.core.slow_jobs"]')
    # long enough that the new worker starts before it expires: redelivery must come from the periodic sweep
    monkeypatch.setenv("HYGEIA_CELERY_VISIBILITY_TIMEOUT", "8")
    monkeypatch.setenv("HYGEIA_TEST_ATTEMPTS_FILE", str(attempts))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    reset_caches()
    import tests.integration.core.slow_jobs  # noqa: F401  (registers the kind in this process too)

    analyst = Principal("acme", "analyst", "key:test", "standard")
    first = _start_worker()
    try:
        job = jobs.submit_job(analyst, "test.slow_sum", {"values": [1, 2, 3], "steps": 40})
        _wait_status("acme", job.id, {"running"}, timeout=60)
        time.sleep(0.5)
        _stop(first, signal.SIGKILL)  # the whole worker, mid-job, no chance to acknowledge
        assert jobs.get_job("acme", job.id).status == "running"
        second = _start_worker()
        try:
            done = _wait_status("acme", job.id, {"succeeded", "failed"}, timeout=90)
        finally:
            _stop(second)
    finally:
        _stop(first, signal.SIGKILL)
    assert done.status == "succeeded" and done.result == {"sum": 6}
    assert len(set(attempts.read_text().split())) == 2  # started twice, by two different processes
    assert jobs.execute_job(job.id) == "succeeded"  # a late duplicate delivery changes nothing
    assert len(attempts.read_text().split()) == 2


def test_postgres_dropping_connections_reconnects(pg_platform, postgres_url):
    from hygeia.app import create_app

    headers = auth_header(pg_platform.admin_key)
    with TestClient(create_app()) as client:
        assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 200
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        admin.dispose()
        assert killed >= 1
        assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 200
        assert client.get("/ready").json()["checks"]["database"]["ok"] is True
