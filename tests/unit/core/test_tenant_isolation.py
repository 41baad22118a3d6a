"""Tenant isolation is enforced by the session itself: no query can see or write another tenant's rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from hygeia.core.db import TenantIsolationError, _session, system_session, tenant_session
from hygeia.core.tables import Job


def _job(tenant: str | None = None, kind: str = "registry.verify") -> Job:
    job = Job(kind=kind, payload={}, created_by="test", status="queued", progress=0.0, message="")
    if tenant:
        job.tenant_id = tenant
    return job


def test_rows_are_stamped_and_filtered_by_tenant(platform):
    with tenant_session("acme") as session:
        session.add(_job())
    with tenant_session("globex") as session:
        session.add(_job())
        session.add(_job())
    with tenant_session("acme") as session:
        acme_jobs = list(session.scalars(select(Job)))
    with tenant_session("globex") as session:
        globex_ids = [job.id for job in session.scalars(select(Job))]
    assert [job.tenant_id for job in acme_jobs] == ["acme"]
    assert len(globex_ids) == 2
    with tenant_session("acme") as session:
        assert session.scalar(select(Job).where(Job.id == globex_ids[0])) is None
        assert session.get(Job, globex_ids[0]) is None


def test_bulk_update_cannot_reach_other_tenants(platform):
    with tenant_session("globex") as session:
        session.add(_job())
    with tenant_session("acme") as session:
        session.execute(update(Job).values(status="failed"))
    with system_session() as session:
        assert session.scalars(select(Job.status)).all() == ["queued"]


def test_writing_another_tenants_row_is_refused(platform):
    with pytest.raises(TenantIsolationError), tenant_session("acme") as session:
        session.add(_job(tenant="globex"))


def test_unscoped_session_cannot_touch_tenant_data(platform):
    with pytest.raises(TenantIsolationError), _session({}) as session:
        session.scalars(select(Job)).all()
    with pytest.raises(TenantIsolationError):
        tenant_session("")
