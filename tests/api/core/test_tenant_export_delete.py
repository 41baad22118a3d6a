"""A platform admin can export a tenant's data and delete the tenant; the audit trail stays."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from hygeia.core import audit, auth
from tests.api.core.conftest import submit_echo
from tests.conftest import auth_header


def _archive(response) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {
            name.removesuffix(".jsonl"): [
                json.loads(line) for line in archive.read(name).decode().splitlines()
            ]
            for name in archive.namelist()
            if name.endswith(".jsonl")
        }


def test_export_holds_the_tenants_rows_and_no_one_elses(client, admin_headers, make_key):
    acme = auth_header(make_key("acme", "admin"))
    make_key("globex", "admin")
    job_id = submit_echo(acme)
    response = client.get("/api/v1/admin/tenants/acme/export", headers=admin_headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    tables = _archive(response)
    assert [row["id"] for row in tables["jobs"]] == [job_id]
    assert {row["tenant_id"] for rows in tables.values() for row in rows} == {"acme"}
    assert all("key_hash" in row and row["key_hash"] != "" for row in tables["api_keys"])


def test_deleting_a_tenant_removes_its_data_keeps_its_audit_and_spares_others(
    client, admin_headers, make_key
):
    acme_key, globex_key = make_key("acme", "admin"), make_key("globex", "admin")
    submit_echo(auth_header(acme_key))
    client.post("/api/v1/admin/keys", json={"name": "bot", "role": "viewer"}, headers=auth_header(acme_key))
    acme_audit_before = len(audit.list_events("acme"))
    auth.verified_keys.clear()

    deleted = client.delete("/api/v1/admin/tenants/acme", headers=admin_headers)

    assert deleted.status_code == 200 and deleted.json()["removed"]["api_keys"] == 2
    assert client.get("/api/v1/auth/whoami", headers=auth_header(acme_key)).status_code == 401
    assert client.get("/api/v1/admin/tenants/acme/export", headers=admin_headers).status_code == 404
    assert len(audit.list_events("acme")) >= acme_audit_before > 0
    assert client.get("/api/v1/auth/whoami", headers=auth_header(globex_key)).status_code == 200
    [event] = audit.list_events("platform", action="tenant.delete")
    assert event.detail["tenant"] == "acme"


def test_the_platform_tenant_cannot_be_deleted_and_tenant_admins_cannot_delete(
    client, admin_headers, make_key
):
    assert client.delete("/api/v1/admin/tenants/platform", headers=admin_headers).status_code == 409
    acme_admin = auth_header(make_key("acme", "admin"))
    assert client.delete("/api/v1/admin/tenants/acme", headers=acme_admin).status_code == 403


def test_export_holds_the_tenants_files_with_their_hashes_and_names_what_it_omits(
    client, admin_headers, make_key
):
    from hygeia.core.blobs import get_blob_store, tenant_key

    make_key("acme", "admin")
    make_key("globex", "admin")
    store = get_blob_store()
    upload = b"id,drug,event\n1,ASPIRIN,NAUSEA\n"
    store.put(tenant_key("acme", "signals", "uploads", "u1.csv"), upload)
    store.put(tenant_key("acme", "jobs", "j1", "ranked.csv.gz"), b"\x1f\x8b not really gzip")
    store.put(tenant_key("globex", "signals", "uploads", "secret.csv"), b"globex only")

    response = client.get("/api/v1/admin/tenants/acme/export", headers=admin_headers)

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("files/signals/uploads/u1.csv") == upload
    assert {"files/signals/uploads/u1.csv", "files/jobs/j1/ranked.csv.gz"} <= names
    assert not any("secret" in name for name in names)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert listed["files/signals/uploads/u1.csv"]["size"] == len(upload)
    assert listed["files/signals/uploads/u1.csv"]["sha256"] == hashlib.sha256(upload).hexdigest()
    assert any("evidence index" in reason for reason in manifest["omitted"])
    [event] = audit.list_events("platform", action="tenant.export")
    assert event.detail["files"] == 2
