"""The console's single answer (agents): the quoted sentences, the verdict of a yes/no question, and
the full passages one click away (a <details> element), through the real app and SSE stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.web.helpers import HTMX, sign_in
from tests.conftest import Platform

pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")


@pytest.fixture
def agents_console(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from hygeia.app import create_app

    from tests.unit.agents.fixtures import configure_agents, reset_agents

    configure_agents(monkeypatch)
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client
    reset_agents()


def test_answer_shows_verdict_and_full_passages(agents_console: TestClient, make_key) -> None:
    sign_in(agents_console, make_key("acme", "analyst"))
    question = "Do preoperative statins reduce atrial fibrillation after coronary artery bypass grafting?"
    data = {"question": question, "mode": "manual", "expert": "clinical_research"}
    page = agents_console.post("/ui/agents/ask", data=data, headers=HTMX).text
    start = page.index('data-stream="') + len('data-stream="')
    body = agents_console.get(page[start : page.index('"', start)]).text
    answer = next(
        json.loads(block.split("data: ", 1)[1])
        for block in body.split("\n\n")
        if "\nevent: answer\n" in f"\n{block}\n"
    )
    html = answer["html"]
    assert '<details class="full-passages"><summary>Full passages (' in html
    assert "Verdict read from [" in html and "PubMedQA test accuracy" in html
    assert html.count("<p><strong>[") >= 3  # one paragraph per retrieved passage, whole
