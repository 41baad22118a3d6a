"""A tenant's data as a whole: export it as an archive, or delete it, on a platform admin's request.

Both walk every table that carries `tenant_id` (the core's and every wired domain's), so a domain's
new table is covered without code here. The audit trail is the exception when deleting: it is
append-only by database trigger and is kept as the record of what happened, the deletion included.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select

from hygeia.core import retention
from hygeia.core.blobs import COPY_CHUNK, get_blob_store, tenant_prefix
from hygeia.core.db import Base, system_session, utcnow
from hygeia.core.errors import Conflict, NotFound
from hygeia.core.tables import AuditEvent, Job, Tenant
from hygeia.settings import get_settings

KEPT_ON_DELETE = {AuditEvent.__tablename__}


def tenant_tables() -> list[Table]:
    """Tables holding tenant rows, parents before children (foreign keys)."""
    return [table for table in Base.metadata.sorted_tables if "tenant_id" in table.c]


def _require_tenant(tenant_id: str) -> Tenant:
    with system_session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        session.expunge(tenant)
    return tenant


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


FILES_FOLDER = "files/"  # in the archive: every blob under the tenant's prefix, at its path below it
OMITTED = (
    "models and the evidence index: platform data built from public sources, owned by no tenant",
    "API keys' plaintext: only their hashes are stored, so only the hashes are exported",
)


def export_tenant(tenant_id: str, target: Path) -> dict[str, Any]:
    """Write a zip to `target`: one JSON-lines file per table (the tenant's rows only), the tenant's
    files (uploads and job outputs) under `files/`, and a manifest saying what is where and what is
    not included. Streamed to disk, so a tenant with gigabytes of uploads needs no memory for them."""
    tenant = _require_tenant(tenant_id)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        counts = _export_rows(archive, tenant_id)
        files = _export_files(archive, tenant_id)
        manifest = {
            "tenant": {
                "id": tenant.id,
                "name": tenant.name,
                "tier": tenant.tier,
                "retention": tenant.retention,
            },
            "exported_at": utcnow().isoformat(),
            "rows": counts,
            "files": files,
            "format": "<table>.jsonl: one JSON object per line; files/<path>: the stored bytes as uploaded "
            "or written by jobs, each listed here with its size and sha256",
            "omitted": list(OMITTED),
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return manifest


def _export_rows(archive: zipfile.ZipFile, tenant_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    with system_session() as session:
        for table in tenant_tables():
            rows = session.execute(select(table).where(table.c.tenant_id == tenant_id)).mappings()
            count = 0
            with archive.open(f"{table.name}.jsonl", "w", force_zip64=True) as handle:
                for row in rows:
                    handle.write(
                        json.dumps(dict(row), default=_json_default, sort_keys=True).encode() + b"\n"
                    )
                    count += 1
            counts[table.name] = count
    return counts


def _export_files(archive: zipfile.ZipFile, tenant_id: str) -> list[dict[str, Any]]:
    """Each blob streamed from the store (local or S3) into the zip, hashed on the way."""
    store, prefix = get_blob_store(), tenant_prefix(tenant_id)
    listed = []
    for info in store.list(prefix):
        name = FILES_FOLDER + info.key[len(prefix) :]
        digest, size = hashlib.sha256(), 0
        with store.open_read(info.key) as source, archive.open(name, "w", force_zip64=True) as handle:
            while chunk := source.read(COPY_CHUNK):
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        listed.append({"path": name, "size": size, "sha256": digest.hexdigest()})
    return listed


def delete_tenant(tenant_id: str) -> dict[str, int]:
    """Remove every row of the tenant (audit trail excepted), its jobs' files and the tenant itself."""
    if tenant_id == get_settings().platform_tenant:
        raise Conflict("the platform tenant runs the platform and cannot be deleted")
    _require_tenant(tenant_id)
    with system_session() as session:
        job_ids = list(session.scalars(select(Job.id).where(Job.tenant_id == tenant_id)))
    for job_id in job_ids:  # through retention, so each domain removes the files its jobs left
        retention.delete_job(tenant_id, job_id)
    removed: dict[str, int] = {"jobs": len(job_ids)}
    removed["files"] = get_blob_store().delete_prefix(tenant_prefix(tenant_id))  # uploads not tied to a job
    with system_session() as session:
        for table in reversed(tenant_tables()):
            if table.name in KEPT_ON_DELETE:
                continue
            result = session.execute(delete(table).where(table.c.tenant_id == tenant_id))
            removed[table.name] = removed.get(table.name, 0) + int(getattr(result, "rowcount", 0) or 0)
        session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    return {name: count for name, count in removed.items() if count}
