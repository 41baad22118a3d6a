"""The composition root wires exactly the chosen domains, and refuses an incompletely registered one."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter

from hygeia import app as root
from hygeia.core import tools
from hygeia.settings import ALL_DOMAINS, Settings


def test_every_known_domain_is_wired_and_registers_its_capability():
    routers = root.wire_domains(Settings(domains=list(ALL_DOMAINS)))
    assert list(routers) == list(ALL_DOMAINS)
    assert all(tools.has_capability(name) for name in ALL_DOMAINS)
    assert {"signals.score_rows", "evidence.search", "dermatology.predict"} <= {
        t.name for t in tools.list_tools()
    }


def test_only_chosen_domains_get_a_router():
    assert list(root.wire_domains(Settings(domains=["signals"]))) == ["signals"]


def test_a_domain_that_registers_no_capability_fails_at_start(monkeypatch):
    monkeypatch.setitem(root.DOMAINS, "signals", lambda: APIRouter())
    monkeypatch.setattr(root, "_wired", {})
    monkeypatch.setattr(root.tools, "has_capability", lambda name: name != "signals")
    with pytest.raises(RuntimeError, match="signals"):
        root.wire_domains(Settings(domains=["signals"]))


def test_a_misnamed_plugin_module_fails_at_start(monkeypatch):
    """HYGEIA_JOB_MODULES with a typo stops the start instead of silently running without the handlers."""
    from tests.conftest import reset_caches

    monkeypatch.setenv("HYGEIA_JOB_MODULES", '["hygeia_plugins.no_such_module"]')
    reset_caches()
    try:
        with pytest.raises(ModuleNotFoundError, match="hygeia_plugins"):
            root.wire_domains(Settings(domains=["signals"]))
    finally:
        monkeypatch.undo()
        reset_caches()


def test_the_core_imports_no_domain_by_name():
    core = Path(root.__file__).parent / "core"
    offenders = [
        str(path)
        for path in core.rglob("*.py")
        if any(f"hygeia.{domain}" in path.read_text() for domain in ALL_DOMAINS)
    ]
    assert offenders == []


def test_no_module_is_imported_by_a_computed_hygeia_name():
    """Wiring is explicit: a domain reached by `import_module(f"hygeia.{x}")` could be misnamed silently."""
    package = Path(root.__file__).parent
    offenders = [
        str(path)
        for path in package.rglob("*.py")
        if 'import_module(f"hygeia.' in path.read_text() or "import_module(f'hygeia." in path.read_text()
    ]
    assert offenders == []


def test_the_console_knows_the_modules_of_every_domain_and_refuses_a_switched_off_one(monkeypatch):
    from hygeia.core.errors import CapabilityUnavailable
    from hygeia.toxicity import service as toxicity_service
    from hygeia.web import render

    assert set(render.CONSOLE_DOMAIN_MODULES) == set(ALL_DOMAINS)
    assert render.load_domain("toxicity") is toxicity_service
    monkeypatch.setattr(render, "get_settings", lambda: Settings(domains=["signals"]))
    with pytest.raises(CapabilityUnavailable, match="switched off"):
        render.load_domain("toxicity")


def test_a_console_domain_that_fails_to_import_is_unavailable_not_a_crash(monkeypatch):
    from hygeia.core.errors import CapabilityUnavailable
    from hygeia.web import render

    def broken() -> dict:
        raise ModuleNotFoundError("No module named 'rdkit'", name="rdkit")

    monkeypatch.setitem(render.CONSOLE_DOMAIN_MODULES, "toxicity", broken)
    with pytest.raises(CapabilityUnavailable, match="needs 'rdkit'"):
        render.load_domain("toxicity")


def test_the_served_app_leaves_what_start_up_built_out_of_garbage_collection(platform):
    import gc

    before = gc.get_freeze_count()  # not always 0: Python 3.12 starts with a few hundred
    try:
        app = root.create_served_app()
        assert app.title == "Hygeia"
        assert gc.get_freeze_count() - before > 50_000  # the modules and routes, not a handful of objects
    finally:
        gc.unfreeze()
