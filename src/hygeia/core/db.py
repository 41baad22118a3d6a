"""Database engine and sessions; tenant isolation enforced for every ORM query, not left to callers.

A session is either bound to one tenant (every SELECT/UPDATE/DELETE on a `TenantOwned` table gets
`tenant_id = :tenant` added, and new rows are stamped with it) or a system session used by platform
code (migrations, bootstrap, workers). A session that is neither refuses to touch tenant data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Engine, String, create_engine, event
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)

from hygeia.settings import get_settings


class TenantIsolationError(RuntimeError):
    """Raised when code tries to read or write tenant data without a tenant-bound session."""


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class TenantOwned:
    """Mixin for every row that belongs to a tenant."""

    tenant_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: commits survive a crash of the process, fsync happens at checkpoints; FULL made
    # every audited prediction wait for its own fsync (the embedded default; production is PostgreSQL)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine() -> Engine:
    settings = get_settings()
    if settings.sqlalchemy_url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return engine_for(settings.sqlalchemy_url)


@lru_cache(maxsize=8)
def _session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def _session(info: dict[str, Any]) -> Iterator[Session]:
    session = _session_factory(get_engine())()
    session.info.update(info)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def tenant_session(tenant_id: str) -> Any:
    """A session that can only see and write rows of `tenant_id`."""
    if not tenant_id:
        raise TenantIsolationError("tenant_session needs a tenant id")
    return _session({"tenant_id": tenant_id})


def system_session() -> Any:
    """A session for platform code that legitimately spans tenants (auth lookup, workers, admin)."""
    return _session({"system": True})


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return
    tenant = state.session.info.get("tenant_id")
    if tenant is None:
        if state.session.info.get("system") or not _touches_tenant_data(state):
            return
        raise TenantIsolationError("query on tenant data outside a tenant-bound session")
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant = session.info.get("tenant_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if tenant is None:
            if not session.info.get("system"):
                raise TenantIsolationError("write of tenant data outside a tenant-bound session")
            if not obj.tenant_id:
                raise TenantIsolationError(f"{type(obj).__name__} written without tenant_id")
        elif obj.tenant_id is None:
            obj.tenant_id = tenant
        elif obj.tenant_id != tenant:
            raise TenantIsolationError("a tenant session may not write another tenant's row")
