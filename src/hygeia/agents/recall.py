"""Recalling earlier turns of a conversation by meaning, not only the last N.

The question is compared (MiniLM cosine) with every earlier user question of the conversation that is
older than the replayed history; the closest, above a similarity floor, come back with the answer that
followed them, so "what did you say about warfarin and bleeding?" finds a turn from long ago.
"""

from __future__ import annotations

from sqlalchemy import select

from hygeia.agents.encoder import get_encoder
from hygeia.agents.memory import HISTORY_CHARS
from hygeia.agents.tables import Message
from hygeia.core.db import tenant_session
from hygeia.core.llm import ChatMessage

MIN_SIMILARITY = 0.5
RECALLED = 2


def _turns(tenant_id: str, conversation_id: str) -> list[Message]:
    with tenant_session(tenant_id) as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.role.in_(("user", "assistant")))
                .order_by(Message.created_at, Message.id)
            ).all()
        )


def recall(
    tenant_id: str, conversation_id: str, question: str, recent: int
) -> tuple[list[ChatMessage], list[str]]:
    """(earlier question/answer pairs most similar to the question, notes naming them), oldest first."""
    encoder = get_encoder()
    turns = _turns(tenant_id, conversation_id)
    older = turns[: max(0, len(turns) - recent)]
    asked = [
        (i, m) for i, m in enumerate(older) if m.role == "user" and m.content.strip() != question.strip()
    ]
    if encoder is None or not asked:
        return [], []
    vectors = encoder.encode([question, *(m.content for _, m in asked)])
    scores = vectors[1:] @ vectors[0]
    best = sorted(range(len(asked)), key=lambda j: -scores[j])[:RECALLED]
    chosen = sorted(j for j in best if scores[j] >= MIN_SIMILARITY)
    messages: list[ChatMessage] = []
    notes = []
    for j in chosen:
        index, message = asked[j]
        messages.append({"role": "user", "content": message.content[:HISTORY_CHARS]})
        reply = older[index + 1] if index + 1 < len(older) and older[index + 1].role == "assistant" else None
        if reply is not None:
            messages.append({"role": "assistant", "content": reply.content[:HISTORY_CHARS]})
        notes.append(
            f"recalled an earlier turn by meaning (cosine {scores[j]:.2f}): {message.content[:80]!r}"
        )
    return messages, notes
