"""A job submitted through the API is executed by a real `hygeia worker` over real Redis and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth_header, reset_caches
from tests.unit.core.test_registry import make_model

pytestmark = pytest.mark.integration


def _wait_for(client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished after {timeout} s: {job}")


def test_celery_worker_runs_registry_verification(pg_platform, redis_url, monkeypatch, tmp_path):
    from hygeia.app import create_app
    from hygeia.core.registry import get_registry

    get_registry().register(make_model(tmp_path, "2.0.0"))

    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    monkeypatch.setenv("HYGEIA_JOBS_BACKEND", "celery")
    reset_caches()
    worker = subprocess.Popen(
        [sys.executable, "-m", "hygeia.cli", "worker", "--concurrency", "1"],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        headers = auth_header(pg_platform.admin_key)
        with TestClient(create_app()) as client:
            submitted = client.post("/api/v1/jobs", json={"kind": "registry.verify"}, headers=headers)
            assert submitted.status_code == 202, submitted.text
            job = _wait_for(client, submitted.json()["id"], headers)
        assert job["status"] == "succeeded", job
        assert job["result"]["all_ok"] is True
        assert {"name": "logit", "version": "2.0.0", "ok": True} in job["result"]["models"]
        assert job["progress"] == 1.0
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert b"hygeia.run_job" in output, output.decode(errors="replace")[-2000:]
