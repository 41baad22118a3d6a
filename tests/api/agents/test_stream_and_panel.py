"""SSE stream format, the panel's consensus and disagreements, and tool failures seen through the API."""

from __future__ import annotations

import json

import pytest

from tests.conftest import auth_header

QUESTION = "Do statins reduce mortality in patients with heart failure?"


@pytest.fixture
def analyst(make_key, agent_env) -> dict[str, str]:
    return auth_header(make_key("hospital-a", "analyst"))


def parse_sse(text: str) -> list[dict]:
    frames = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(fields) == {"id", "event", "data"}, block
        frames.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return frames


def test_stream_is_server_sent_events_in_order(agents_client, analyst):
    body = {"question": QUESTION, "mode": "manual", "expert": "clinical_research"}
    response = agents_client.post("/api/v1/agents/ask/stream", json=body, headers=analyst)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    frames = parse_sse(response.text)
    assert [f["event"] for f in frames] == ["meta", "tool", "answer", "done"]
    assert [f["id"] for f in frames] == [1, 2, 3, 4]
    meta, tool, answer = (f["data"] for f in frames[:3])
    assert meta["expert"]["name"] == "clinical_research" and meta["retrieval_query"] == QUESTION
    assert tool["tool"] == "agents_test.pubmed_search" and tool["status"] == "ok"
    assert answer["conversation_id"] == meta["conversation_id"] and answer["message_id"]
    stored = agents_client.get(f"/api/v1/agents/conversations/{meta['conversation_id']}", headers=analyst)
    assert stored.json()["messages"][1]["id"] == answer["message_id"]


def test_stream_rejects_bad_requests_before_streaming(agents_client, analyst, make_key):
    bad = agents_client.post(
        "/api/v1/agents/ask/stream", json={"question": QUESTION, "mode": "manual"}, headers=analyst
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    first = agents_client.post("/api/v1/agents/ask", json={"question": QUESTION}, headers=analyst).json()
    other = auth_header(make_key("hospital-b", "analyst"))
    stolen = agents_client.post(
        "/api/v1/agents/ask/stream",
        headers=other,
        json={"question": "more?", "conversation_id": first["conversation_id"]},
    )
    assert stolen.status_code == 404


def test_failing_and_timed_out_tools_are_reported_in_the_answer(
    agents_client, analyst, add_test_tool, monkeypatch
):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_TOOL_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("HYGEIA_AGENTS_MAX_STEPS", "6")
    reset_settings()
    add_test_tool("agents_test.broken")
    add_test_tool("agents_test.slow")
    body = {"question": "Molecular mass of SMILES CCO?", "mode": "autonomous-manual", "expert": "medical"}
    answer = agents_client.post("/api/v1/agents/ask", json=body, headers=analyst).json()
    statuses = {c["tool"]: c["status"] for c in answer["tool_calls"]}
    assert statuses["agents_test.broken"] == "error" and statuses["agents_test.slow"] == "timeout"
    assert statuses["agents_test.formula_mass"] == "ok"
    assert (
        "Tool failure — agents_test.broken (error): RuntimeError: this test tool always fails"
        in answer["answer"]
    )
    assert "Tool failure — agents_test.slow (timeout)" in answer["answer"]
    assert answer["confidence"]["tool_answered"] is True  # formula_mass answered despite the failures
    assert "- agents_test.formula_mass: " in answer["answer"]  # its result as a one-line fact
    detail = agents_client.get(f"/api/v1/agents/conversations/{answer['conversation_id']}", headers=analyst)
    stored = {c["tool"]: c for c in detail.json()["messages"][1]["tool_calls"]}
    assert stored["agents_test.broken"]["error"].startswith("RuntimeError")
    assert stored["agents_test.formula"]["inputs"] == {"smiles": "CCO"}


def test_panel_of_all_experts_agrees_on_shared_evidence(agents_client, analyst):
    response = agents_client.post("/api/v1/agents/panel", json={"question": QUESTION}, headers=analyst)
    assert response.status_code == 200, response.text
    panel = response.json()
    assert [a["expert"]["name"] for a in panel["answers"]] == ["regulatory", "medical", "clinical_research"]
    assert {a["conversation_id"] for a in panel["answers"]} == {panel["conversation_id"]}
    consensus = panel["consensus"]
    assert consensus["agreement"] == 1.0 and consensus["generation"] == "extractive"
    assert consensus["text"].startswith("[no language model")
    assert not [d for d in consensus["disagreements"] if d["kind"] == "evidence"]
    detail = agents_client.get(f"/api/v1/agents/conversations/{panel['conversation_id']}", headers=analyst)
    assert [m["role"] for m in detail.json()["messages"]] == [
        "user",
        "assistant",
        "assistant",
        "assistant",
        "panel",
    ]


def test_panel_shows_disagreement_when_experts_see_different_evidence(agents_client, analyst, monkeypatch):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS", '["agents_test.pubmed_search"]')
    monkeypatch.setenv("HYGEIA_AGENTS_EXPERT_TOOL_PATTERNS", '{"medical": ["agents_test.formula*"]}')
    reset_settings()
    body = {
        "question": "What is the molecular mass of SMILES CCO and is ethanol toxic?",
        "experts": ["regulatory", "medical"],
        "mode": "autonomous-manual",
    }
    panel = agents_client.post("/api/v1/agents/panel", json=body, headers=analyst).json()
    regulatory, medical = panel["answers"]
    assert "agents_test.formula" not in {c["tool"] for c in regulatory["tool_calls"]}
    assert "agents_test.formula_mass" in {c["tool"] for c in medical["tool_calls"]}
    consensus = panel["consensus"]
    assert 0 < consensus["agreement"] < 1
    evidence = {d["experts"][0]: d["detail"] for d in consensus["disagreements"] if d["kind"] == "evidence"}
    tools = [s["tool"] for s in medical["sources"] if s["kind"] == "tool_result"]
    assert len(tools) == 2 and all(f"{tool}: " in evidence["medical"] for tool in tools)  # tool and fact
    assert "Disagreement (evidence): MedicalSpecialist alone relied on" in consensus["text"]


def test_panel_needs_two_experts(agents_client, analyst):
    body = {"question": QUESTION, "experts": ["medical", "MedicalSpecialist"]}
    assert agents_client.post("/api/v1/agents/panel", json=body, headers=analyst).status_code == 422


def test_aliases_of_one_expert_answer_once(agents_client, analyst):
    body = {"question": QUESTION, "experts": ["medical", "MedicalSpecialist", "regulatory", "Medical"]}
    response = agents_client.post("/api/v1/agents/panel", json=body, headers=analyst)
    assert response.status_code == 200, response.text
    assert [a["expert"]["name"] for a in response.json()["answers"]] == ["medical", "regulatory"]


def test_panel_streams_each_experts_events_then_the_consensus(agents_client, analyst):
    body = {"question": QUESTION, "experts": ["regulatory", "clinical_research"]}
    response = agents_client.post("/api/v1/agents/panel/stream", json=body, headers=analyst)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    frames = parse_sse(response.text)
    kinds = [f["event"] for f in frames]
    assert kinds == ["meta", "tool", "answer", "meta", "tool", "answer", "panel", "done"]
    assert [f["data"]["panelist"] for f in frames[:6]] == ["regulatory"] * 3 + ["clinical_research"] * 3
    panel = frames[6]["data"]
    assert [a["message_id"] for a in panel["answers"]] == [
        frames[2]["data"]["message_id"],
        frames[5]["data"]["message_id"],
    ]
    assert panel["consensus"]["message_id"] and 0 <= panel["consensus"]["agreement"] <= 1
    bad = agents_client.post(
        "/api/v1/agents/panel/stream", json={**body, "experts": ["regulatory"]}, headers=analyst
    )
    assert bad.status_code == 422  # refused before the stream opens
