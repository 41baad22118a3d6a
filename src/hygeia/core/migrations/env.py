"""Alembic environment: the URL comes from Hygeia settings (or the caller's config), never a file.

The revision scripts create every table themselves; for autogenerate or schema comparisons, call
`hygeia.app.import_all_tables()` first so Base.metadata holds every domain's tables.
"""

from __future__ import annotations

from alembic import context

from hygeia.core.db import Base, engine_for
from hygeia.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
