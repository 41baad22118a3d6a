"""Job listings: summaries, keyset pages; job errors never show server paths."""

from __future__ import annotations

import time

from hygeia.core import auth, jobs
from hygeia.core.errors import without_server_paths
from tests.api.core.conftest import submit_echo
from tests.conftest import auth_header


def _wait_finished(tenant: str, job_id: str) -> jobs.JobInfo:
    deadline = time.monotonic() + 30
    while (job := jobs.get_job(tenant, job_id)).status not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.05)
    return job


def test_listing_pages_newest_first_without_results(client, make_key):
    admin = make_key("acme", "admin")
    submitted = [submit_echo(auth_header(admin)) for _ in range(5)]
    for job_id in submitted:
        assert _wait_finished("acme", job_id).result is not None
    first = client.get("/api/v1/jobs", params={"limit": 2}, headers=auth_header(admin))
    assert first.status_code == 200
    assert all("result" not in row and "payload" not in row for row in first.json())
    seen, link = [row["id"] for row in first.json()], first.headers["Link"]
    while link:
        url = link.split(">")[0].lstrip("<")
        page = client.get(url, headers=auth_header(admin))
        seen += [row["id"] for row in page.json()]
        link = page.headers.get("Link", "")
    assert seen == submitted[::-1]
    oldest = client.get(f"/api/v1/jobs/{submitted[0]}", headers=auth_header(admin)).json()
    assert oldest["result"] == {"echo": True}


def test_a_page_cursor_from_another_tenant_is_not_found(client, make_key):
    acme = make_key("acme", "admin")
    job_id = submit_echo(auth_header(acme))
    other = client.get(
        "/api/v1/jobs", params={"before": job_id}, headers=auth_header(make_key("globex", "admin"))
    )
    assert other.status_code == 404


def test_job_errors_name_files_without_server_paths(platform, make_key, monkeypatch):
    def broken(payload, ctx):
        open(platform.var_dir / "uploads" / "missing-upload.csv")  # noqa: SIM115 - the failure under test

    monkeypatch.setitem(jobs._HANDLERS, "test.broken", broken)
    principal = auth.authenticate(make_key("acme", "admin"))
    job = _wait_finished("acme", jobs.submit_job(principal, "test.broken", {}).id)
    assert job.status == "failed"
    assert "missing-upload.csv" in job.error
    assert str(platform.var_dir) not in job.error and "/uploads/" not in job.error


def test_path_redaction_keeps_urls_and_ratios():
    assert without_server_paths("no file '/srv/hygeia/var/a.csv'") == "no file '…/a.csv'"
    text = "see https://example.org/a/b, 5/325 mg"
    assert without_server_paths(text) == text
