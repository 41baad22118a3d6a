"""A screen of real Tox21 molecules over real Celery workers, Redis and PostgreSQL: the worker scoring
a chunk is SIGKILLed, the chunk is redelivered to a new worker, and the merged file holds every
molecule once, in input order."""

from __future__ import annotations

import csv
import io
import os
import signal
import sys
import time

import pytest
from sqlalchemy import select

from hygeia.core import jobs
from hygeia.core.auth import Principal
from hygeia.core.blobs import get_blob_store
from hygeia.core.db import system_session
from hygeia.core.tables import Job
from tests.conftest import reset_caches
from tests.integration.core.test_faults import _start_worker, _stop, _wait_status

pytestmark = pytest.mark.integration

MOLECULES, CHUNK = 900, 300


def _library(data_dir: str) -> bytes:
    with open(os.path.join(data_dir, "tox21", "tox21.csv")) as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)][:MOLECULES]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["compound_id", "smiles"])
    writer.writerows((f"m{i}", s) for i, s in enumerate(smiles))
    return out.getvalue().encode()


def _running_chunk(timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with system_session() as session:
            running = session.scalar(
                select(Job.id).where(Job.kind == "toxicity.screen_chunk", Job.status == "running")
            )
        if running is not None:
            return str(running)
        time.sleep(0.05)
    raise AssertionError("no chunk started")


def test_worker_killed_mid_chunk_loses_and_duplicates_nothing(pg_platform, redis_url, monkeypatch):
    from hygeia.app import wire_domains
    from hygeia.settings import get_settings
    from hygeia.toxicity import screen

    monkeypatch.setenv("HYGEIA_REDIS_URL", redis_url)
    monkeypatch.setenv("HYGEIA_JOBS_BACKEND", "celery")
    monkeypatch.setenv("HYGEIA_CELERY_VISIBILITY_TIMEOUT", "8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    reset_caches()
    wire_domains()
    analyst = Principal("acme", "analyst", "key:test", "standard")
    body = _library(str(get_settings().data_dir))
    first = _start_worker()
    try:
        job = screen.submit_screen(analyst, io.BytesIO(body), "library.csv", "csv", CHUNK)
        killed_chunk = _running_chunk(timeout=120)
        time.sleep(0.5)
        _stop(first, signal.SIGKILL)  # mid-chunk: the message is never acknowledged
        assert jobs.get_job("acme", job.id).status == "running"
        second = _start_worker()
        try:
            done = _wait_status("acme", job.id, {"succeeded", "failed"}, timeout=240)
        finally:
            _stop(second)
    finally:
        _stop(first, signal.SIGKILL)
    assert done.status == "succeeded", done.error
    assert done.result is not None and done.result["n_rows"] == MOLECULES
    assert done.result["chunks"] == MOLECULES // CHUNK
    with system_session() as session:
        assert session.get(Job, killed_chunk).attempts == 2  # redone by the second worker
    stored = get_blob_store().read_bytes(done.result["output"]["key"]).decode()
    rows = list(csv.DictReader(io.StringIO(stored)))
    assert [r["compound_id"] for r in rows] == [f"m{i}" for i in range(MOLECULES)]
