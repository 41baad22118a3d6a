"""A job's files live under its own blob prefix and a tenant's under the tenant's: deletion takes them."""

from __future__ import annotations

import pytest

from hygeia.core.blobs import InvalidBlobKey, get_blob_store, tenant_key
from hygeia.core.jobs import JobContext
from hygeia.settings import get_settings
from tests.api.core.test_retention import _finished_job
from tests.conftest import auth_header


def test_a_jobs_files_go_with_the_job_and_the_rest_with_the_tenant(client, admin_headers, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    store = get_blob_store()
    done = _finished_job("acme", "test.output", 1)  # a kind with no cleanup of its own
    output = JobContext(done, "acme").file_key("result.csv")
    upload = tenant_key("acme", "uploads", "u1.csv")
    neighbour = tenant_key("globex", "jobs", done, "result.csv")  # same job id, another tenant
    for key in (output, upload, neighbour):
        store.put(key, b"bytes")

    assert client.delete(f"/api/v1/jobs/{done}", headers=analyst).status_code == 204
    assert store.stat(output) is None
    assert store.stat(upload) is not None and store.stat(neighbour) is not None

    deleted = client.delete("/api/v1/admin/tenants/acme", headers=admin_headers)
    assert deleted.status_code == 200 and deleted.json()["removed"]["files"] == 1
    assert store.stat(upload) is None and store.stat(neighbour) is not None


def test_a_job_cannot_name_a_file_outside_its_prefix():
    context = JobContext("job1", "acme")
    assert context.file_key("part-1.csv") == "tenants/acme/jobs/job1/part-1.csv"
    for name in ("../job2/result.csv", "../../globex/x", "/etc/passwd", ""):
        with pytest.raises(InvalidBlobKey):
            context.file_key(name)


def test_ready_reports_the_blob_store_and_why_it_is_unusable(client, tmp_path, monkeypatch):
    ready = client.get("/ready").json()
    assert ready["checks"]["blobs"] == {"ok": True, "backend": "local", "error": None}

    not_a_folder = tmp_path / "blobs-file"
    not_a_folder.write_text("a file where the blob directory should be")
    monkeypatch.setenv("HYGEIA_BLOB_DIR", str(not_a_folder / "blobs"))
    get_settings.cache_clear()
    try:
        ready = client.get("/ready").json()
    finally:
        monkeypatch.delenv("HYGEIA_BLOB_DIR")
        get_settings.cache_clear()
    assert ready["status"] == "degraded" and ready["checks"]["blobs"]["ok"] is False
    assert "cannot create the blob directory" in ready["checks"]["blobs"]["error"]
    assert str(tmp_path) not in ready["checks"]["blobs"]["error"]
