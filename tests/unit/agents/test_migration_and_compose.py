"""The 0002_agents migration on SQLite, and how sources, citations and confidence are composed."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hygeia.agents.compose import collect_sources, grounding, with_citations
from hygeia.agents.toolbox import ToolOutcome
from hygeia.app import import_all_tables
from hygeia.core import migrate
from hygeia.core.db import Base

AGENT_TABLES = {"agent_conversations", "agent_messages", "agent_tool_calls", "agent_feedback"}


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) >= AGENT_TABLES
    assert {c["name"] for c in inspect(engine).get_columns("agent_tool_calls")} >= {
        "tenant_id",
        "message_id",
        "step",
        "tool",
        "status",
        "inputs",
        "output",
        "error",
        "duration_ms",
    }
    migrate.downgrade(url, "0001_core")
    tables = set(inspect(engine).get_table_names())
    assert not AGENT_TABLES & tables and "api_keys" in tables
    migrate.upgrade(url)
    with engine.connect() as connection:
        import_all_tables()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert not [d for d in diff if "agent_" in repr(d)], diff
    engine.dispose()


def outcome(step: int, tool: str, output: dict | None, status: str = "ok") -> ToolOutcome:
    return ToolOutcome(step, tool, {}, status, output=output, error=None if status == "ok" else "boom")


def test_passages_and_tool_results_become_numbered_sources():
    hits = {
        "hits": [
            {
                "id": "PMID:1",
                "title": "Statins and myopathy",
                "snippet": "Statins cause myopathy.",
                "score": 0.5,
            },
            {"id": "PMID:2", "text": "Second abstract."},
        ]
    }
    outcomes = [
        outcome(1, "evidence.search", hits),
        outcome(2, "calc", {"mass": 46.07}),
        outcome(3, "broken", None, "error"),
    ]
    sources = collect_sources(outcomes, limit=5)
    assert [(s.number, s.kind, s.ref) for s in sources] == [
        (1, "tool_result", outcomes[1].record_id),
        (2, "passage", "PMID:1"),
        (3, "passage", "PMID:2"),
    ]
    assert sources[1].score == 0.5 and sources[0].text == '{"mass": 46.07}'
    assert len(collect_sources(outcomes, limit=2)) == 2


def test_citations_footer_and_grounding():
    sources = collect_sources(
        [
            outcome(
                1, "s", {"hits": [{"id": "PMID:9", "snippet": "Statins cause myopathy in some patients."}]}
            )
        ],
        5,
    )
    text, cited = with_citations("Statins cause myopathy in patients [1]. Unknown claim [7].", sources)
    assert cited == [1] and text.endswith("\n\nSources:\n[1] passage (s, PMID:9)")
    assert grounding("Statins cause myopathy in patients [1].", sources) == 1.0
    assert grounding("Quantum chromodynamics explains gluon confinement.", sources) == 0.0
    assert grounding("Statins cause myopathy in 20% of patients [1].", sources) == 0.0  # invented number


RECORD = "Acetaminophen (DB00316) for Pain: approved."
STUDY = (
    "Acetaminophen overdose is the leading cause of acute liver failure. Hepatotoxicity follows "
    "depletion of glutathione by NAPQI. Liver injury was seen in 12 of 40 patients."
)


def _search(*items: tuple[str, str, str | None]) -> ToolOutcome:
    hits = [{"id": i, "snippet": text, **({"type": kind} if kind else {})} for i, text, kind in items]
    return outcome(1, "evidence.search", {"hits": hits})


def test_only_a_studys_text_is_read_for_a_verdict():
    """A one-line approval record is not what the verdict model was measured on: reading it would only
    echo the model's prior. Untyped passages (tools that do not type them) count as text."""
    from hygeia.agents.confidence import view_evidence

    sources = collect_sources(
        [_search(("repodb:752", RECORD, "approval"), ("pmid:1", STUDY, "literature"), ("x:1", STUDY, None))],
        5,
    )
    assert [s.reads_as_text for s in sources] == [False, True, True]
    question = "Is acetaminophen for pain approved?"  # the record matches best
    passages = [(s.number, s.full_text) for s in sources]
    everything = view_evidence(question, passages, tool_answered=False)
    studies_only = view_evidence(question, passages, tool_answered=False, readable={2})
    assert everything.verdict is not None and everything.verdict["source"] == 1
    assert studies_only.verdict is not None and studies_only.verdict["source"] == 2
    assert view_evidence(question, passages[:1], tool_answered=False, readable=set()).verdict is None


def test_a_lookup_verdict_leads_the_answer_and_unaddressed_passages_become_leads():
    from hygeia.agents.compose import extractive_answer, tool_verdicts
    from hygeia.agents.confidence import view_evidence

    labelled = {"fact": "SIDER lists Hepatic failure", "answers": True,
                "verdict": {"label": "yes", "basis": "the labels list Hepatic failure"}}  # fmt: skip
    unmatched = {"fact": "SIDER lists 3 side effects; none matches", "answers": False}
    weather = "Rainfall in the region was measured daily. The average temperature was 12 degrees."
    sources = collect_sources(
        [outcome(1, "lookup", unmatched), outcome(2, "labels", labelled), _search(("w:1", weather, None))], 5
    )
    verdicts = tool_verdicts(sources)
    assert [(v["label"], v["source"], v["model"], v["probabilities"]) for v in verdicts] == [
        ("yes", 2, "rule: labels", None)
    ]
    assert [s.answers for s in sources] == [False, True, False]
    evidence = view_evidence("Is acetaminophen hepatotoxic?", [(3, weather)], tool_answered=True)
    assert not evidence.passages_answer and not evidence.not_answered  # the tool answered
    lines = extractive_answer(sources, [], "no model", evidence, verdicts).splitlines()
    assert lines[1] == "Verdict: yes (from [2], rule: labels): the labels list Hepatic failure."
    assert lines[2] == "- SIDER lists Hepatic failure [2]"  # the answering lookup first
    assert lines[3] == "- SIDER lists 3 side effects; none matches [1]"
    assert lines[4].startswith("The retrieved passages do not address this question; the closest")
    assert lines[5].startswith("- ") and lines[5].endswith(" [3]") and lines[5][2:-4] in weather
    assert tool_verdicts(collect_sources([outcome(1, "x", {"verdict": {"label": "perhaps"}})], 5)) == []


def test_a_model_sees_a_tool_result_as_its_fact_and_verdict_not_clipped_json():
    from hygeia.agents.compose import SOURCE_TEXT_CHARS, answer_messages
    from hygeia.agents.experts import EXPERTS

    output = {
        "pairs": [{"event": f"event {i}", "n": i} for i in range(60)],
        "fact": "atorvastatin-rhabdomyolysis: N 590, EB05 24, alert high",
        "verdict": {"label": "yes", "basis": "disproportionality alert (high in statin101.csv)"},
    }
    (source,) = collect_sources([outcome(1, "agents.signal_lookup", output)], 5)
    assert len(source.text) <= SOURCE_TEXT_CHARS + 2 and "EB05" not in source.text  # the JSON is clipped
    prompt = answer_messages(EXPERTS["regulatory"], "signal?", [], [source], [])[-1]["content"]
    assert "[1] agents.signal_lookup result — atorvastatin-rhabdomyolysis: N 590, EB05 24, alert high." in (
        prompt
    )
    assert "Verdict yes: disproportionality alert (high in statin101.csv)." in prompt
    assert grounding("Atorvastatin-rhabdomyolysis: N 590, EB05 24, alert high [1].", [source]) == 1.0
