"""Deleting conversations: the conversation with every message, tool call and feedback row goes, only
within the caller's tenant, only by its author or a tenant admin, and every deletion is audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import auth_header

QUESTION = "Does metformin lower mortality in diabetes?"


def _converse(client, headers) -> tuple[str, str]:
    """A conversation of two turns with feedback on the first answer: (conversation id, message id)."""
    body = {"question": QUESTION, "mode": "manual", "expert": "clinical_research"}
    first = client.post("/api/v1/agents/ask", json=body, headers=headers).json()
    conversation_id = first["conversation_id"]
    follow = {**body, "question": "What about its effect on weight?", "conversation_id": conversation_id}
    assert client.post("/api/v1/agents/ask", json=follow, headers=headers).status_code == 200
    rated = client.post(
        f"/api/v1/agents/messages/{first['message_id']}/feedback", json={"rating": 1}, headers=headers
    )
    assert rated.status_code == 201
    return conversation_id, first["message_id"]


def _rows(tenant_id: str, conversation_id: str) -> dict[str, int]:
    from hygeia.agents.tables import Feedback, Message, ToolCall
    from hygeia.core.db import system_session

    with system_session() as session:
        messages = select(Message.id).where(Message.conversation_id == conversation_id)
        return {
            "messages": session.scalar(select(func.count()).select_from(messages.subquery())) or 0,
            "tool_calls": session.scalar(
                select(func.count(ToolCall.id)).where(ToolCall.message_id.in_(messages))
            )
            or 0,
            "feedback": session.scalar(
                select(func.count(Feedback.id)).where(Feedback.message_id.in_(messages))
            )
            or 0,
        }


def _actions(tenant_id: str) -> list[tuple[str, dict]]:
    from hygeia.core.audit import list_events

    return [(e.action, e.detail or {}) for e in list_events(tenant_id, limit=200)]


def test_the_author_deletes_a_conversation_with_all_its_memory(agents_client, make_key):
    author = auth_header(make_key("hospital-a", "analyst"))
    conversation_id, _ = _converse(agents_client, author)
    assert _rows("hospital-a", conversation_id) == {"messages": 4, "tool_calls": 2, "feedback": 1}

    deleted = agents_client.delete(f"/api/v1/agents/conversations/{conversation_id}", headers=author)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"conversations": 1, "messages": 4, "tool_calls": 2, "feedback": 1}
    assert _rows("hospital-a", conversation_id) == {"messages": 0, "tool_calls": 0, "feedback": 0}
    assert (
        agents_client.get(f"/api/v1/agents/conversations/{conversation_id}", headers=author).status_code
        == 404
    )
    listed = agents_client.get("/api/v1/agents/conversations", headers=author).json()
    assert conversation_id not in {c["id"] for c in listed}
    again = agents_client.delete(f"/api/v1/agents/conversations/{conversation_id}", headers=author)
    assert again.status_code == 404 and again.headers["content-type"].startswith("application/problem+json")
    audited = [d for a, d in _actions("hospital-a") if a == "conversation.delete"]
    assert audited == [{"conversation_id": conversation_id, "conversations": 1, "messages": 4,
                        "tool_calls": 2, "feedback": 1}]  # fmt: skip


def test_another_tenant_cannot_delete_or_learn_of_a_conversation(agents_client, make_key):
    owner = auth_header(make_key("hospital-a", "analyst"))
    intruder = auth_header(make_key("hospital-b", "admin"))
    conversation_id, _ = _converse(agents_client, owner)

    refused = agents_client.delete(f"/api/v1/agents/conversations/{conversation_id}", headers=intruder)
    assert refused.status_code == 404  # exactly what an id that never existed gets
    assert refused.json()["detail"] == f"no conversation {conversation_id!r} for this tenant"
    assert _rows("hospital-a", conversation_id)["messages"] == 4
    denied = [d for a, d in _actions("hospital-b") if a == "denied:404"]
    assert denied and denied[-1]["reason"] == "conversation of another tenant"
    # "forget my conversations" in tenant B touches nothing of tenant A
    mine = agents_client.delete("/api/v1/agents/conversations", headers=intruder)
    assert mine.status_code == 200 and mine.json()["conversations"] == 0
    assert _rows("hospital-a", conversation_id)["messages"] == 4


def test_only_the_author_or_a_tenant_admin_may_delete(agents_client, make_key):
    author = auth_header(make_key("hospital-a", "analyst"))
    colleague = auth_header(make_key("hospital-a", "analyst"))
    viewer = auth_header(make_key("hospital-a", "viewer"))
    admin = auth_header(make_key("hospital-a", "admin"))
    conversation_id, _ = _converse(agents_client, author)
    url = f"/api/v1/agents/conversations/{conversation_id}"

    assert agents_client.delete(url, headers=viewer).status_code == 403
    forbidden = agents_client.delete(url, headers=colleague)
    assert forbidden.status_code == 403 and "author or a tenant admin" in forbidden.json()["detail"]
    assert _rows("hospital-a", conversation_id)["messages"] == 4
    assert agents_client.delete(url, headers=admin).status_code == 200


def test_forgetting_my_conversations_leaves_colleagues_ones(agents_client, make_key):
    me = auth_header(make_key("hospital-a", "analyst"))
    colleague = auth_header(make_key("hospital-a", "analyst"))
    mine, _ = _converse(agents_client, me)
    theirs, _ = _converse(agents_client, colleague)

    removed = agents_client.delete("/api/v1/agents/conversations", headers=me)
    assert removed.json() == {"conversations": 1, "messages": 4, "tool_calls": 2, "feedback": 1}
    assert _rows("hospital-a", mine)["messages"] == 0 and _rows("hospital-a", theirs)["messages"] == 4
    assert [a for a, _ in _actions("hospital-a") if a == "conversation.delete_own"] == [
        "conversation.delete_own"
    ]


def test_retention_purges_conversations_untouched_since_the_cutoff(agents_client, make_key):
    from hygeia.agents.memory import purge_conversations
    from hygeia.core.db import utcnow

    headers = auth_header(make_key("hospital-a", "analyst"))
    conversation_id, _ = _converse(agents_client, headers)
    assert purge_conversations("hospital-a", utcnow() - timedelta(days=1)) == 0
    assert purge_conversations("hospital-b", utcnow() + timedelta(days=1)) == 0  # another tenant's purge
    assert _rows("hospital-a", conversation_id)["messages"] == 4
    assert purge_conversations("hospital-a", utcnow() + timedelta(days=1)) == 1
    assert _rows("hospital-a", conversation_id) == {"messages": 0, "tool_calls": 0, "feedback": 0}
