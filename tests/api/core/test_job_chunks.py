"""Jobs handed to chunk jobs: other jobs do not wait behind the chunks, and a backlog of chunks is not
a stale queue for the alert."""

from __future__ import annotations

import threading
import time

import pytest

from hygeia.core import auth, jobs
from tests.conftest import auth_header

CHUNK, FAN_OUT = "test.slow_chunk", "test.fan_out"
CHUNKS = 12


@pytest.fixture
def fan_out_kinds(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """A job that hands out CHUNKS chunks, each of which waits until the test lets it go."""
    release = threading.Event()

    def chunk(payload: dict, ctx: jobs.JobContext) -> dict:  # type: ignore[type-arg]
        release.wait(timeout=20)
        return {"chunk": payload["index"]}

    monkeypatch.setitem(jobs._HANDLERS, CHUNK, chunk)
    monkeypatch.setattr(jobs, "_CHILD_ONLY", {*jobs._CHILD_ONLY, CHUNK})
    monkeypatch.setitem(
        jobs._HANDLERS, FAN_OUT, lambda p, ctx: ctx.hand_off(CHUNK, [{"index": n} for n in range(CHUNKS)], "")
    )
    return release


def _wait(tenant: str, job_id: str, statuses: set[str]) -> jobs.JobInfo:
    deadline = time.monotonic() + 30
    while (job := jobs.get_job(tenant, job_id)).status not in statuses:
        assert time.monotonic() < deadline, f"job {job_id} stayed {job.status}"
        time.sleep(0.02)
    return job


def test_other_jobs_run_while_chunks_wait(client, make_key, echo_job_kind, fan_out_kinds) -> None:  # type: ignore[no-untyped-def]
    principal = auth.authenticate(auth_header(make_key("acme", "admin"))["X-API-Key"])
    parent = jobs.submit_job(principal, FAN_OUT, {})
    assert _wait("acme", parent.id, {"running"}).status == "running"
    time.sleep(0.2)  # every chunk is queued, the first one holds the chunk thread
    other = jobs.submit_job(principal, echo_job_kind, {"x": 1})
    assert _wait("acme", other.id, {"succeeded", "failed"}).result == {"echo": 1}
    waiting = [jobs.get_job("acme", jobs.child_job_id(parent.id, n)).status for n in range(CHUNKS)]
    assert waiting.count("queued") >= CHUNKS - 1  # the caller's job went first, not after twelve chunks
    collected = {m.name: m for m in jobs.JobQueueCollector().collect()}
    assert collected["hygeia_jobs_oldest_queued_seconds"].samples[0].value == 0.0  # chunks are not stale
    fan_out_kinds.set()
    for n in range(CHUNKS):
        assert _wait("acme", jobs.child_job_id(parent.id, n), {"succeeded"}).result == {"chunk": n}
