"""The Alembic migrations create exactly the tables the ORM declares, for every domain."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from hygeia.app import import_all_tables
from hygeia.core import migrate
from hygeia.core.db import Base


def schema_drift(url: str) -> list:
    """Differences between the migrated database at `url` and the declared tables (empty when in step)."""
    import_all_tables()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_declared_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    migrate.upgrade(url)
    assert schema_drift(url) == []
    migrate.downgrade(url)
    assert [diff[0] for diff in schema_drift(url)].count("add_table") == len(Base.metadata.tables)
