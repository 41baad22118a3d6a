"""Run Alembic migrations programmatically so `hygeia db upgrade` works from an installed package."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

from hygeia.settings import ALL_DOMAINS, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def import_all_tables() -> None:
    """Load every module that declares tables so metadata is complete for autogenerate/checks."""
    importlib.import_module("hygeia.core.tables")
    for domain in ALL_DOMAINS:
        try:
            importlib.import_module(f"hygeia.{domain}.tables")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"hygeia.{domain}", f"hygeia.{domain}.tables"):
                raise


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or get_settings().sqlalchemy_url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    if not url:
        get_settings().var_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
