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
