"""The agents on the production database: migration, stored answers and tool calls, tenant isolation."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from hygeia.core import migrate, tools
from tests.conftest import auth_header
from tests.unit.agents.fixtures import configure_agents, reset_agents

pytestmark = pytest.mark.integration
AGENT_TABLES = {"agent_conversations", "agent_messages", "agent_tool_calls", "agent_feedback"}


def test_agent_tables_upgrade_and_downgrade_on_postgres(postgres_url):
    migrate.upgrade(postgres_url)
    engine = create_engine(postgres_url)
    assert set(inspect(engine).get_table_names()) >= AGENT_TABLES
    migrate.downgrade(postgres_url, "0001_core")
    assert not AGENT_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(postgres_url)
    engine.dispose()


@pytest.fixture
def pg_client(pg_platform, monkeypatch):
    from hygeia.app import create_app

    configure_agents(monkeypatch)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
    reset_agents()


def test_answers_tool_calls_and_isolation_on_postgres(pg_client, make_key, monkeypatch):
    monkeypatch.setitem(
        tools._TOOLS,
        "agents_test.nan",
        tools.Tool(
            "agents_test.nan",
            "Molecular mass statistics with undefined values",
            lambda query: {"mass_sd": math.nan},
        ),
    )
    a = auth_header(make_key("pg-a", "analyst"))
    b = auth_header(make_key("pg-b", "analyst"))
    body = {"question": "Molecular mass of SMILES CCO?", "mode": "autonomous-manual", "expert": "medical"}
    answer = pg_client.post("/api/v1/agents/ask", json=body, headers=a).json()
    assert {c["tool"] for c in answer["tool_calls"]} >= {"agents_test.formula", "agents_test.formula_mass"}
    detail = pg_client.get(f"/api/v1/agents/conversations/{answer['conversation_id']}", headers=a).json()
    calls = {c["tool"]: c for c in detail["messages"][1]["tool_calls"]}
    assert calls["agents_test.formula_mass"]["output"]["average_mass"] == pytest.approx(46.069)
    # NaN is not JSON and PostgreSQL refuses it: it is stored as null
    assert calls["agents_test.nan"]["output"] == {"mass_sd": None}
    feedback = f"/api/v1/agents/messages/{answer['message_id']}/feedback"
    assert pg_client.post(feedback, json={"rating": 1}, headers=a).status_code == 201
    assert pg_client.post(feedback, json={"rating": -1}, headers=b).status_code == 404
    assert (
        pg_client.get(f"/api/v1/agents/conversations/{answer['conversation_id']}", headers=b).status_code
        == 404
    )
    assert pg_client.get("/api/v1/agents/conversations", headers=b).json() == []


def test_deleting_a_conversation_on_postgres_removes_its_memory_in_its_tenant_only(pg_client, make_key):
    a = auth_header(make_key("pg-a", "analyst"))
    b = auth_header(make_key("pg-b", "admin"))
    body = {"question": "Molecular mass of SMILES CCO?", "mode": "autonomous-manual", "expert": "medical"}
    answer = pg_client.post("/api/v1/agents/ask", json=body, headers=a).json()
    conversation = answer["conversation_id"]
    rated = f"/api/v1/agents/messages/{answer['message_id']}/feedback"
    assert pg_client.post(rated, json={"rating": 1}, headers=a).status_code == 201
    url = f"/api/v1/agents/conversations/{conversation}"

    assert pg_client.delete(url, headers=b).status_code == 404
    assert pg_client.get(url, headers=a).status_code == 200
    deleted = pg_client.delete(url, headers=a)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "conversations": 1,
        "messages": 2,
        "tool_calls": len(answer["tool_calls"]),
        "feedback": 1,
    }
    assert pg_client.get(url, headers=a).status_code == 404
    assert pg_client.post(rated, json={"rating": -1}, headers=a).status_code == 404
