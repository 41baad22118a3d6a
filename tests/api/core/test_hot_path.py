"""The request hot path keeps its security properties while it stops touching the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from hygeia.core import audit, auth
from tests.conftest import REPO_ROOT, Platform, auth_header


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def second_worker(platform: Platform) -> Iterator[str]:
    """Another server process on the same database, as a second uvicorn worker or pod would be."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "hygeia.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            error = process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"second worker did not start: {error!r}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(15)


def test_a_revoked_key_stops_working_on_another_worker_within_one_second(client, make_key, second_worker):
    key = make_key("acme", "analyst")
    whoami = f"{second_worker}/api/v1/auth/whoami"
    for _ in range(3):  # the other worker has verified and remembered the key
        assert httpx.get(whoami, headers=auth_header(key), timeout=5).status_code == 200
    assert client.get("/api/v1/auth/whoami", headers=auth_header(key)).status_code == 200
    revoked_at = time.monotonic()
    auth.revoke_api_key("acme", auth.authenticate(key).key_id)
    # this worker forgets the key at once; the other within KEY_CACHE_SECONDS
    assert client.get("/api/v1/auth/whoami", headers=auth_header(key)).status_code == 401
    time.sleep(max(0.0, revoked_at + auth.KEY_CACHE_SECONDS + 0.05 - time.monotonic()))
    refused = httpx.get(whoami, headers=auth_header(key), timeout=5)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_verified_keys_are_remembered_so_the_database_is_not_asked_again(client, make_key, monkeypatch):
    key = make_key("acme", "viewer")
    assert client.get("/api/v1/auth/whoami", headers=auth_header(key)).status_code == 200
    lookups = []
    monkeypatch.setattr(auth, "_lookup_key", lambda key_hash: lookups.append(key_hash))
    assert client.get("/api/v1/auth/whoami", headers=auth_header(key)).status_code == 200
    assert lookups == []


def test_unknown_keys_are_never_remembered(client):
    for _ in range(2):
        assert client.get("/api/v1/auth/whoami", headers=auth_header("hyg_unknown")).status_code == 401


def test_audit_rows_written_in_the_background_are_all_there_after_shutdown(platform, make_key):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app

    key = make_key("acme", "analyst")
    principal = auth.authenticate(key)
    with TestClient(create_app()):
        assert audit.writer.running
        for number in range(1200):  # more than two batches
            audit.record(principal, "test:burst", detail={"n": number})
    assert not audit.writer.running
    events = audit.list_events("acme", limit=1000, action="test:burst")
    assert len(events) == 1000
    assert sorted(e.detail["n"] for e in events) == list(range(200, 1200))


def test_a_failed_audit_batch_is_retried_not_dropped(platform, make_key, monkeypatch):
    principal = auth.authenticate(make_key("acme", "analyst"))
    real_insert, failures = audit.insert_rows, []

    def flaky_insert(rows):
        if not failures:
            failures.append(len(rows))
            raise RuntimeError("database is locked")
        real_insert(rows)

    monkeypatch.setattr(audit, "insert_rows", flaky_insert)
    monkeypatch.setattr(audit, "RETRY_SECONDS", 0.05)
    writer = audit.AuditWriter()
    monkeypatch.setattr(audit, "writer", writer)
    writer.start()
    audit.record(principal, "test:retry")
    writer.stop()
    assert failures == [1]
    assert [e.action for e in audit.list_events("acme", action="test:retry")] == ["test:retry"]


def test_a_chunked_body_over_the_limit_gets_413(platform, admin_headers, monkeypatch):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app
    from hygeia.settings import get_settings

    monkeypatch.setenv("HYGEIA_MAX_BODY_BYTES", "2048")
    get_settings.cache_clear()

    def chunks() -> Iterator[bytes]:
        for _ in range(16):
            yield b"x" * 1024

    with TestClient(create_app(), raise_server_exceptions=False) as small:
        sized = small.post("/api/v1/admin/keys", headers=admin_headers, content=b"x" * 4096)
        response = small.post("/api/v1/admin/keys", headers=admin_headers, content=chunks())
    assert sized.status_code == 413
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_every_response_carries_a_request_id(client):
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "not valid!"}).headers["X-Request-ID"]
    assert len(generated) == 32


def test_https_answers_carry_hsts_and_plain_http_ones_do_not(client):
    assert "strict-transport-security" not in client.get("/health").headers
    behind_ingress = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert behind_ingress.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
