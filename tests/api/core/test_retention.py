"""Retention: finished jobs age out per tenant policy, deletion removes a job's files, all audited."""

from __future__ import annotations

from datetime import timedelta

from hygeia.core import audit, auth, jobs, retention
from hygeia.core.db import system_session, utcnow
from hygeia.core.tables import Job
from tests.conftest import auth_header


def _finished_job(tenant: str, kind: str, days_ago: float) -> str:
    with system_session() as session:
        job = Job(
            tenant_id=tenant,
            kind=kind,
            payload={},
            created_by="test",
            status="succeeded",
            progress=1.0,
            message="done",
            result={"n": 1},
            finished_at=utcnow() - timedelta(days=days_ago),
        )
        session.add(job)
        session.flush()
        return job.id


def test_purge_applies_each_tenants_own_policy_and_audits_it(client, admin_headers, make_key, monkeypatch):
    make_key("acme", "admin"), make_key("globex", "admin")
    cleaned = []
    monkeypatch.setitem(
        retention._job_cleanups, "test.files", lambda tenant, job_id, payload: cleaned.append(job_id)
    )
    acme_old, acme_recent = _finished_job("acme", "test.files", 100), _finished_job("acme", "test.files", 10)
    globex_mid = _finished_job("globex", "test.files", 20)
    policy = client.put(
        "/api/v1/admin/tenants/globex/retention", json={"job_results": 14}, headers=admin_headers
    )
    assert policy.json() == {"uploads": 30, "job_results": 14, "conversations": 180}

    report = retention.purge_expired()

    assert report["acme"]["job_results"] == 1 and report["globex"]["job_results"] == 1
    assert sorted(cleaned) == sorted([acme_old, globex_mid])
    assert jobs.get_job("acme", acme_recent).status == "succeeded"
    [event] = audit.list_events("globex", action="retention.purge")
    assert event.actor == "system:retention" and event.detail["job_results"] == 1


def test_a_tenant_admin_sees_its_policy_but_only_platform_admins_set_it(client, make_key):
    acme_admin = auth_header(make_key("acme", "admin"))
    assert client.get("/api/v1/admin/retention", headers=acme_admin).json()["job_results"] == 90
    refused = client.put(
        "/api/v1/admin/tenants/acme/retention", json={"job_results": 3650}, headers=acme_admin
    )
    assert refused.status_code == 403


def test_deleting_a_job_removes_it_and_its_files_once_it_has_finished(client, make_key, monkeypatch):
    analyst = make_key("acme", "analyst")
    cleaned = []
    monkeypatch.setitem(
        retention._job_cleanups, "test.files", lambda tenant, job_id, payload: cleaned.append(job_id)
    )
    done = _finished_job("acme", "test.files", 1)
    with system_session() as session:
        running = Job(
            tenant_id="acme",
            kind="test.files",
            payload={},
            created_by="t",
            status="running",
            progress=0.5,
            message="",
        )
        session.add(running)
        session.flush()
        running_id = running.id
    assert client.delete(f"/api/v1/jobs/{running_id}", headers=auth_header(analyst)).status_code == 409
    other = auth_header(make_key("globex", "admin"))
    assert client.delete(f"/api/v1/jobs/{done}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/jobs/{done}", headers=auth_header(analyst)).status_code == 204
    assert client.get(f"/api/v1/jobs/{done}", headers=auth_header(analyst)).status_code == 404
    assert cleaned == [done]
    assert [e.detail["job_id"] for e in audit.list_events("acme", action="job.delete")] == [done]


def test_ended_console_sessions_are_purged_after_a_day(client, platform):
    from hygeia.core.tables import ConsoleSession

    key_id = auth.authenticate(platform.admin_key).key_id
    with system_session() as session:
        session.add(
            ConsoleSession(
                id="a" * 64, tenant_id="platform", key_id=key_id, expires_at=utcnow() - timedelta(days=2)
            )
        )
        session.add(
            ConsoleSession(
                id="b" * 64, tenant_id="platform", key_id=key_id, expires_at=utcnow() + timedelta(hours=1)
            )
        )
    assert retention.purge_console_sessions(utcnow()) == 1
    with system_session() as session:
        assert [row.id for row in session.query(ConsoleSession)] == ["b" * 64]


def test_deleting_a_signal_run_removes_its_upload_and_results(client, make_key):
    import time

    from hygeia.core.blobs import get_blob_store
    from hygeia.signals import storage

    analyst = auth_header(make_key("acme", "analyst"))
    rows = "id,drug,event\n" + "".join(f"c{i},DRUG{i % 3},EVENT{i % 4}\n" for i in range(60))
    submitted = client.post(
        "/api/v1/signals/runs", files={"file": ("cases.csv", rows, "text/csv")}, headers=analyst
    )
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/v1/jobs/{run_id}", headers=analyst).json()["status"] not in (
        "succeeded",
        "failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    store = get_blob_store()
    keys = [info.key for info in store.list("tenants/acme/")]
    assert storage.ranked_key("acme", run_id) in keys and any("/signals/uploads/" in k for k in keys)

    assert client.delete(f"/api/v1/jobs/{run_id}", headers=analyst).status_code == 204

    assert list(store.list("tenants/acme/")) == []
