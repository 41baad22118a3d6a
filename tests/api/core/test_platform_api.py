"""The platform API through HTTP: health, errors, auth, roles, rate limits, admin, jobs."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET, auth_header, reset_caches


def test_health_ready_metrics_docs(client):
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"] is True
    assert "redis" not in ready.json()["checks"]  # not configured: nothing to check
    client.get("/health")
    metrics = client.get("/metrics").text
    assert 'hygeia_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"' in metrics
    assert client.get("/docs").status_code == 200
    assert "/api/v1/admin/models" in client.get("/openapi.json").json()["paths"]


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32


def test_errors_are_problem_json(client, admin_headers):
    missing = client.get("/api/v1/nowhere", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404 and missing.json()["title"] == "Not Found"
    invalid = client.post("/api/v1/admin/tenants", json={"id": "!!", "name": ""}, headers=admin_headers)
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert {tuple(e["loc"]) for e in invalid.json()["errors"]} >= {("body", "id"), ("body", "name")}


def test_a_query_parameter_the_endpoint_does_not_take_is_refused_not_ignored(client, admin_headers):
    assert (
        client.get("/api/v1/jobs", params={"limit": 5, "kind": "x"}, headers=admin_headers).status_code == 200
    )
    typo = client.get("/api/v1/jobs", params={"limti": 5}, headers=admin_headers)
    assert typo.status_code == 422 and typo.headers["content-type"] == "application/problem+json"
    assert (
        typo.json()["detail"] == "unknown query parameter(s) limti; this endpoint takes: before, kind, limit"
    )
    assert client.get("/health", params={"probe": "1"}).status_code == 200  # probes may add their own


def test_oversized_body_is_refused_with_413(client, admin_headers, monkeypatch):
    body = b"{" + b" " * (11 * 1024 * 1024) + b"}"
    response = client.post("/api/v1/admin/tenants", content=body, headers=admin_headers)
    assert response.status_code == 413
    assert response.json()["title"] == "Request body too large"


def test_unauthenticated_and_unknown_keys_are_401(client):
    assert client.get("/api/v1/auth/whoami").status_code == 401
    response = client.get("/api/v1/auth/whoami", headers=auth_header("hyg_not-a-real-key"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_roles_gate_actions(client, make_key):
    viewer = auth_header(make_key("acme", "viewer"))
    analyst = auth_header(make_key("acme", "analyst"))
    tenant_admin = auth_header(make_key("acme", "admin"))
    assert client.get("/api/v1/auth/whoami", headers=viewer).json() == {
        "tenant_id": "acme",
        "role": "viewer",
        "subject": client.get("/api/v1/auth/whoami", headers=viewer).json()["subject"],
    }
    assert (
        client.post("/api/v1/admin/keys", json={"name": "x", "role": "viewer"}, headers=viewer).status_code
        == 403
    )
    assert (
        client.post("/api/v1/admin/keys", json={"name": "x", "role": "viewer"}, headers=analyst).status_code
        == 403
    )
    created = client.post("/api/v1/admin/keys", json={"name": "x", "role": "viewer"}, headers=tenant_admin)
    assert created.status_code == 201 and created.json()["key"].startswith("hyg_")
    # a tenant admin is not a platform admin: no tenants, no registry changes, no keys elsewhere
    tenant = {"id": "evil", "name": "Evil"}
    assert client.post("/api/v1/admin/tenants", json=tenant, headers=tenant_admin).status_code == 403
    other = {"name": "x", "role": "admin", "tenant_id": "platform"}
    assert client.post("/api/v1/admin/keys", json=other, headers=tenant_admin).status_code == 403


def test_jwt_round_trip_expiry_tamper_and_revocation(client, make_key):
    key = make_key("acme", "analyst")
    issued = client.post("/api/v1/auth/token", headers=auth_header(key))
    assert issued.status_code == 200
    token = issued.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/whoami", headers=bearer).json()["role"] == "analyst"

    claims = jwt.decode(token, TEST_JWT_SECRET, algorithms=["HS256"], issuer="hygeia")
    elevated = jwt.encode({**claims, "role": "admin"}, "some-other-secret", algorithm="HS256")
    assert (
        client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {elevated}"}).status_code == 401
    )
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, TEST_JWT_SECRET, algorithm="HS256")
    response = client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]

    admin = auth_header(make_key("acme", "admin"))
    key_id = claims["kid"]
    assert client.delete(f"/api/v1/admin/keys/{key_id}", headers=admin).status_code == 204
    assert client.get("/api/v1/auth/whoami", headers=auth_header(key)).status_code == 401
    assert client.get("/api/v1/auth/whoami", headers=bearer).status_code == 401


def test_rate_limit_per_tenant_tier_returns_429_with_retry_after(platform, monkeypatch, make_key):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", '{"free": "3/minute", "standard": "100/minute"}')
    reset_caches()
    free = auth_header(make_key("small", "viewer", tier="free"))
    standard = auth_header(make_key("big", "viewer", tier="standard"))
    with TestClient(create_app()) as client:
        codes = [client.get("/api/v1/auth/whoami", headers=free).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/v1/auth/whoami", headers=free)
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.headers["content-type"] == "application/problem+json"
        assert all(client.get("/api/v1/auth/whoami", headers=standard).status_code == 200 for _ in range(5))


def test_audit_log_records_admin_actions_per_tenant(client, make_key):
    admin = auth_header(make_key("acme", "admin"))
    client.post("/api/v1/admin/keys", json={"name": "bot", "role": "viewer"}, headers=admin)
    events = client.get("/api/v1/admin/audit", headers=admin).json()
    assert [e["action"] for e in events] == ["key.create"]
    assert events[0]["actor"].startswith("key:")
    other_admin = auth_header(make_key("globex", "admin"))
    assert client.get("/api/v1/admin/audit", headers=other_admin).json() == []


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/admin/models", "/api/v1/capabilities"])
def test_viewer_can_read(client, make_key, path):
    assert client.get(path, headers=auth_header(make_key("acme", "viewer"))).status_code == 200


def test_cors_is_off_by_default_and_configurable(platform, monkeypatch):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app

    preflight = {"Origin": "https://console.example.org", "Access-Control-Request-Method": "GET"}
    with TestClient(create_app()) as client:
        assert "access-control-allow-origin" not in client.options("/health", headers=preflight).headers
    monkeypatch.setenv("HYGEIA_CORS_ORIGINS", '["https://console.example.org"]')
    reset_caches()
    with TestClient(create_app()) as client:
        allowed = client.options("/health", headers=preflight).headers
        assert allowed["access-control-allow-origin"] == "https://console.example.org"


def test_logs_are_json_with_request_id(platform, monkeypatch, capsys):
    from fastapi.testclient import TestClient

    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_LOG_JSON", "true")
    monkeypatch.setenv("HYGEIA_LOG_LEVEL", "INFO")
    reset_caches()
    with TestClient(create_app()) as client:
        client.get("/health", headers={"X-Request-ID": "trace-42"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines and request_lines[-1]["request_id"] == "trace-42"
    assert request_lines[-1]["route"] == "/health" and request_lines[-1]["status"] == 200
