"""Audit is append-only; in-process jobs run, report progress and survive a restart; the memory cache."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from hygeia.core import audit, jobs
from hygeia.core.auth import Principal
from hygeia.core.cache import cache_key, get_cache
from hygeia.core.db import get_engine, tenant_session
from hygeia.core.tables import Job
from tests.conftest import reset_caches

ANALYST = Principal("acme", "analyst", "key:test", "standard", "")


def test_audit_rows_cannot_be_updated_or_deleted(platform):
    audit.record(ANALYST, "predict:demo", payload=b"CCO", n_items=1)
    [event] = audit.list_events("acme")
    assert event.input_sha256 == hashlib.sha256(b"CCO").hexdigest()
    with get_engine().begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    with get_engine().begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text("DELETE FROM audit_events"))
    assert audit.list_events("globex") == []


def _wait(job_id: str, tenant: str = "acme", timeout: float = 20) -> jobs.JobInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = jobs.get_job(tenant, job_id)
        if info.status in ("succeeded", "failed"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_in_process_job_runs_with_progress_and_result(platform):
    def count_words(payload, ctx):
        ctx.progress(0.5, "halfway")
        return {"words": len(payload["text"].split())}

    jobs.register_job_handler("test.count_words", count_words)
    submitted = jobs.submit_job(ANALYST, "test.count_words", {"text": "a b c"})
    assert submitted.status == "queued"
    done = _wait(submitted.id)
    assert (done.status, done.result, done.progress) == ("succeeded", {"words": 3}, 1.0)
    with pytest.raises(Exception, match="no job"):
        jobs.get_job("globex", submitted.id)


def test_failed_job_records_error(platform):
    def explode(payload, ctx):
        raise ValueError("bad molecule block")

    jobs.register_job_handler("test.explode", explode)
    done = _wait(jobs.submit_job(ANALYST, "test.explode", {}).id)
    assert done.status == "failed" and "bad molecule block" in (done.error or "")


def test_queued_job_survives_api_restart(platform):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app

    jobs.register_job_handler("test.echo", lambda payload, ctx: {"echo": payload["x"]})
    with tenant_session("acme") as session:  # as if the API died right after accepting the job
        session.add(Job(kind="test.echo", payload={"x": 7}, created_by="key:test", status="running"))
        session.flush()
        job_id = session.query(Job.id).scalar()
    reset_caches()
    with TestClient(create_app()):
        done = _wait(job_id)
    assert done.result == {"echo": 7}


def test_finished_job_is_not_run_twice(platform):
    calls = []
    jobs.register_job_handler("test.once", lambda payload, ctx: calls.append(1) or {"n": len(calls)})
    job_id = _wait(jobs.submit_job(ANALYST, "test.once", {}).id).id
    assert jobs.execute_job(job_id) == "succeeded"
    assert calls == [1]


def test_memory_cache_round_trip(platform):
    cache = get_cache()
    key = cache_key("toxicity", "sha", "CCO")
    assert cache.get_json(key) is None
    cache.set_json(key, {"p": 0.25})
    assert cache.get_json(key) == {"p": 0.25} and cache.backend == "memory"
    assert key != cache_key("toxicity", "sha", "CCN")
