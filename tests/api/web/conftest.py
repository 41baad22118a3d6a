"""Fixtures shared by the console's HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Platform


@pytest.fixture
def agents_console(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The real app with the agents domain, only the `agents_test.*` tools and no language model,
    so answers are extractive and cited."""
    from hygeia.app import create_app
    from tests.unit.agents.fixtures import configure_agents, reset_agents

    configure_agents(monkeypatch)
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client
    reset_agents()
