"""The platform's HTTP application: middleware, problem+json errors, platform routes, lifespan.

It knows no domain: `hygeia.app` (the composition root) hands it the domain routers and the console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from hygeia import __version__
from hygeia.core import audit, tools
from hygeia.core.drift import drift_monitor
from hygeia.core.errors import InputError, install_error_handlers, install_problem_schemas
from hygeia.core.jobs import JobQueueCollector, get_backend
from hygeia.core.limits import RATE_LIMIT_HEADERS
from hygeia.core.middleware import BodySizeLimit
from hygeia.core.observability import VarDirCollector, install_request_middleware, register_collector
from hygeia.core.routes import admin, api, public
from hygeia.core.structured_logs import configure_logging
from hygeia.settings import Settings

log = structlog.get_logger("hygeia.app")

DESCRIPTION = (
    "Trustworthy medical and drug-safety AI. Research and decision-support use only: "
    "Hygeia is not a medical device and does not diagnose."
)


async def reject_unknown_query(request: Request) -> None:
    """A query parameter the endpoint does not take is a 422, not ignored: a misspelt `?fromat=parquet`
    or `?fitt=global` must not quietly run with the default. Async, so it costs no threadpool hop."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise InputError(f"unknown query parameter(s) {', '.join(unknown)}; this endpoint takes: {takes}")


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and every dependency it uses declare, by their public names;
    found once per route and kept on it (routes are not hashable, so no lru_cache)."""
    names: frozenset[str] | None = getattr(route, "_declared_query_names", None)
    if names is None:
        found: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            found.update(field.alias for field in dependant.query_params)
            pending.extend(dependant.dependencies)
        names = frozenset(found)
        route._declared_query_names = names  # type: ignore[attr-defined]
    return names


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    resumed = get_backend().resume_pending()
    if resumed:
        log.info("jobs_resumed", count=resumed)
    audit.writer.start()
    tools.run_startup_tasks()
    try:
        yield
    finally:
        audit.writer.stop()  # every accepted audit row is committed before the process exits
        drift_monitor.flush()
        get_backend().shutdown()
        get_backend.cache_clear()


def build_app(
    settings: Settings,
    domain_routers: Mapping[str, APIRouter],
    mount_console: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    """The platform application with the given domain routers (by domain name) and console mounted."""
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(title="Hygeia", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    install_error_handlers(app)
    install_problem_schemas(app)
    install_request_middleware(app)
    register_collector("jobs", JobQueueCollector())
    register_collector("var", VarDirCollector())
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", *RATE_LIMIT_HEADERS],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(public)
    for router in (api, admin, *domain_routers.values()):
        app.include_router(router, dependencies=[Depends(reject_unknown_query)])
    app.state.domains = list(domain_routers)
    if mount_console is not None:
        mount_console(app)
    return app
