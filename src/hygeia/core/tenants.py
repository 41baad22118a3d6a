"""A tenant's data as a whole: export it as an archive, or delete it, on a platform admin's request.

Both walk every table that carries `tenant_id` (the core's and every wired domain's), so a domain's
new table is covered without code here. The audit trail is the exception when deleting: it is
append-only by database trigger and is kept as the record of what happened, the deletion included.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, select

from hygeia.core import retention
from hygeia.core.blobs import get_blob_store, tenant_prefix
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


def export_tenant(tenant_id: str) -> bytes:
    """A zip with one JSON-lines file per table (the tenant's rows only) and a manifest."""
    tenant = _require_tenant(tenant_id)
    buffer = io.BytesIO()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, system_session() as session:
        for table in tenant_tables():
            rows = session.execute(select(table).where(table.c.tenant_id == tenant_id)).mappings().all()
            lines = (json.dumps(dict(row), default=_json_default, sort_keys=True) for row in rows)
            archive.writestr(f"{table.name}.jsonl", "".join(line + "\n" for line in lines))
            counts[table.name] = len(rows)
        manifest = {
            "tenant": {
                "id": tenant.id,
                "name": tenant.name,
                "tier": tenant.tier,
                "retention": tenant.retention,
            },
            "exported_at": utcnow().isoformat(),
            "rows": counts,
            "format": "one JSON object per line and table; files users uploaded are not included",
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buffer.getvalue()


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
