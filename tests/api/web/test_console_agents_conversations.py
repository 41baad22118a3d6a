"""The console's conversation list with delete buttons: the tenant's conversations only, a button
where the API would allow the deletion, every deletion and refusal audited, cross-site posts refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hygeia.core import audit
from tests.api.web.helpers import HTMX, sign_in
from tests.conftest import auth_header

pytest.importorskip("hygeia.agents.service", reason="the agents domain is not in this build")


@pytest.fixture
def console(agents_console: TestClient) -> TestClient:
    return agents_console


def _converse(client: TestClient, key: str, question: str) -> str:
    body = {"question": question, "mode": "manual", "expert": "clinical_research"}
    answer = client.post("/api/v1/agents/ask", json=body, headers=auth_header(key))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["conversation_id"])


def _listed(client: TestClient, key: str) -> set[str]:
    rows = client.get("/api/v1/agents/conversations", headers=auth_header(key)).json()
    return {row["id"] for row in rows}


def test_the_list_shows_this_tenants_conversations_with_buttons_only_where_allowed(console, make_key):
    me, colleague, outsider = (
        make_key("acme", "analyst"),
        make_key("acme", "analyst"),
        make_key("globex", "admin"),
    )
    mine = _converse(console, me, "Does metformin lower mortality in diabetes?")
    theirs = _converse(console, colleague, "Is aspirin useful after a stroke?")
    foreign = _converse(console, outsider, "Do statins cause myopathy?")
    sign_in(console, me)

    page = console.get("/agents").text

    assert f'id="conversation-{mine}"' in page and f'id="conversation-{theirs}"' in page
    assert foreign not in page and "statins cause myopathy" not in page
    assert f'hx-post="/ui/agents/conversations/{mine}/delete"' in page
    assert f"/ui/agents/conversations/{theirs}/delete" not in page
    assert "Delete all my conversations (1)" in page


def test_deleting_from_the_console_removes_the_conversation_and_is_audited(console, make_key):
    me = make_key("acme", "analyst")
    kept = _converse(console, me, "Is aspirin useful after a stroke?")
    gone = _converse(console, me, "Does metformin lower mortality in diabetes?")
    sign_in(console, me)

    response = console.post(f"/ui/agents/conversations/{gone}/delete", headers=HTMX)

    assert response.status_code == 200, response.text
    assert "Deleted the conversation and its 2 message(s)." in response.text
    assert f'id="conversation-{gone}"' not in response.text and f'id="conversation-{kept}"' in response.text
    assert _listed(console, me) == {kept}
    [event] = audit.list_events("acme", action="conversation.delete")
    assert event.detail["conversation_id"] == gone and event.detail["messages"] == 2


def test_a_colleagues_or_another_tenants_conversation_is_refused_and_audited(console, make_key):
    me, colleague, outsider = (
        make_key("acme", "analyst"),
        make_key("acme", "analyst"),
        make_key("globex", "admin"),
    )
    theirs = _converse(console, colleague, "Is aspirin useful after a stroke?")
    foreign = _converse(console, outsider, "Do statins cause myopathy?")
    sign_in(console, me)

    refused = console.post(f"/ui/agents/conversations/{theirs}/delete", headers=HTMX)
    hidden = console.post(f"/ui/agents/conversations/{foreign}/delete", headers=HTMX)

    assert refused.status_code == 403 and "author or a tenant admin" in refused.text
    assert hidden.status_code == 404 and "Traceback" not in hidden.text
    assert _listed(console, colleague) == {theirs} and _listed(console, outsider) == {foreign}
    events = [event for event in audit.list_events("acme") if event.action.startswith("denied")]
    assert sorted(event.action for event in events) == ["denied:403", "denied:404"]  # each once
    denied = {event.action: event.detail for event in events}
    assert denied["denied:403"]["route"] == "/ui/agents/conversations/{conversation_id}/delete"
    assert denied["denied:404"]["reason"] == "conversation of another tenant"


def test_a_tenant_admin_may_delete_any_conversation_of_the_tenant(console, make_key):
    analyst, admin = make_key("acme", "analyst"), make_key("acme", "admin")
    theirs = _converse(console, analyst, "Is aspirin useful after a stroke?")
    sign_in(console, admin)
    assert f'hx-post="/ui/agents/conversations/{theirs}/delete"' in console.get("/agents").text
    assert console.post(f"/ui/agents/conversations/{theirs}/delete", headers=HTMX).status_code == 200
    assert _listed(console, analyst) == set()


def test_delete_all_mine_spares_colleagues(console, make_key):
    me, colleague = make_key("acme", "analyst"), make_key("acme", "analyst")
    for question in ("Is aspirin useful after a stroke?", "Does metformin lower mortality in diabetes?"):
        _converse(console, me, question)
    theirs = _converse(console, colleague, "Do statins cause myopathy?")
    sign_in(console, me)

    response = console.post("/ui/agents/conversations/delete-own", headers=HTMX)

    assert response.status_code == 200 and "Deleted 2 conversation(s) with 4 message(s)." in response.text
    assert _listed(console, me) == {theirs}
    [event] = audit.list_events("acme", action="conversation.delete_own")
    assert event.detail["conversations"] == 2


def test_viewers_get_no_button_and_cross_site_posts_are_refused(console, make_key):
    analyst, viewer = make_key("acme", "analyst"), make_key("acme", "viewer")
    theirs = _converse(console, analyst, "Is aspirin useful after a stroke?")
    sign_in(console, viewer)
    page = console.get("/agents").text
    assert f'id="conversation-{theirs}"' in page and "/delete" not in page.split('id="conversations"')[1]
    assert console.post(f"/ui/agents/conversations/{theirs}/delete", headers=HTMX).status_code == 403

    sign_in(console, analyst)
    forged = console.post(
        f"/ui/agents/conversations/{theirs}/delete", headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert _listed(console, analyst) == {theirs}


def test_every_question_is_audited_with_its_hash_not_its_text(console, make_key):
    import hashlib

    key = make_key("acme", "analyst")
    question = "Does metformin lower mortality in diabetes?"
    conversation_id = _converse(console, key, question)
    [event] = audit.list_events("acme", action="agents.ask")
    assert event.input_sha256 == hashlib.sha256(question.encode()).hexdigest()
    assert event.detail == {"mode": "manual", "expert": "clinical_research"}
    assert question not in str(event.detail) and conversation_id
    assert audit.list_events("globex", action="agents.ask") == []
