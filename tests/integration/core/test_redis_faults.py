"""Redis stops mid-run: cache and rate limits fall back to memory, /ready says degraded, then recovers."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import auth_header, reset_caches
from tests.integration.conftest import redis_server_binary

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("private redis-server did not start")


def test_redis_killed_mid_run_degrades_then_recovers(platform, monkeypatch, make_key):
    from hygeia.app import create_app
    from hygeia.core import redis_link
    from hygeia.core.cache import get_cache

    port = _free_port()
    server = _start_redis(port)
    monkeypatch.setenv("HYGEIA_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setattr(redis_link, "RETRY_SECONDS", 0.2)
    reset_caches()
    key = auth_header(make_key("acme", "viewer"))
    try:
        with TestClient(create_app()) as client:
            assert client.get("/ready").json()["status"] in ("ready", "degraded")
            assert client.get("/ready").json()["checks"]["redis"]["ok"] is True
            get_cache().set_json("before", {"v": 1})

            server.kill()
            server.wait()
            assert client.get("/api/v1/auth/whoami", headers=key).status_code == 200  # limits in memory
            get_cache().set_json("during", {"v": 2})
            assert get_cache().get_json("during") == {"v": 2} and get_cache().backend == "memory"
            ready = client.get("/ready").json()
            assert ready["status"] == "degraded" and ready["checks"]["redis"] == {
                "ok": False,
                "fallback": "memory",
            }

            server = _start_redis(port)
            time.sleep(0.3)
            assert client.get("/ready").json()["checks"]["redis"]["ok"] is True
            assert client.get("/api/v1/auth/whoami", headers=key).status_code == 200
            get_cache().set_json("after", {"v": 3})
            assert redis.Redis(port=port).exists("hygeia:cache:after") == 1
    finally:
        server.kill()


def test_unreachable_redis_at_start_still_serves(platform, monkeypatch, make_key):
    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    reset_caches()
    key = auth_header(make_key("acme", "viewer"))
    with TestClient(create_app()) as client:
        assert client.get("/api/v1/auth/whoami", headers=key).status_code == 200
        assert client.get("/ready").json()["status"] == "degraded"
