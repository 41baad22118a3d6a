"""First start: migrate, register the bundled models, and create the platform tenant's first admin key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hygeia.core import auth, migrate
from hygeia.core.db import system_session
from hygeia.core.registry import get_registry
from hygeia.core.tables import ApiKey, Tenant
from hygeia.settings import get_settings


@dataclass(frozen=True)
class BootstrapResult:
    models: list[str]
    admin_key: str | None  # plaintext, only when it was created now


def bootstrap(register_models: bool = True) -> BootstrapResult:
    migrate.upgrade()
    models = []
    if register_models:
        models = [f"{row.name} {row.version}" for row in get_registry().register_bundled()]
    return BootstrapResult(models, _ensure_platform_admin())


def _ensure_platform_admin() -> str | None:
    tenant_id = get_settings().platform_tenant
    with system_session() as session:
        has_tenant = session.get(Tenant, tenant_id) is not None
        has_admin = session.scalar(
            select(ApiKey.id).where(
                ApiKey.tenant_id == tenant_id, ApiKey.role == "admin", ApiKey.revoked_at.is_(None)
            )
        )
    if not has_tenant:
        auth.create_tenant(tenant_id, "Platform operators", tier="enterprise")
    if has_admin:
        return None
    _, plaintext = auth.create_api_key(tenant_id, "admin", "first admin (bootstrap)")
    return plaintext
