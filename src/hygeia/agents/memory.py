"""Conversation memory in the database, always through a tenant-bound session.

Every lookup by id also re-checks the tenant explicitly, so another tenant's id is a plain 404 and
never reveals that the conversation exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from hygeia.agents.tables import Conversation, Feedback, Message, ToolCall
from hygeia.agents.toolbox import ToolOutcome, stored_output
from hygeia.core.auth import ROLE_RANK, Forbidden, Principal
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.errors import NotFound
from hygeia.core.llm import ChatMessage

REMOVED = ("conversations", "messages", "tool_calls", "feedback")  # what deleting a conversation removes
HISTORY_CHARS = 1200  # an earlier answer is cut here when replayed to the model


def open_conversation(principal: Principal, conversation_id: str | None, question: str) -> str:
    """The caller's conversation, or a new one titled after its first question."""
    with tenant_session(principal.tenant_id) as session:
        if conversation_id:
            _owned(session, Conversation, conversation_id, principal.tenant_id, "conversation")
            return conversation_id
        conversation = Conversation(title=question.strip()[:200] or "untitled", created_by=principal.subject)
        session.add(conversation)
        session.flush()
        return conversation.id


def _owned(session: Any, table: Any, row_id: str, tenant_id: str, noun: str) -> Any:
    row = session.scalars(select(table).where(table.id == row_id)).first()
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no {noun} {row_id!r} for this tenant")
    return row


def history(tenant_id: str, conversation_id: str, turns: int) -> list[ChatMessage]:
    """The last `turns` user/assistant messages, oldest first, as chat messages."""
    if turns <= 0:
        return []
    with tenant_session(tenant_id) as session:
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.role.in_(("user", "assistant")))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(turns)
        ).all()
    return [{"role": m.role, "content": m.content[:HISTORY_CHARS]} for m in reversed(rows)]


def add_user_message(tenant_id: str, conversation_id: str, text: str) -> str:
    with tenant_session(tenant_id) as session:
        message = Message(conversation_id=conversation_id, role="user", content=text)
        session.add(message)
        conversation = _owned(session, Conversation, conversation_id, tenant_id, "conversation")
        conversation.updated_at = utcnow()
        session.flush()
        return message.id


def store_answer(tenant_id: str, answer: dict[str, Any], outcomes: list[ToolOutcome], role: str) -> str:
    """One assistant (or panel) message and its tool calls, in one transaction."""
    with tenant_session(tenant_id) as session:
        message = Message(
            conversation_id=answer["conversation_id"],
            role=role,
            content=answer["answer"],
            expert=answer.get("expert", {}).get("name"),
            mode=answer.get("mode"),
            routing=answer.get("routing"),
            sources=answer.get("sources"),
            confidence=answer.get("confidence", {}).get("value"),
            confidence_detail=answer.get("confidence"),
            generation=answer.get("generation"),
            model=answer.get("model"),
            prompt_tokens=answer.get("usage", {}).get("prompt_tokens", 0),
            completion_tokens=answer.get("usage", {}).get("completion_tokens", 0),
            latency_ms=answer.get("latency_ms"),
            detail={k: answer[k] for k in ("notes", "planner", "label", "consensus") if k in answer},
        )
        session.add(message)
        session.flush()
        for outcome in outcomes:
            session.add(_tool_call(message.id, outcome))
        return message.id


def _tool_call(message_id: str, outcome: ToolOutcome) -> ToolCall:
    return ToolCall(
        id=outcome.record_id,
        message_id=message_id,
        step=outcome.step,
        tool=outcome.tool,
        status=outcome.status,
        inputs=outcome.inputs,
        output=stored_output(outcome.output),
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        reason=outcome.reason[:500] or None,
    )


def list_conversations(tenant_id: str, limit: int) -> list[dict[str, Any]]:
    with tenant_session(tenant_id) as session:
        counts = (
            select(Message.conversation_id, func.count(Message.id).label("n"))
            .group_by(Message.conversation_id)
            .subquery()
        )
        rows = session.execute(
            select(Conversation, counts.c.n)
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .order_by(Conversation.updated_at.desc())
            .limit(limit)
        ).all()
        return [{**_conversation_dict(c), "messages": int(n or 0)} for c, n in rows]


def _conversation_dict(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_by": conversation.created_by,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


def get_conversation(tenant_id: str, conversation_id: str) -> dict[str, Any]:
    """The conversation with every message, each answer's tool calls and feedback."""
    with tenant_session(tenant_id) as session:
        conversation = _owned(session, Conversation, conversation_id, tenant_id, "conversation")
        messages = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
        ).all()
        ids = [m.id for m in messages]
        calls = session.scalars(
            select(ToolCall).where(ToolCall.message_id.in_(ids)).order_by(ToolCall.step)
        ).all()
        feedback = session.scalars(select(Feedback).where(Feedback.message_id.in_(ids))).all()
        return {
            **_conversation_dict(conversation),
            "messages": [_message_dict(m, calls, feedback) for m in messages],
        }


def _message_dict(message: Message, calls: Any, feedback: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at,
        "expert": message.expert,
        "mode": message.mode,
        "routing": message.routing,
        "sources": message.sources or [],
        "confidence": message.confidence_detail,
        "generation": message.generation,
        "model": message.model,
        "usage": {"prompt_tokens": message.prompt_tokens, "completion_tokens": message.completion_tokens},
        "latency_ms": message.latency_ms,
        "detail": message.detail or {},
        "tool_calls": [_call_dict(c) for c in calls if c.message_id == message.id],
        "feedback": [
            {"id": f.id, "rating": f.rating, "comment": f.comment, "created_at": f.created_at}
            for f in feedback
            if f.message_id == message.id
        ],
    }


def _call_dict(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "step": call.step,
        "tool": call.tool,
        "status": call.status,
        "inputs": call.inputs,
        "output": call.output,
        "error": call.error,
        "duration_ms": call.duration_ms,
        "reason": call.reason,
    }


def add_feedback(principal: Principal, message_id: str, rating: int, comment: str | None) -> dict[str, Any]:
    with tenant_session(principal.tenant_id) as session:
        message = _owned(session, Message, message_id, principal.tenant_id, "message")
        if message.role == "user":
            raise NotFound(f"message {message_id!r} is a question; feedback is for answers")
        feedback = Feedback(
            message_id=message_id, rating=rating, comment=comment, created_by=principal.subject
        )
        session.add(feedback)
        session.flush()
        return {
            "id": feedback.id,
            "message_id": message_id,
            "rating": rating,
            "comment": comment,
            "created_at": feedback.created_at,
        }


def delete_conversation(principal: Principal, conversation_id: str) -> dict[str, int]:
    """Remove a conversation with every message, tool call and feedback row it holds (the memory that
    recall and history read), in one transaction. Its asker or a tenant admin may; others get 403.

    Rows are deleted explicitly rather than by ON DELETE CASCADE, which SQLite applies only with
    foreign keys switched on."""
    with tenant_session(principal.tenant_id) as session:
        conversation = _owned(session, Conversation, conversation_id, principal.tenant_id, "conversation")
        if conversation.created_by != principal.subject and ROLE_RANK[principal.role] < ROLE_RANK["admin"]:
            raise Forbidden("only the conversation's author or a tenant admin may delete it")
        return _delete_rows(session, principal.tenant_id, [conversation_id])


def delete_own_conversations(principal: Principal) -> dict[str, int]:
    """Every conversation the caller started in this tenant ("forget what I asked")."""
    with tenant_session(principal.tenant_id) as session:
        ids = list(
            session.scalars(select(Conversation.id).where(Conversation.created_by == principal.subject))
        )
        return _delete_rows(session, principal.tenant_id, ids)


def purge_conversations(tenant_id: str, cutoff: datetime) -> int:
    """Retention: conversations untouched since `cutoff` (core.retention's `conversations` kind)."""
    with tenant_session(tenant_id) as session:
        ids = list(session.scalars(select(Conversation.id).where(Conversation.updated_at < cutoff)))
        return _delete_rows(session, tenant_id, ids)["conversations"]


def _delete_rows(session: Any, tenant_id: str, conversation_ids: list[str]) -> dict[str, int]:
    if not conversation_ids:
        return dict.fromkeys(REMOVED, 0)
    messages = select(Message.id).where(
        Message.tenant_id == tenant_id, Message.conversation_id.in_(conversation_ids)
    )
    counts = {}
    for name, table in (("feedback", Feedback), ("tool_calls", ToolCall)):
        statement = delete(table).where(table.tenant_id == tenant_id, table.message_id.in_(messages))
        counts[name] = _rowcount(session.execute(statement))
    counts["messages"] = _rowcount(
        session.execute(
            delete(Message).where(
                Message.tenant_id == tenant_id, Message.conversation_id.in_(conversation_ids)
            )
        )
    )
    counts["conversations"] = _rowcount(
        session.execute(
            delete(Conversation).where(
                Conversation.tenant_id == tenant_id, Conversation.id.in_(conversation_ids)
            )
        )
    )
    return {kind: counts[kind] for kind in REMOVED}  # parents first, as a reader expects them


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def belongs_to_another_tenant(conversation_id: str, tenant_id: str) -> bool:
    """For the audit trail: was a 404 someone probing another tenant's existing conversation?"""
    with system_session() as session:
        owner = session.scalar(select(Conversation.tenant_id).where(Conversation.id == conversation_id))
    return owner is not None and owner != tenant_id
