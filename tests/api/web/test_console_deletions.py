"""Console delete buttons for signal runs and jobs: the API's rules (finished jobs, own tenant; runs by
analysts, the jobs table by tenant admins), the files removed with the row, every deletion audited."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from hygeia.core import audit
from hygeia.core.blobs import get_blob_store, tenant_prefix
from tests.api.core.conftest import ECHO, submit_echo
from tests.api.signals.test_cases_history_api import _finished_run
from tests.api.web.helpers import HTMX, sign_in
from tests.conftest import auth_header


def _stored(tenant_id: str) -> list[str]:
    return [info.key for info in get_blob_store().list(tenant_prefix(tenant_id))]


def test_an_analyst_deletes_a_finished_run_with_its_files(client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    run_id = _finished_run(client, auth_header(key), b"id,drug,event\n1,A,X\n2,A,Y\n3,B,X\n", "db")
    assert any(run_id in k for k in _stored("acme")) and len(_stored("acme")) == 2
    sign_in(client, key)
    page = client.get("/signals").text
    assert f'hx-post="/ui/signals/runs/{run_id}/delete"' in page

    response = client.post(f"/ui/signals/runs/{run_id}/delete", headers=HTMX)

    assert response.status_code == 200, response.text
    assert f"Deleted run {run_id[:8]} and its files." in response.text and "No runs yet." in response.text
    assert _stored("acme") == []
    assert client.get(f"/api/v1/signals/runs/{run_id}", headers=auth_header(key)).status_code == 404
    [event] = audit.list_events("acme", action="job.delete")
    assert event.detail == {"job_id": run_id, "kind": "signals.score"}


def test_another_tenants_run_is_a_404_and_audited_and_viewers_have_no_button(
    client: TestClient, make_key
) -> None:
    owner, viewer = make_key("acme", "analyst"), make_key("acme", "viewer")
    intruder = make_key("globex", "analyst")
    run_id = _finished_run(client, auth_header(owner), b"id,drug,event\n1,A,X\n2,A,Y\n", "db")
    sign_in(client, intruder)
    refused = client.post(f"/ui/signals/runs/{run_id}/delete", headers=HTMX)
    assert refused.status_code == 404 and "Traceback" not in refused.text
    [denied] = audit.list_events("globex", action="denied:404")
    assert denied.detail["reason"] == "job of another tenant"

    sign_in(client, viewer)
    assert run_id in client.get("/signals").text
    assert "/delete" not in client.get("/signals").text
    assert client.post(f"/ui/signals/runs/{run_id}/delete", headers=HTMX).status_code == 403
    assert client.get(f"/api/v1/signals/runs/{run_id}", headers=auth_header(owner)).status_code == 200


def test_a_tenant_admin_deletes_a_finished_job_from_the_jobs_table(
    client: TestClient, make_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.core import jobs

    monkeypatch.setitem(jobs._HANDLERS, ECHO, lambda payload, ctx: {"echo": True})  # a job that ends at once
    key = make_key("acme", "admin")
    job_id = submit_echo(auth_header(key))
    deadline = time.monotonic() + 30
    while jobs.get_job("acme", job_id).status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    sign_in(client, key)
    assert f'hx-post="/ui/jobs/{job_id}/delete"' in client.get("/admin").text

    response = client.post(f"/ui/jobs/{job_id}/delete", headers=HTMX)

    assert response.status_code == 200, response.text
    assert f"Deleted test.echo job {job_id[:8]}." in response.text and f"job-{job_id}" not in response.text
    assert client.get(f"/api/v1/jobs/{job_id}", headers=auth_header(key)).status_code == 404
    assert client.post(f"/ui/jobs/{job_id}/delete", headers=HTMX).status_code == 404
