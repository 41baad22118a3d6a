"""A job kind that finishes at once, so core tests that only need *a* job do not queue real work
(registry.verify re-hashes every bundled model: seconds each, and it outlives the test)."""

from __future__ import annotations

import pytest

from hygeia.core import jobs

ECHO = "test.echo"


@pytest.fixture(autouse=True)
def echo_job_kind(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(jobs._HANDLERS, ECHO, lambda payload, ctx: {"echo": payload.get("x", True)})
    return ECHO


def submit_echo(headers: dict[str, str]) -> str:
    """Submit a test.echo job as the key in these headers; its id (the API only takes platform kinds)."""
    from hygeia.core import auth

    return jobs.submit_job(auth.authenticate(headers["X-API-Key"]), ECHO, {}).id
