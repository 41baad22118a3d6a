"""Agents in the browser: a question streamed over EventSource to a cited answer, a refusal, and a
panel of experts answering side by side before a consensus that lists their disagreements."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    build_evidence_index,
    login,
    screenshot,
)
from tests.conftest import Platform
from tests.unit.agents.fixtures import agent_env  # noqa: F401  (agents_test.* tools, no language model)

pytestmark = pytest.mark.browser
QUESTION = "Is there evidence for sildenafil in congestive heart failure?"
PANEL_QUESTION = "Do statins reduce mortality in patients with heart failure?"


def test_question_streams_to_a_cited_answer(page: Any, platform: Platform, tmp_path: Path) -> None:
    pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")
    if importlib.util.find_spec("hygeia.evidence.service") is not None:
        build_evidence_index(tmp_path)  # gives the experts something to retrieve and cite
    login(page, platform.admin_key, "/agents")
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/ui/agents/stream/" in r.url else None)

    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Mode", exact=True).select_option("automatic")
    page.get_by_role("button", name="Ask").click()
    turn = page.locator("#chat-log .turn").last
    assert QUESTION in turn.locator(".turn-question").inner_text()
    turn.locator('[data-part="status"]', has_text="Answer ready.").wait_for(timeout=60_000)
    assert streams, "the answer did not come over the SSE stream"
    answer = turn.locator(".answer")
    assert answer.locator(".answer-text").inner_text().strip()
    assert turn.locator('[data-part="meta"]').inner_text().strip()  # the expert who answered
    if importlib.util.find_spec("hygeia.evidence.service") is not None:
        assert answer.locator("ol.sources li").count() >= 1  # retrieved and listed
    label = answer.locator(".model-ref").inner_text()
    assert "confidence" in label
    for citation in answer.locator("a.cite").all():  # every [n] link points at a listed source
        target = citation.get_attribute("href")
        assert answer.locator(target).count() == 1
    assert page.locator("#conversation_id").input_value()  # the next question continues it

    answer.get_by_role("button", name="Helpful", exact=True).click()
    answer.get_by_text("recorded as helpful").wait_for()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "agents")


def test_manual_mode_without_expert_is_explained(page: Any, platform: Platform) -> None:
    pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")
    login(page, platform.admin_key, "/agents")
    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Mode", exact=True).select_option("manual")
    page.get_by_role("button", name="Ask").click()
    problem = page.locator("#chat-log .problem")
    problem.wait_for(timeout=30_000)
    assert "needs an expert" in problem.inner_text()


@pytest.mark.usefixtures("agent_env")  # before `page`, so the server starts with the test tools
def test_panel_answers_side_by_side_then_states_the_consensus(page: Any, platform: Platform) -> None:
    pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")
    login(page, platform.admin_key, "/agents")
    form = page.locator("#panel-form")
    form.get_by_label("Panel question", exact=True).fill(PANEL_QUESTION)
    experts = form.get_by_role("group", name="Experts on the panel")
    assert experts.get_by_role("checkbox").count() == 3
    medical = experts.get_by_label("MedicalSpecialist", exact=True)
    medical.focus()
    page.keyboard.press("Space")  # the experts are chosen from the keyboard too
    assert not medical.is_checked()
    assert experts.get_by_label("RegulatoryExpert", exact=True).is_checked()
    form.get_by_role("button", name="Consult the panel").focus()
    page.keyboard.press("Enter")

    result = page.locator("#panel-result")
    assert result.get_attribute("aria-live") == "polite"
    consensus = result.locator(".panel-consensus[data-generation]")
    consensus.wait_for(timeout=60_000)
    answers = result.locator(".panel-answer")
    assert [a.get_attribute("data-expert") for a in answers.all()] == ["regulatory", "clinical_research"]
    for answer in answers.all():
        assert answer.locator(".answer-text").inner_text().strip()
        assert "confidence" in answer.locator(".model-ref").inner_text()
        assert answer.locator("ol.sources li").count() >= 1
        citation = answer.locator("a.cite").first
        target = citation.get_attribute("href")
        assert target and answer.locator(target).count() == 1  # [n] lands on this answer's own source
    first = answers.first.locator("a.cite").first
    first.click()
    assert page.url.endswith(str(first.get_attribute("href")))
    assert "no language model" in consensus.locator(".panel-generation").inner_text()
    assert consensus.get_attribute("data-generation") == "extractive"
    assert consensus.locator(".answer-text").inner_text().strip()
    assert consensus.get_by_role("heading", name="Disagreements").is_visible()
    assert page.locator("#panel-working").is_hidden()
    screenshot(page, "agents-panel")
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


@pytest.mark.usefixtures("agent_env")
def test_panel_of_one_expert_is_explained(page: Any, platform: Platform) -> None:
    pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")
    login(page, platform.admin_key, "/agents")
    form = page.locator("#panel-form")
    form.get_by_label("Panel question", exact=True).fill(PANEL_QUESTION)
    for title in ("RegulatoryExpert", "MedicalSpecialist"):
        form.get_by_label(title, exact=True).uncheck()
    form.get_by_role("button", name="Consult the panel").click()
    problem = page.locator("#panel-result .problem")
    problem.wait_for()
    assert "tick at least two experts" in problem.inner_text()
    assert page.locator("#panel-result .panel-consensus").count() == 0
