"""FastAPI application factory: middleware, problem+json errors, platform routes and domain routers."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hygeia import __version__
from hygeia.core import audit
from hygeia.core.errors import install_error_handlers
from hygeia.core.jobs import JobQueueCollector, get_backend
from hygeia.core.middleware import BodySizeLimit
from hygeia.core.observability import (
    VarDirCollector,
    configure_logging,
    install_request_middleware,
    register_collector,
)
from hygeia.core.routes import admin, api, public
from hygeia.settings import Settings, get_settings

log = structlog.get_logger("hygeia.app")

DESCRIPTION = (
    "Trustworthy medical and drug-safety AI. Research and decision-support use only: "
    "Hygeia is not a medical device and does not diagnose."
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    resumed = get_backend().resume_pending()
    if resumed:
        log.info("jobs_resumed", count=resumed)
    audit.writer.start()
    try:
        yield
    finally:
        audit.writer.stop()  # every accepted audit row is committed before the process exits
        get_backend().shutdown()
        get_backend.cache_clear()


def _mount_domains(app: FastAPI, settings: Settings) -> list[str]:
    mounted = []
    for domain in settings.domains:
        try:
            module = importlib.import_module(f"hygeia.{domain}.routes")
        except ModuleNotFoundError as exc:
            if exc.name in (f"hygeia.{domain}", f"hygeia.{domain}.routes"):
                continue  # the domain is not part of this build
            raise
        app.include_router(module.router)
        mounted.append(domain)
    return mounted


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(title="Hygeia", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    install_error_handlers(app)
    install_request_middleware(app)
    register_collector("jobs", JobQueueCollector())
    register_collector("var", VarDirCollector())
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in (public, api, admin):
        app.include_router(router)
    app.state.domains = _mount_domains(app, settings)
    try:
        web = importlib.import_module("hygeia.web.routes")
    except ModuleNotFoundError as exc:
        if exc.name not in ("hygeia.web", "hygeia.web.routes"):
            raise
    else:
        web.mount(app)
    return app
