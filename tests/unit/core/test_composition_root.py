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


def test_the_core_imports_no_domain_by_name():
    core = Path(root.__file__).parent / "core"
    offenders = [
        str(path)
        for path in core.rglob("*.py")
        if any(f"hygeia.{domain}" in path.read_text() for domain in ALL_DOMAINS)
    ]
    assert offenders == []
