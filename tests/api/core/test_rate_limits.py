"""Rate limits that fit real use: burst + sustained windows, tenant and key scopes, costs, headers."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from hygeia.core import auth
from tests.conftest import auth_header, reset_caches


@pytest.fixture
def limited_client(platform, monkeypatch):
    def factory(tiers: str, key_limit: str = "", auth_failures: str = "100/10minutes") -> TestClient:
        from hygeia.app import create_app

        monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", tiers)
        monkeypatch.setenv("HYGEIA_KEY_RATE_LIMIT", key_limit)
        monkeypatch.setenv("HYGEIA_AUTH_FAILURE_LIMIT", auth_failures)
        reset_caches()
        return TestClient(create_app(), raise_server_exceptions=False)

    return factory


def test_headers_report_the_window_closest_to_running_out(limited_client, make_key):
    client = limited_client('{"standard": "5/second;100/minute"}')
    key = auth_header(make_key("acme", "viewer"))
    response = client.get("/api/v1/auth/whoami", headers=key)
    assert response.status_code == 200
    assert response.headers["RateLimit-Limit"] == "5"
    assert response.headers["RateLimit-Remaining"] == "4"
    assert response.headers["RateLimit-Policy"] == "5;w=1, 100;w=60"
    assert 1 <= int(response.headers["RateLimit-Reset"]) <= 1


def test_limits_endpoint_lists_tenant_and_key_windows(limited_client, make_key):
    client = limited_client('{"standard": "5/second;100/minute"}', key_limit="50/minute")
    key = auth_header(make_key("acme", "viewer"))
    windows = client.get("/api/v1/auth/limits", headers=key).json()
    assert [(w["scope"], w["limit"], w["seconds"], w["remaining"]) for w in windows] == [
        ("tenant", 5, 1, 4),
        ("tenant", 100, 60, 99),
        ("key", 50, 60, 49),
    ]


def test_one_key_cannot_use_up_its_tenants_whole_budget(limited_client, make_key):
    client = limited_client('{"standard": "100/minute"}', key_limit="3/minute")
    runaway, colleague = auth_header(make_key("acme", "viewer")), auth_header(make_key("acme", "viewer"))
    codes = [client.get("/api/v1/auth/whoami", headers=runaway).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "key's limit of 3" in client.get("/api/v1/auth/whoami", headers=runaway).json()["detail"]
    assert client.get("/api/v1/auth/whoami", headers=colleague).status_code == 200


def test_a_batch_costs_its_size_and_a_refused_charge_costs_nothing(limited_client, make_key):
    limited_client('{"standard": "10/minute"}')
    key = make_key("acme", "viewer")
    principal = auth.authenticate(key)
    request = Request({"type": "http", "state": {}})
    auth.charge(request, principal, cost=8)
    assert request.state.rate_limit_headers["RateLimit-Remaining"] == "2"
    with pytest.raises(auth.ProblemError) as refused:
        auth.charge(request, principal, cost=3)
    assert refused.value.status == 429
    auth.charge(request, principal, cost=2)  # the refused 3 were not taken
    with pytest.raises(auth.ProblemError) as too_big:
        auth.charge(request, principal, cost=11)
    assert too_big.value.status == 413 and "split it" in too_big.value.detail


def test_many_bad_keys_from_one_address_are_refused_before_lookup(limited_client, make_key, monkeypatch):
    client = limited_client('{"standard": "1000/minute"}', auth_failures="5/10minutes")
    good = auth_header(make_key("acme", "viewer"))
    bad_keys = [auth_header(f"hyg_wrong{n}") for n in range(6)]
    codes = [client.get("/api/v1/auth/whoami", headers=bad).status_code for bad in bad_keys]
    assert codes == [401] * 5 + [429]
    lookups = []
    monkeypatch.setattr(auth, "authenticate", lambda credential: lookups.append(credential))
    throttled = client.get("/api/v1/auth/whoami", headers=good)  # even a good key, from that address
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert lookups == []


def test_console_sign_in_is_throttled_too(limited_client):
    client = limited_client('{"standard": "1000/minute"}', auth_failures="3/10minutes")
    origin = {"Origin": "http://testserver"}
    codes = [
        client.post(
            "/login", data={"api_key": f"hyg_wrong{n}", "next": "/"}, headers=origin, follow_redirects=False
        ).status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]
