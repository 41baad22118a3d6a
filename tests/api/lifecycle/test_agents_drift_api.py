"""Agents in the drift monitor over HTTP: an answer built from retrieved passages feeds its retrieval
scores (best and mean sentence cosine, calibrated P(answers)) under the bundled agents model; an answer
from a tool alone feeds nothing; another tenant does not see them."""

from __future__ import annotations

import pytest

from tests.conftest import auth_header
from tests.unit.agents.fixtures import agent_env, agents_client  # noqa: F401  (fixtures)

QUESTION = "Do preoperative statins reduce atrial fibrillation after coronary artery bypass grafting?"
SIGNALS = {"relevance", "support", "evidence_answers_question"}


def _agents_rows(client, headers) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    rows = client.get("/api/v1/admin/drift", headers=headers).json()
    return {row["signal"]: row for row in rows if row["model"] == "agents-verdict"}


def test_answers_from_passages_feed_agents_drift_per_tenant(agents_client, make_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    analyst = auth_header(make_key("hospital-a", "analyst"))
    body = {"question": QUESTION, "mode": "manual", "expert": "clinical_research"}
    for _ in range(2):
        answer = agents_client.post("/api/v1/agents/ask", json=body, headers=analyst).json()
        assert any(source["kind"] == "passage" for source in answer["sources"])
    mine = _agents_rows(agents_client, analyst)
    assert set(mine) == SIGNALS and {row["observations"] for row in mine.values()} == {2}
    from hygeia.agents.verdict import VERSION

    assert {row["version"] for row in mine.values()} == {VERSION}

    from hygeia.agents import drift

    values = drift.signal_values(answer)  # what the last answer fed: its own confidence components
    assert values is not None and values["relevance"] == answer["confidence"]["components"]["relevance"]
    without_passages = {**answer, "sources": [s for s in answer["sources"] if s["kind"] != "passage"]}
    assert drift.signal_values(without_passages) is None  # a tool's answer alone says nothing of retrieval
    other = auth_header(make_key("hospital-b", "viewer"))
    assert _agents_rows(agents_client, other) == {}


def test_the_reference_is_in_the_bundled_card_and_the_sha256_is_unchanged() -> None:
    from hygeia.agents import drift

    model = drift.bundled_model()
    if model is None:
        pytest.skip("no bundled agents model")
    reference = model.card["drift_reference"]
    assert set(reference) == SIGNALS
    assert all(sum(reference[s]["counts"]) == 500 for s in SIGNALS)  # the 500 PubMedQA test questions
