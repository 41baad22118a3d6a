"""Mounts the console on the API's own app: pages under `/`, htmx fragments under `/ui/`, assets
under `/static/`. Mounted by the composition root, `hygeia.app.create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hygeia.web.pages import admin, agents, dermatology, evidence, home, signals, toxicity
from hygeia.web.render import HERE

PAGE_ROUTERS = (home, admin, toxicity, signals, dermatology, evidence, agents)


def mount(app: FastAPI) -> None:
    for module in PAGE_ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
