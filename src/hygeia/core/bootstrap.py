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
    admin_key: str | None  # plaintext, only when it was generated now (never when the operator gave one)
    supplied_key_prefix: str | None = None  # HYGEIA_BOOTSTRAP_ADMIN_KEY was registered: its prefix only


def bootstrap(register_models: bool = True) -> BootstrapResult:
    migrate.upgrade()
    models = []
    if register_models:
        models = [f"{row.name} {row.version}" for row in get_registry().register_bundled()]
    supplied = get_settings().bootstrap_admin_key
    created = _ensure_platform_admin(supplied.get_secret_value() if supplied else None)
    if supplied is not None:
        return BootstrapResult(models, None, created[:12] if created else None)
    return BootstrapResult(models, created)


def _ensure_platform_admin(supplied_key: str | None) -> str | None:
    """The first platform admin key: the operator's (kept in their secret store) or a generated one."""
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
    _, plaintext = auth.create_api_key(tenant_id, "admin", "first admin (bootstrap)", supplied_key)
    return plaintext
