"""`hygeia agents …` runs the same service in-process and stores into the same tables."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hygeia.cli import app

runner = CliRunner()


def test_ask_prints_a_labelled_cited_answer_and_stores_it(agent_env):
    question = "Do statins reduce mortality in patients with heart failure?"
    result = runner.invoke(app, ["agents", "ask", question, "--expert", "medical", "--mode", "1"])
    assert result.exit_code == 0, result.output
    assert "[no language model: HYGEIA_LLM_BACKEND=none" in result.output
    assert "PMID:" in result.output and "confidence" in result.output

    listed = runner.invoke(app, ["agents", "conversations"])
    assert listed.exit_code == 0 and question[:40] in listed.output


def test_ask_json_and_errors(agent_env):
    result = runner.invoke(
        app,
        [
            "agents",
            "ask",
            "Molecular mass of SMILES CCO?",
            "-m",
            "autonomous-manual",
            "-e",
            "medical",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # logs (the audit line) go to stderr, so stdout parses alone
    assert answer["tool_calls"][-1]["output"]["average_mass"] > 46
    bad = runner.invoke(app, ["agents", "ask", "anything", "--mode", "manual"])
    assert bad.exit_code == 2 and "needs an expert" in bad.output


def test_experts_and_panel(agent_env):
    experts = runner.invoke(app, ["agents", "experts"])
    assert experts.exit_code == 0 and "RegulatoryExpert" in experts.output
    panel = runner.invoke(
        app, ["agents", "panel", "Do statins reduce mortality?", "-e", "regulatory", "-e", "medical"]
    )
    assert panel.exit_code == 0, panel.output
    assert "== Consensus (agreement 1.00) ==" in panel.output


def test_delete_conversation_removes_it_and_an_unknown_id_is_one_error_line(agent_env):
    asked = runner.invoke(app, ["agents", "ask", "Do statins reduce mortality?", "-e", "medical", "--json"])
    conversation = json.loads(asked.stdout)["conversation_id"]
    deleted = runner.invoke(app, ["agents", "delete-conversation", conversation])
    assert deleted.exit_code == 0, deleted.output
    assert deleted.output.splitlines()[-1] == "1 conversations, 2 messages, 1 tool_calls, 0 feedback deleted"
    assert conversation not in runner.invoke(app, ["agents", "conversations"]).output
    again = runner.invoke(app, ["agents", "delete-conversation", conversation])
    assert again.exit_code == 2 and f"error: no conversation '{conversation}' for this tenant" in again.output
    assert "Traceback" not in again.output
