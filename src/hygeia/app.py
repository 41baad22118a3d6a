"""The composition root: the whole application wired in one short file a reader can follow.

`hygeia.core` knows no domain, not even by name. Here each domain's parts are imported explicitly:
its router, and its service module, which registers the domain's job handlers, agent tools and
capability check with the core. `HYGEIA_DOMAINS` chooses which domains are wired; a domain that is
not chosen is not imported at all. The API (`create_app`), the Celery worker and the CLI all start
from here, so they wire the same domains.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from fastapi import APIRouter, FastAPI

from hygeia.core import tools
from hygeia.core.http import build_app
from hygeia.core.jobs import load_plugin_modules
from hygeia.settings import ALL_DOMAINS, Settings, get_settings


def _toxicity() -> APIRouter:
    from hygeia.toxicity import routes, service

    service.register()
    return routes.router


def _signals() -> APIRouter:
    from hygeia.signals import routes, service

    service.register()
    return routes.router


def _dermatology() -> APIRouter:
    from hygeia.dermatology import routes, service

    service.register()
    return routes.router


def _evidence() -> APIRouter:
    from hygeia.evidence import routes, service, tables  # noqa: F401  (tables: evidence_feedback)

    service.register()
    return routes.router


def _agents() -> APIRouter:
    from hygeia.agents import routes, service, tables  # noqa: F401  (tables: conversations, messages)

    service.register()
    return routes.router


DOMAINS: dict[str, Callable[[], APIRouter]] = {
    "toxicity": _toxicity,
    "signals": _signals,
    "dermatology": _dermatology,
    "evidence": _evidence,
    "agents": _agents,
}
assert set(DOMAINS) == set(ALL_DOMAINS), "every known domain is wired here, and only those"
_wired: dict[str, APIRouter] = {}


def wire_domains(settings: Settings | None = None) -> dict[str, APIRouter]:
    """Import and register the chosen domains and the configured plugin modules (HYGEIA_JOB_MODULES);
    the domains' routers by name. Safe to call again: a domain registers only the first time."""
    chosen = (settings or get_settings()).domains
    for name in chosen:
        if name not in _wired:  # each domain registers once per process, whoever asks first
            _wired[name] = DOMAINS[name]()
    routers = {name: _wired[name] for name in chosen}
    missing = [name for name in chosen if not tools.has_capability(name)]
    if missing:  # a domain whose register() forgot a piece fails here, at start, not on first use
        raise RuntimeError(f"domains registered no capability check: {missing}")
    load_plugin_modules()
    return routers


def _mount_console(app: FastAPI) -> None:
    from hygeia.web import routes as console

    console.mount(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API and console (`hygeia serve` runs them through `create_served_app`)."""
    settings = settings or get_settings()
    return build_app(settings, wire_domains(settings), _mount_console)


def create_served_app() -> FastAPI:
    """`create_app` for a serving process (`hygeia serve`), with what start-up built frozen.

    Modules, routes and settings (~300,000 objects) live as long as the process. Left in the garbage
    collector's view, each full collection under load walked them all and every request in flight
    waited: 240-300 ms pauses with PostgreSQL + Redis on a busy machine, 12-33 ms once frozen
    (README, "Load"). Garbage is collected first so none of it is frozen. Tests build many apps in
    one process and use `create_app`, which freezes nothing."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def import_all_tables() -> None:
    """Every table of the schema, whichever domains are chosen: migrations and schema checks need all."""
    from hygeia.agents import tables as agents_tables  # noqa: F401
    from hygeia.core import tables as core_tables  # noqa: F401
    from hygeia.evidence import tables as evidence_tables  # noqa: F401


tools.set_domain_loader(lambda: list(wire_domains()))
