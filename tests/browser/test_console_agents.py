"""Agents in the browser: a question streamed over EventSource to a cited answer, and a refusal."""

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

pytestmark = pytest.mark.browser
QUESTION = "Is there evidence for sildenafil in congestive heart failure?"


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
