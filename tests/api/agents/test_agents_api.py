"""The agents API without a language model: extractive, cited answers in all four modes, memory,
feedback, roles, and tenant isolation of conversations."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.conftest import auth_header

QUESTION = "Do statins reduce mortality in patients with heart failure?"


@pytest.fixture
def analyst(make_key, agent_env) -> dict[str, str]:
    return auth_header(make_key("hospital-a", "analyst"))


def ask(client, headers, **body):
    return client.post("/api/v1/agents/ask", json=body, headers=headers)


def test_experts_list_their_permitted_tools(agents_client, analyst):
    response = agents_client.get("/api/v1/agents/experts", headers=analyst)
    assert response.status_code == 200
    experts = {e["name"]: e for e in response.json()}
    assert set(experts) == {"regulatory", "medical", "clinical_research"}
    assert "signals.*" in experts["regulatory"]["tool_patterns"]
    assert "dermatology.*" not in experts["regulatory"]["tool_patterns"]
    assert "agents_test.formula" in experts["medical"]["available_tools"]


def _not_answered_count() -> float:
    labels = {"capability": "agents", "decision": "not_answered"}
    return REGISTRY.get_sample_value("hygeia_capability_decisions_total", labels) or 0.0


def test_manual_mode_is_extractive_cited_and_labelled(agents_client, analyst):
    not_answered_before = _not_answered_count()
    response = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="clinical_research")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["generation"] == "extractive"
    assert answer["model"] == "no language model"
    assert answer["answer"].startswith("[no language model: HYGEIA_LLM_BACKEND=none")
    assert answer["expert"]["name"] == "clinical_research" and answer["routing"] is None
    assert [c["tool"] for c in answer["tool_calls"]] == ["agents_test.pubmed_search"]
    sources = answer["sources"]
    assert sources and all(s["ref"].startswith("PMID:") for s in sources)
    for source in sources:
        assert f"[{source['number']}]" in answer["answer"] and source["ref"] in answer["answer"]
    bullets = [line for line in answer["answer"].splitlines() if line.startswith("- ")]
    assert 3 <= len(bullets) <= 5  # sentences, not whole abstracts
    full = {s["number"]: s["full_text"] for s in sources}
    for line in bullets:
        sentence, number = line[2:].rsplit(" [", 1)
        passage = full[int(number.rstrip("]"))]
        assert sentence in passage and len(sentence) < len(passage)
    assert set(answer["cited"]) <= set(full) and answer["cited"]
    # the corpus (PubMedQA abstracts) holds no study of statins and heart-failure mortality
    confidence = answer["confidence"]
    assert confidence["label"] == "low — not answered" and confidence["value"] < 0.3
    assert _not_answered_count() == not_answered_before + 1  # the agents dashboard counts it
    assert "do not address this question" in answer["answer"]
    assert answer["verdict"] is not None  # computed, but not stated as the answer when not answered
    assert "Verdict:" not in answer["answer"]


def test_a_question_the_corpus_answers_gets_a_verdict_and_higher_confidence(agents_client, analyst):
    question = "Do preoperative statins reduce atrial fibrillation after coronary artery bypass grafting?"
    answer = ask(agents_client, analyst, question=question, mode="manual", expert="clinical_research").json()
    by_number = {s["number"]: s["ref"] for s in answer["sources"]}
    best = answer["answer"].split("\n- ", 1)[1].split("\n")[0]
    assert best.endswith(f"[{next(n for n, ref in by_number.items() if ref == 'PMID:21881325')}]")
    confidence = answer["confidence"]
    assert confidence["label"] in ("high", "medium") and confidence["evidence_answers_question"] >= 0.5
    verdict = answer["verdict"]
    assert verdict["label"] in ("yes", "no", "maybe") and by_number[verdict["source"]] == "PMID:21881325"
    assert f"Verdict: {verdict['label']}" in answer["answer"]
    assert "PubMedQA test accuracy" in verdict["measured"]


def test_automatic_mode_routes_and_says_why(agents_client, analyst):
    question = "Is there a safety signal of liver injury in FAERS adverse event reports for this drug?"
    answer = ask(agents_client, analyst, question=question, mode="automatic").json()
    assert answer["expert"]["name"] == "regulatory"
    routing = answer["routing"]
    assert routing["expert"] == "regulatory" and "faers" in routing["matched_terms"]
    assert "RegulatoryExpert matched on" in routing["reason"]


def test_autonomous_manual_chains_tools_through_outputs(agents_client, analyst):
    question = "What is the molecular mass of the compound with SMILES CC(=O)Oc1ccccc1C(=O)O ?"
    answer = ask(agents_client, analyst, question=question, mode="autonomous-manual", expert="medical").json()
    calls = {c["tool"]: c for c in answer["tool_calls"]}
    assert calls["agents_test.formula"]["output"]["formula"] == "C9H8O4"
    mass = calls["agents_test.formula_mass"]
    assert mass["inputs"] == {"formula": "C9H8O4"}  # bound from the previous step's output
    assert mass["output"]["average_mass"] == pytest.approx(180.159, abs=0.01)
    assert calls["agents_test.formula"]["step"] < mass["step"]
    assert answer["planner"] == "rules"
    assert any(s["kind"] == "tool_result" and "180.15" in s["text"] for s in answer["sources"])


def test_autonomous_automatic_routes_then_plans(agents_client, analyst):
    question = "Is aspirin toxic? What is the molecular weight of SMILES CC(=O)Oc1ccccc1C(=O)O"
    answer = ask(agents_client, analyst, question=question, mode="3").json()
    assert answer["mode"] == "autonomous-automatic"
    assert answer["routing"]["expert"] == "medical"
    assert {"agents_test.formula", "agents_test.formula_mass"} <= {c["tool"] for c in answer["tool_calls"]}


def test_requests_are_validated(agents_client, analyst):
    assert ask(agents_client, analyst, question=QUESTION, mode="manual").status_code == 422
    assert ask(agents_client, analyst, question=QUESTION, mode="psychic").status_code == 422
    assert (
        ask(agents_client, analyst, question=QUESTION, mode="manual", expert="astrologer").status_code == 422
    )
    assert ask(agents_client, analyst, question="", mode="automatic").status_code == 422


def test_viewer_may_read_but_not_ask(agents_client, make_key, analyst):
    viewer = auth_header(make_key("hospital-a", "viewer"))
    assert ask(agents_client, viewer, question=QUESTION).status_code == 403
    assert agents_client.get("/api/v1/agents/conversations", headers=viewer).status_code == 200
    assert agents_client.post("/api/v1/agents/ask", json={"question": QUESTION}).status_code == 401


def test_conversation_memory_and_feedback(agents_client, analyst):
    first = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical").json()
    follow = ask(
        agents_client,
        analyst,
        question="What about its side effects?",
        mode="manual",
        expert="medical",
        conversation_id=first["conversation_id"],
    ).json()
    assert follow["conversation_id"] == first["conversation_id"]
    assert any("follow-up" in note for note in follow["notes"])
    assert follow["tool_calls"][0]["inputs"]["query"].startswith(QUESTION)

    rated = agents_client.post(
        f"/api/v1/agents/messages/{first['message_id']}/feedback",
        json={"rating": 1, "comment": "useful sources"},
        headers=analyst,
    )
    assert rated.status_code == 201 and rated.json()["rating"] == 1
    bad = agents_client.post(
        f"/api/v1/agents/messages/{first['message_id']}/feedback", json={"rating": 5}, headers=analyst
    )
    assert bad.status_code == 422

    listing = agents_client.get("/api/v1/agents/conversations", headers=analyst).json()
    assert [c["id"] for c in listing] == [first["conversation_id"]] and listing[0]["messages"] == 4
    detail = agents_client.get(
        f"/api/v1/agents/conversations/{first['conversation_id']}", headers=analyst
    ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    answer_row = detail["messages"][1]
    assert answer_row["feedback"][0]["comment"] == "useful sources"
    assert answer_row["tool_calls"][0]["tool"] == "agents_test.pubmed_search"
    assert answer_row["tool_calls"][0]["output"]["hits"]
    assert answer_row["confidence"]["value"] == first["confidence"]["value"]


def test_tenant_b_cannot_read_or_continue_tenant_a_conversation(agents_client, analyst, make_key):
    first = ask(agents_client, analyst, question=QUESTION, mode="manual", expert="medical").json()
    other = auth_header(make_key("hospital-b", "admin"))
    conversation = f"/api/v1/agents/conversations/{first['conversation_id']}"
    assert agents_client.get(conversation, headers=other).status_code == 404
    assert agents_client.get("/api/v1/agents/conversations", headers=other).json() == []
    continued = ask(
        agents_client,
        other,
        question="and?",
        mode="manual",
        expert="medical",
        conversation_id=first["conversation_id"],
    )
    assert continued.status_code == 404
    feedback = agents_client.post(
        f"/api/v1/agents/messages/{first['message_id']}/feedback", json={"rating": -1}, headers=other
    )
    assert feedback.status_code == 404
    assert agents_client.get(conversation, headers=analyst).status_code == 200


def test_memory_recalls_an_old_turn_by_meaning(agents_client, analyst, monkeypatch):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_HISTORY_TURNS", "2")
    reset_settings()
    first = ask(agents_client, analyst, question="Does warfarin increase the risk of major bleeding?",
                mode="manual", expert="medical").json()  # fmt: skip
    conversation = first["conversation_id"]
    for filler in ("What is the mechanism of action of metformin?", "How is asthma diagnosed in children?",
                   "Which vaccines are given to newborns?"):  # fmt: skip
        ask(
            agents_client,
            analyst,
            question=filler,
            mode="manual",
            expert="medical",
            conversation_id=conversation,
        )
    later = ask(agents_client, analyst, question="Remind me: is bleeding more likely on warfarin?",
                mode="manual", expert="medical", conversation_id=conversation).json()  # fmt: skip
    recalled = [n for n in later["notes"] if n.startswith("recalled an earlier turn by meaning")]
    assert len(recalled) == 1 and "warfarin increase the risk of major bleeding" in recalled[0]
    unrelated = ask(agents_client, analyst, question="What is the boiling point of ethanol?",
                    mode="manual", expert="medical", conversation_id=conversation).json()  # fmt: skip
    assert not [n for n in unrelated["notes"] if n.startswith("recalled")]
