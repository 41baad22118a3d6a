"""The panel's consensus without a language model: tool results are shared by what they say, not by
each expert's own call record, and stated verdicts agree or are listed as a disagreement."""

from __future__ import annotations

from typing import Any

from hygeia.agents.panel import build_consensus

LABELS = {"fact": "SIDER lists Hepatic failure", "verdict": {"label": "yes", "basis": "labelled"}}


def expert_answer(name: str, title: str, record: str, verdict: dict[str, Any] | None) -> dict[str, Any]:
    """An answer as the engine returns it: one passage and one side-effect lookup with its own record."""
    lookup = {"kind": "tool_result", "ref": record, "tool": "agents.side_effects", "title": "", "text": "{}"}
    passage = {"kind": "passage", "ref": "repodb:752", "tool": "search", "title": "Pain", "text": "ok"}
    call = {"tool": "agents.side_effects", "status": "ok", "record_id": record, "output": LABELS}
    return {
        "expert": {"name": name, "title": title},
        "answer": "…",
        "generation": "extractive",
        "confidence": {"value": 0.6},
        "verdict": verdict,
        "sources": [lookup, passage],
        "tool_calls": [call],
    }


def rule(label: str) -> dict[str, Any]:
    return {"label": label, "model": "rule: agents.side_effects", "stated": True}


def test_the_same_lookup_by_two_experts_is_shared_evidence_and_their_verdict_leads(agent_env):
    answers = [
        expert_answer("regulatory", "RegulatoryExpert", "rec-1", rule("yes")),
        expert_answer("medical", "MedicalSpecialist", "rec-2", rule("yes")),
        expert_answer("clinical_research", "ClinicalResearcher", "rec-3", None),
    ]
    consensus = build_consensus("Is acetaminophen hepatotoxic?", answers)
    assert consensus["agreement"] == 1.0 and not consensus["disagreements"]
    assert consensus["shared_sources"] == ["agents.side_effects: SIDER lists Hepatic failure", "repodb:752"]
    lines = consensus["text"].splitlines()
    assert lines[1] == (
        "Verdict: yes (RegulatoryExpert: rule: agents.side_effects; MedicalSpecialist: rule: "
        "agents.side_effects); none stated by ClinicalResearcher"
    )
    assert lines[2:] == ["- SIDER lists Hepatic failure (agents.side_effects)", "- Pain (repodb:752): ok"]


def test_different_stated_verdicts_are_a_disagreement_and_unstated_readings_do_not_count(agent_env):
    unstated = {"label": "no", "model": "agents-verdict 1.1.0", "stated": False}
    answers = [
        expert_answer("regulatory", "RegulatoryExpert", "rec-1", rule("yes")),
        expert_answer("medical", "MedicalSpecialist", "rec-2", rule("no")),
        expert_answer("clinical_research", "ClinicalResearcher", "rec-3", unstated),
    ]
    consensus = build_consensus("Is acetaminophen hepatotoxic?", answers)
    (verdict,) = [d for d in consensus["disagreements"] if d["kind"] == "verdict"]
    assert verdict["experts"] == ["regulatory", "medical"]
    assert verdict["detail"] == (
        "RegulatoryExpert yes (rule: agents.side_effects); MedicalSpecialist no (rule: agents.side_effects)"
    )
    assert not consensus["text"].splitlines()[1].startswith("Verdict:")


def test_evidence_two_of_three_experts_had_names_both_not_each_alone(agent_env):
    answers = [
        expert_answer("regulatory", "RegulatoryExpert", "rec-1", rule("yes")),
        expert_answer("medical", "MedicalSpecialist", "rec-2", rule("yes")),
        expert_answer("clinical_research", "ClinicalResearcher", "rec-3", None),
    ]
    answers[2]["sources"] = answers[2]["sources"][1:]  # the researcher did not look the labels up
    consensus = build_consensus("Is acetaminophen hepatotoxic?", answers)
    (evidence,) = [d for d in consensus["disagreements"] if d["kind"] == "evidence"]
    assert evidence["experts"] == ["regulatory", "medical"]
    assert evidence["detail"] == (
        "RegulatoryExpert and MedicalSpecialist relied on agents.side_effects: SIDER lists Hepatic failure"
    )
    assert consensus["agreement"] == 0.5 and consensus["shared_sources"] == ["repodb:752"]
