"""Refusals leave a trace in the audit log; /metrics can require a scrape token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hygeia.core import audit
from tests.api.core.conftest import submit_echo
from tests.conftest import auth_header, reset_caches


def test_an_unknown_key_is_audited_under_the_platform_tenant(client):
    assert client.get("/api/v1/auth/whoami", headers=auth_header("hyg_not_a_key")).status_code == 401
    [event] = audit.list_events("platform", action="denied:401")
    assert event.actor == "anonymous@testclient"
    assert event.detail == {
        "method": "GET",
        "route": "/api/v1/auth/whoami",
        "status": 401,
        "reason": "unknown API key",
    }


def test_a_forbidden_action_is_audited_in_the_callers_tenant(client, make_key):
    viewer = make_key("acme", "viewer")
    assert (
        client.post("/api/v1/jobs", json={"kind": "registry.verify"}, headers=auth_header(viewer)).status_code
        == 403
    )
    [event] = audit.list_events("acme", action="denied:403")
    assert event.role == "viewer" and event.detail["route"] == "/api/v1/jobs"


def test_probing_another_tenants_job_is_audited_but_a_missing_id_is_not(client, make_key):
    acme, globex = auth_header(make_key("acme", "admin")), auth_header(make_key("globex", "admin"))
    job_id = submit_echo(acme)
    assert client.get(f"/api/v1/jobs/{job_id}", headers=globex).status_code == 404
    assert client.get("/api/v1/jobs/doesnotexist", headers=globex).status_code == 404
    [event] = audit.list_events("globex", action="denied:404")
    assert (
        event.detail["reason"] == "job of another tenant" and event.detail["route"] == "/api/v1/jobs/{job_id}"
    )


def test_metrics_need_the_scrape_token_once_configured(platform, monkeypatch):
    from hygeia.app import create_app

    with TestClient(create_app()) as open_client:
        assert open_client.get("/metrics").status_code == 200
    monkeypatch.setenv("HYGEIA_METRICS_TOKEN", "scrape-" + "x" * 30)
    reset_caches()
    with TestClient(create_app()) as guarded:
        assert guarded.get("/metrics").status_code == 401
        assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = guarded.get("/metrics", headers={"Authorization": "Bearer scrape-" + "x" * 30})
    assert scraped.status_code == 200 and "hygeia_http_request_duration_seconds" in scraped.text


def test_metrics_expose_readiness_job_queue_and_disk_for_the_alert_rules(client, make_key):
    from hygeia.core import jobs
    from hygeia.core.auth import authenticate

    assert client.get("/ready").status_code == 200
    jobs.submit_job(authenticate(make_key("acme", "admin")), "test.echo", {})
    text = client.get("/metrics").text
    assert 'hygeia_readiness_ok{check="database"} 1.0' in text
    assert "hygeia_jobs_oldest_queued_seconds" in text and 'hygeia_jobs_in_state{status="queued"}' in text
    free = float(
        next(line.split()[1] for line in text.splitlines() if line.startswith("hygeia_var_free_ratio"))
    )
    assert 0 < free <= 1
