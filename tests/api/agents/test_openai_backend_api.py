"""The agents over HTTP to an OpenAI-compatible endpoint (a real server on 127.0.0.1): generation
through the client, the model's tool plan, and the fallback to labelled extractive answers when the
endpoint fails and the circuit opens. Scripted replies are protocol fixtures, not medical answers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import auth_header
from tests.openai_server import Reply, ServerState, openai_server

QUESTION = "Do statins reduce mortality in patients with heart failure?"


@pytest.fixture
def analyst(make_key, agent_env) -> dict[str, str]:
    return auth_header(make_key("hospital-a", "analyst"))


@pytest.fixture
def endpoint(monkeypatch):
    from tests.unit.agents.fixtures import reset_agents

    def start(state: ServerState):
        server = openai_server(state)
        url = server.__enter__()
        monkeypatch.setenv("HYGEIA_LLM_BACKEND", "openai")
        monkeypatch.setenv("HYGEIA_LLM_BASE_URL", url)
        monkeypatch.setenv("HYGEIA_LLM_MODEL", "protocol-test")
        monkeypatch.setenv("HYGEIA_LLM_BACKOFF_SECONDS", "0.01")
        monkeypatch.setenv("HYGEIA_LLM_MAX_RETRIES", "1")
        monkeypatch.setenv("HYGEIA_LLM_BREAKER_FAILURES", "2")
        reset_agents()
        started.append(server)
        return url

    started: list = []
    yield start
    for server in started:
        server.__exit__(None, None, None)
    reset_agents()


def ask(client, headers, **body):
    response = client.post("/api/v1/agents/ask", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_generation_goes_through_the_endpoint_with_sources_in_the_prompt(agents_client, analyst, endpoint):
    state = ServerState(script=[Reply(text="Statins were studied in heart failure [1].")])
    endpoint(state)
    answer = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical")
    assert answer["generation"] == "llm" and answer["model"] == "openai:protocol-test"
    assert answer["cited"] == [1] and answer["answer"].startswith(
        "Statins were studied in heart failure [1]."
    )
    prompt = state.requests[0]["messages"]
    assert prompt[0]["content"].startswith("You are a medical specialist")
    assert "[1] " in prompt[-1]["content"] and QUESTION in prompt[-1]["content"]
    assert state.requests[0]["stream"] is True
    assert answer["usage"]["prompt_tokens"] > 0 and answer["usage"]["estimated"] is False


def test_the_models_plan_is_followed_within_the_experts_permissions(agents_client, analyst, endpoint):
    plan = {
        "steps": [
            {"tool": "agents_test.formula", "args": {"smiles": "CCO"}},
            {"tool": "signals.not_permitted", "args": {}},
            {"tool": "agents_test.formula_mass"},
        ]
    }
    state = ServerState(script=[Reply(text=json.dumps(plan)), Reply(text="The mass is 46.069 [1].")])
    endpoint(state)
    answer = ask(
        agents_client, analyst, question="Mass of ethanol?", mode="autonomous-manual", expert="medical"
    )
    assert answer["planner"] == "llm:protocol-test"
    assert [c["tool"] for c in answer["tool_calls"]] == ["agents_test.formula", "agents_test.formula_mass"]
    assert answer["tool_calls"][1]["inputs"] == {"formula": "C2H6O"}
    assert answer["tool_calls"][1]["output"]["average_mass"] == pytest.approx(46.069)
    assert answer["usage"]["completion_tokens"] > 3  # plan and answer both counted


def test_unusable_plan_falls_back_to_the_rule_planner(agents_client, analyst, endpoint):
    endpoint(ServerState(script=[Reply(text="I would call some tools."), Reply(text="ok [1]")]))
    answer = ask(agents_client, analyst, question="Molecular mass of SMILES CCO?", mode="4", expert="medical")
    assert answer["planner"] == "rules" and "gave no usable plan" in answer["notes"][0]
    assert "agents_test.formula_mass" in {c["tool"] for c in answer["tool_calls"]}


def test_failing_endpoint_opens_the_circuit_and_answers_stay_extractive(agents_client, analyst, endpoint):
    state = ServerState(script=[Reply(status=503)] * 4)
    endpoint(state)
    first = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical")
    assert first["generation"] == "extractive" and first["model"] == "no language model"
    assert "the language model failed" in first["label"] and "HTTP 503" in first["label"]
    ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical")
    assert len(state.requests) == 4  # two questions x (1 try + 1 retry)
    ready = agents_client.get("/ready").json()["capabilities"]["agents"]
    assert ready["available"] is False and "circuit is open" in ready["reason"]
    third = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical")
    assert "circuit is open" in third["label"] and len(state.requests) == 4
    assert third["sources"] and third["answer"].startswith("[no language model:")


@pytest.mark.slow
def test_the_local_model_served_over_http(agents_client, analyst, endpoint, local_llm):
    """The real SmolLM2 behind a real OpenAI-compatible HTTP endpoint: the client end to end."""
    from hygeia.core.llm_local import LocalChatModel
    from hygeia.settings import get_llm_settings

    model = LocalChatModel(get_llm_settings())
    endpoint(ServerState(generate=lambda messages, limit: model.complete(messages, max_tokens=limit).text))
    answer = ask(agents_client, analyst, question=QUESTION, mode="automatic")
    assert answer["generation"] == "llm" and answer["model"] == "openai:protocol-test"
    assert answer["usage"]["completion_tokens"] > 0 and answer["sources"]
