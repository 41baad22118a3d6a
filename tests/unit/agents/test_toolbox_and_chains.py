"""Tool calls and chains: every failure is reported with its kind, never replaced by a result."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hygeia.agents.experts import EXPERTS
from hygeia.agents.planner import initial_context, planned_chain, retrieval_chain
from hygeia.agents.toolbox import run_tool
from hygeia.core import tools

MEDICAL, REGULATORY = EXPERTS["medical"], EXPERTS["regulatory"]


def drain(chain):
    outcomes = []
    while True:
        try:
            outcomes.append(next(chain))
        except StopIteration as done:
            return outcomes, done.value


def test_ok_call_keeps_inputs_output_and_duration(agent_env):
    outcome = run_tool(1, "agents_test.formula", {"smiles": "CCO"}, MEDICAL, "why")
    assert outcome.ok and outcome.output == {"formula": "C2H6O", "heavy_atoms": 3}
    assert outcome.duration_ms > 0 and outcome.reason == "why" and len(outcome.record_id) == 32


def test_tool_that_raises_is_reported_as_error(agent_env, add_test_tool):
    add_test_tool("agents_test.broken")
    outcome = run_tool(1, "agents_test.broken", {"query": "x"}, MEDICAL)
    assert outcome.status == "error" and outcome.output is None
    assert outcome.error == "RuntimeError: this test tool always fails"


def _tool_calls(tool: str, outcome: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("hygeia_agent_tool_calls_total", {"tool": tool, "outcome": outcome})
    return value or 0.0


def test_tool_calls_are_counted_by_tool_and_outcome_and_invented_names_stay_one_label(
    agent_env, add_test_tool
):
    """The agents dashboard plots tool failures from this counter."""
    add_test_tool("agents_test.broken")
    keys = [("agents_test.broken", "error"), ("agents_test.formula", "ok"), ("unregistered", "missing")]
    before = {key: _tool_calls(*key) for key in keys}
    run_tool(1, "agents_test.broken", {"query": "x"}, MEDICAL)
    run_tool(2, "agents_test.formula", {"smiles": "CCO"}, MEDICAL)
    run_tool(3, "agents_test.formula", {"smiles": "CCO"}, MEDICAL)
    run_tool(4, "agents_test.invented_by_a_plan", {}, MEDICAL)
    assert _tool_calls("agents_test.broken", "error") - before[("agents_test.broken", "error")] == 1
    assert _tool_calls("agents_test.formula", "ok") - before[("agents_test.formula", "ok")] == 2
    assert _tool_calls("unregistered", "missing") - before[("unregistered", "missing")] == 1
    assert _tool_calls("agents_test.invented_by_a_plan", "missing") == 0


def test_tool_that_hangs_times_out(agent_env, add_test_tool, monkeypatch):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_TOOL_TIMEOUT_SECONDS", "0.2")
    reset_settings()
    add_test_tool("agents_test.slow")
    outcome = run_tool(1, "agents_test.slow", {"query": "x", "seconds": 1.0}, MEDICAL)
    assert outcome.status == "timeout" and "within 0.2s" in outcome.error
    assert outcome.duration_ms < 900


def test_missing_forbidden_and_invalid_calls(agent_env, monkeypatch):
    missing = run_tool(1, "agents_test.nowhere", {}, MEDICAL)
    assert missing.status == "missing" and "no tool named" in missing.error
    monkeypatch.setenv("HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS", "[]")
    from hygeia.settings import reset_settings

    reset_settings()
    forbidden = run_tool(1, "agents_test.formula", {"smiles": "CCO"}, REGULATORY)
    assert forbidden.status == "forbidden" and "RegulatoryExpert" in forbidden.error
    monkeypatch.setenv("HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS", '["agents_test.*"]')
    reset_settings()
    invalid = run_tool(1, "agents_test.formula", {"smiles": 5}, MEDICAL)
    assert invalid.status == "invalid_input" and "must be of type string" in invalid.error
    absent = run_tool(1, "agents_test.formula", {}, MEDICAL)
    assert absent.status == "invalid_input" and "missing required" in absent.error


def test_non_json_outputs_are_made_storable(agent_env, monkeypatch):
    monkeypatch.setitem(
        tools._TOOLS,
        "agents_test.nan",
        tools.Tool("agents_test.nan", "nan", lambda: {"x": math.nan, "y": [math.inf, 1]}),
    )
    outcome = run_tool(1, "agents_test.nan", {}, MEDICAL)
    assert outcome.output == {"x": None, "y": [None, 1]}
    monkeypatch.setitem(tools._TOOLS, "agents_test.list", tools.Tool("agents_test.list", "l", lambda: [1]))
    assert run_tool(1, "agents_test.list", {}, MEDICAL).status == "error"


def test_retrieval_chain_reports_a_missing_retrieval_tool(agent_env, monkeypatch):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_RETRIEVAL_TOOLS", '["evidence.search", "agents_test.pubmed_search"]')
    reset_settings()
    outcomes, result = drain(retrieval_chain(MEDICAL, initial_context("statins", "statins")))
    assert [o.status for o in outcomes] == ["missing", "ok"] and result.outcomes == outcomes


def test_planned_chain_continues_past_a_failing_step_and_notes_what_it_skipped(agent_env, add_test_tool):
    add_test_tool("agents_test.broken")
    question = "Molecular mass of SMILES CCO?"
    outcomes, result = drain(
        planned_chain(question, MEDICAL, initial_context(question, question), None, False)
    )
    statuses = {o.tool: o.status for o in outcomes}
    assert statuses["agents_test.broken"] == "error"
    assert statuses["agents_test.formula"] == statuses["agents_test.formula_mass"] == "ok"
    assert result.planner == "rules"


def test_chain_stops_at_the_step_limit(agent_env, monkeypatch):
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_MAX_STEPS", "2")
    reset_settings()
    question = "Molecular mass of SMILES CCO?"
    outcomes, result = drain(
        planned_chain(question, MEDICAL, initial_context(question, question), None, False)
    )
    assert len(outcomes) == 2
    assert any("step limit (2)" in note for note in result.notes)


def test_chain_notes_tools_whose_inputs_nothing_provides(agent_env):
    question = "What is the molecular mass of this formula?"
    outcomes, result = drain(
        planned_chain(question, MEDICAL, initial_context(question, question), None, False)
    )
    assert "agents_test.formula_mass" not in {o.tool for o in outcomes}
    assert any("agents_test.formula_mass not called: needs ['formula']" in n for n in result.notes)


@pytest.mark.parametrize("mode", ["manual", "autonomous-manual"])
def test_an_answer_with_every_tool_failing_says_so_and_has_zero_confidence(agent_env, monkeypatch, mode):
    from hygeia.agents.engine import Question, ask
    from hygeia.core.auth import Principal
    from hygeia.settings import reset_settings

    monkeypatch.setattr(tools, "_TOOLS", {})
    monkeypatch.setenv("HYGEIA_AGENTS_RETRIEVAL_TOOLS", '["evidence.search"]')
    reset_settings()
    answer = ask(
        Principal("t1", "analyst", "test", "standard"), Question("Is aspirin safe?", mode, "medical")
    )
    assert answer["sources"] == [] and answer["confidence"]["value"] == 0.0
    assert "No source could be retrieved" in answer["answer"]
    if mode == "manual":
        assert "evidence.search (missing)" in answer["answer"]


def test_a_tool_gets_its_caller_as_an_argument_and_in_the_pool_threads_context(agent_env, monkeypatch):
    from hygeia.core.auth import CURRENT_TENANT

    def whoami(caller: tools.Caller) -> dict[str, Any]:
        return {"argument": [caller.tenant_id, caller.role], "bound": CURRENT_TENANT.get()}

    def unscoped() -> dict[str, Any]:
        return {"bound": CURRENT_TENANT.get()}

    for name, function, scoped in (
        ("agents_test.whoami", whoami, True),
        ("agents_test.plain", unscoped, False),
    ):
        monkeypatch.setitem(tools._TOOLS, name, tools.Tool(name, "t", function, tenant_scoped=scoped))
    caller = tools.Caller("hospital-a", "analyst", "key:1")
    assert run_tool(1, "agents_test.whoami", {}, MEDICAL, caller=caller).output == {
        "argument": ["hospital-a", "analyst"],
        "bound": "hospital-a",
    }
    assert CURRENT_TENANT.get() is None  # bound only in the call's own copy of the context
    token = CURRENT_TENANT.set("hospital-b")
    try:  # a tool without a caller still runs in the asker's context, not the pool thread's empty one
        assert run_tool(1, "agents_test.plain", {}, MEDICAL).output == {"bound": "hospital-b"}
    finally:
        CURRENT_TENANT.reset(token)
    refused = run_tool(1, "agents_test.whoami", {}, MEDICAL)
    assert refused.status == "forbidden" and refused.output is None


@pytest.mark.parametrize(
    ("question", "asks_for_candidates"),
    [
        ("What could be repurposed to treat Parkinson's disease?", True),
        ("Which drugs could treat multiple sclerosis?", True),
        ("Could metformin be repurposed for Alzheimer's disease?", True),
        ("What new uses could metformin have?", True),
        ("Does metformin cause lactic acidosis?", False),
        ("Is acetaminophen hepatotoxic?", False),
    ],
)
def test_a_repurposing_question_runs_the_candidates_lookup(agent_env, question, asks_for_candidates):
    from hygeia.agents.planner import _question_lookups

    lookups, _ = _question_lookups(EXPERTS["clinical_research"], initial_context(question, question))
    assert ("evidence.candidates" in lookups) is asks_for_candidates


def test_a_structure_with_a_toxicity_cue_runs_the_toxicity_model(agent_env):
    from hygeia.agents.planner import _question_lookups

    question = "Predict the toxicity of CC(=O)Oc1ccccc1C(=O)O"
    assert "toxicity.predict" in _question_lookups(MEDICAL, initial_context(question, question))[0]
    plain = "What is the structure CC(=O)Oc1ccccc1C(=O)O?"
    assert "toxicity.predict" not in _question_lookups(MEDICAL, initial_context(plain, plain))[0]


def test_a_follow_up_that_cues_no_lookup_takes_those_of_the_question_before(agent_env):
    from hygeia.agents.planner import _question_lookups

    first = "Is there a signal for atorvastatin and rhabdomyolysis?"
    own = initial_context("Does it cause rash?", f"{first} Does it cause rash?", [first])
    assert _question_lookups(MEDICAL, own) == (["agents.side_effects"], False)  # cued by the follow-up
    bare = initial_context("And for simvastatin?", f"{first} And for simvastatin?", [first])
    assert bare["drug"] == "simvastatin"
    assert _question_lookups(EXPERTS["regulatory"], bare) == (["agents.signal_lookup"], True)
