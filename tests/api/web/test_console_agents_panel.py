"""The console's agents answers through the real app: the agents domain with only the `agents_test.*`
tools and no language model, so the answers are extractive, cited and labelled as such."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in

pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")

QUESTION = "Do statins reduce mortality in patients with heart failure?"
TWO_EXPERTS = {"question": QUESTION, "experts": ["regulatory", "clinical_research"]}


@pytest.fixture
def panel_client(agents_console: TestClient) -> TestClient:
    return agents_console


def test_the_page_offers_every_expert_ticked(panel_client: TestClient, make_key) -> None:
    sign_in(panel_client, make_key("acme", "analyst"))
    page = panel_client.get("/agents").text
    assert 'hx-post="/ui/agents/panel"' in page and "<legend>Experts on the panel" in page
    ticked = re.findall(
        r'<input type="checkbox" id="panel-expert-(\w+)" name="experts" value="\1" checked>', page
    )
    assert ticked == ["regulatory", "medical", "clinical_research"]
    assert 'aria-live="polite"' in page.split('id="panel-result"')[1].split(">")[0]


def test_analyst_panel_shows_each_answer_the_consensus_and_citations(
    panel_client: TestClient, make_key
) -> None:
    sign_in(panel_client, make_key("acme", "analyst"))
    response = panel_client.post("/ui/agents/panel", data=TWO_EXPERTS, headers=HTMX)
    assert response.status_code == 200, response.text
    html = response.text
    assert response.headers["content-type"].startswith("text/html") and "Traceback" not in html
    assert re.findall(r'class="panel-answer card" data-expert="(\w+)"', html) == [
        "regulatory",
        "clinical_research",
    ]
    assert ">RegulatoryExpert</h3>" in html and ">ClinicalResearcher</h3>" in html
    assert 'data-expert="medical"' not in html  # only the ticked experts answered
    for anchor in re.findall(r'<a href="#(panel-[\w-]+-src-\d+)" class="cite">', html):
        assert f'id="{anchor}"' in html  # every [n] link lands on a listed source of that answer
    assert len(set(re.findall(r'href="#panel-([\w-]+)-src-\d+"', html))) == 2  # both answers cite
    assert "PMID:" in html and "agents_test.pubmed_search" in html
    assert html.count("confidence ") >= 2
    consensus = html.split('<section class="panel-consensus card"')[1]
    assert 'data-generation="extractive"' in consensus and 'data-agreement="1.0"' in consensus
    assert ">Consensus</h3>" in consensus and "no language model: extractive" in consensus
    assert "<h4>Disagreements</h4>" in consensus


def test_panel_is_stored_as_one_conversation(panel_client: TestClient, make_key) -> None:
    key = make_key("acme", "analyst")
    sign_in(panel_client, key)
    html = panel_client.post("/ui/agents/panel", data=TWO_EXPERTS, headers=HTMX).text
    conversation_id = re.search(r'data-conversation="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    stored = panel_client.get(f"/api/v1/agents/conversations/{conversation_id}", headers={"X-API-Key": key})
    assert [m["role"] for m in stored.json()["messages"]] == ["user", "assistant", "assistant", "panel"]


def test_disagreements_are_listed_with_expert_titles(
    panel_client: TestClient, make_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS", '["agents_test.pubmed_search"]')
    monkeypatch.setenv("HYGEIA_AGENTS_EXPERT_TOOL_PATTERNS", '{"medical": ["agents_test.formula*"]}')
    reset_settings()
    sign_in(panel_client, make_key("acme", "analyst"))
    data = {
        "question": "What is the molecular mass of SMILES CCO and is ethanol toxic?",
        "experts": ["regulatory", "medical"],
        "mode": "autonomous-manual",
    }
    html = panel_client.post("/ui/agents/panel", data=data, headers=HTMX).text
    disagreements = html.split('<ul class="disagreements">')[1].split("</ul>")[0]
    assert '<li data-kind="evidence"><strong>evidence</strong> (MedicalSpecialist):' in disagreements
    assert "MedicalSpecialist alone relied on" in disagreements


@pytest.mark.parametrize(
    ("data", "explained"),
    [
        ({"question": QUESTION, "experts": ["medical"]}, "tick at least two experts"),
        ({"question": QUESTION}, "tick at least two experts"),
        (
            {"question": QUESTION, "experts": ["medical", "MedicalSpecialist"]},
            "at least two different experts",
        ),
        ({"question": "   ", "experts": ["medical", "regulatory"]}, "write the question"),
        ({"question": "x" * 4001, "experts": ["medical", "regulatory"]}, "at most 4000 characters"),
        ({"question": QUESTION, "experts": ["medical", "astrologer"]}, "unknown expert"),
        (
            {"question": QUESTION, "experts": ["medical", "Medical", "MEDICAL", "regulatory"]},
            "at most 3 experts",
        ),
        (
            {"question": QUESTION, "experts": ["medical", "regulatory"], "mode": "automatic"},
            "autonomous-manual",
        ),
    ],
)
def test_invalid_panels_are_explained_inline(
    panel_client: TestClient, make_key, data: dict, explained: str
) -> None:
    sign_in(panel_client, make_key("acme", "analyst"))
    response = panel_client.post("/ui/agents/panel", data=data, headers=HTMX)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert 'class="problem' in response.text and 'role="alert"' in response.text
    assert explained in response.text and "Traceback" not in response.text
    assert "panel-consensus" not in response.text


def test_viewer_sees_the_panel_disabled_and_cannot_post(panel_client: TestClient, make_key) -> None:
    sign_in(panel_client, make_key("acme", "viewer"))
    page = panel_client.get("/agents").text
    form = page.split('id="panel-form"')[1].split("</form>")[0]
    assert form.count(" disabled") == 6  # question, three experts, mode, submit
    refused = panel_client.post("/ui/agents/panel", data=TWO_EXPERTS, headers=HTMX)
    assert refused.status_code == 403 and "needs the analyst role" in refused.text
    assert "panel-consensus" not in refused.text


def test_cross_site_panel_posts_are_refused(panel_client: TestClient, make_key) -> None:
    sign_in(panel_client, make_key("acme", "analyst"))
    bare = panel_client.post("/ui/agents/panel", data=TWO_EXPERTS)
    forged = panel_client.post(
        "/ui/agents/panel", data=TWO_EXPERTS, headers={"Origin": "https://evil.example"}
    )
    for response in (bare, forged):
        assert response.status_code == 403 and "Cross-site request refused" in response.text
        assert "panel-consensus" not in response.text
    same_origin = panel_client.post("/ui/agents/panel", data=TWO_EXPERTS, headers=SAME_ORIGIN)
    assert same_origin.status_code == 200 and "panel-consensus" in same_origin.text


def test_answer_shows_verdict_and_full_passages(panel_client: TestClient, make_key) -> None:
    sign_in(panel_client, make_key("acme", "analyst"))
    question = "Do preoperative statins reduce atrial fibrillation after coronary artery bypass grafting?"
    data = {"question": question, "mode": "manual", "expert": "clinical_research"}
    page = panel_client.post("/ui/agents/ask", data=data, headers=HTMX).text
    start = page.index('data-stream="') + len('data-stream="')
    body = panel_client.get(page[start : page.index('"', start)]).text
    answer = next(
        json.loads(block.split("data: ", 1)[1])
        for block in body.split("\n\n")
        if "\nevent: answer\n" in f"\n{block}\n"
    )
    html = answer["html"]
    assert '<details class="full-passages"><summary>Full passages (' in html
    assert "Verdict read from [" in html and "PubMedQA test accuracy" in html
    assert html.count("<p><strong>[") >= 3  # one paragraph per retrieved passage, whole
