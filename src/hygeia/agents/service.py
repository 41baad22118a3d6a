"""The agents' use cases for the API, the CLI and the console (no FastAPI in here).

Importing this module registers the `agents` capability check, as every domain's service does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hygeia.agents import assays, drugs, memory, side_effects, signal_lookup
from hygeia.agents.engine import Event, Question, answer_events, ask, resolve
from hygeia.agents.experts import EXPERTS
from hygeia.agents.panel import panel_events, plan_panel, run_panel
from hygeia.agents.schemas import AskRequest, FeedbackRequest, PanelRequest
from hygeia.agents.toolbox import ensure_domain_tools
from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.llm import LLMError, OpenAICompatibleClient, get_chat_model
from hygeia.core.retention import register_purger
from hygeia.core.tools import register_capability
from hygeia.settings import get_agent_settings, get_llm_settings


def experts() -> list[dict[str, Any]]:
    """Each expert with the registered tools it may call right now."""
    ensure_domain_tools()
    settings = get_agent_settings()
    return [
        {
            "name": e.name,
            "title": e.title,
            "description": e.description,
            "tool_patterns": [*e.tool_patterns, *settings.patterns_for(e.name)],
            "available_tools": [t.name for t in e.allowed_tools(settings.patterns_for(e.name))],
            "example_questions": list(e.example_questions),
        }
        for e in EXPERTS.values()
    ]


def _question(body: AskRequest) -> Question:
    return resolve(Question(body.question, body.mode, body.expert, body.conversation_id))


def _audit_question(principal: Principal, question: str, **detail: Any) -> None:
    """Every question is audited (who, how, which conversation); the text only as its sha256."""
    audit.record(principal, "agents.ask", payload=question, detail=detail)


def answer(principal: Principal, body: AskRequest) -> dict[str, Any]:
    question = _question(body)
    _audit_question(principal, question.text, mode=question.mode, expert=question.expert)
    return ask(principal, question)


def answer_stream(principal: Principal, body: AskRequest) -> Iterator[Event]:
    """Validated (and the conversation opened) before the first event, so a bad request or another
    tenant's conversation id is a 4xx response, not a stream that breaks after its 200."""
    question = _question(body)
    conversation_id = memory.open_conversation(principal, question.conversation_id, question.text)
    _audit_question(
        principal, question.text, mode=question.mode, expert=question.expert, conversation_id=conversation_id
    )
    return answer_events(principal, replace(question, conversation_id=conversation_id))


def panel(principal: Principal, body: PanelRequest) -> dict[str, Any]:
    _audit_question(principal, body.question, mode=body.mode, panel=list(body.experts or []))
    return run_panel(principal, body.question, body.experts, body.mode, body.conversation_id)


def panel_stream(principal: Principal, body: PanelRequest) -> Iterator[Event]:
    """Validated before the first event (a bad panel is a 4xx), then each expert's events, then the panel."""
    plan = plan_panel(principal, body.question, body.experts, body.mode, body.conversation_id)
    _audit_question(principal, body.question, mode=body.mode, panel=list(body.experts or []))
    return panel_events(principal, plan)


def conversations(tenant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    return memory.list_conversations(tenant_id, min(max(limit, 1), 500))


def conversation(tenant_id: str, conversation_id: str) -> dict[str, Any]:
    return memory.get_conversation(tenant_id, conversation_id)


def delete_conversation(principal: Principal, conversation_id: str) -> dict[str, int]:
    """The conversation and all its memory; audited with what was removed (never the content)."""
    removed = memory.delete_conversation(principal, conversation_id)
    audit.record(principal, "conversation.delete", detail={"conversation_id": conversation_id, **removed})
    return removed


def delete_own_conversations(principal: Principal) -> dict[str, int]:
    removed = memory.delete_own_conversations(principal)
    audit.record(principal, "conversation.delete_own", detail=removed)
    return removed


def conversation_of_another_tenant(conversation_id: str, tenant_id: str) -> bool:
    return memory.belongs_to_another_tenant(conversation_id, tenant_id)


def feedback(principal: Principal, message_id: str, body: FeedbackRequest) -> dict[str, Any]:
    return memory.add_feedback(principal, message_id, body.rating, body.comment)


def unavailable_reason() -> str | None:
    """Extractive answers always work; only a configured-but-broken language model is reported."""
    settings = get_llm_settings()
    if settings.backend == "none":
        return None
    if settings.backend == "local":
        from hygeia.core.llm_local import local_unavailable_reason

        return local_unavailable_reason(settings)
    try:
        model = get_chat_model()
    except LLMError as exc:
        return f"language model not configured: {exc}; answers fall back to extractive"
    if isinstance(model, OpenAICompatibleClient) and model.breaker.state == "open":
        return "language model circuit is open after repeated failures; answers are extractive meanwhile"
    return None


def register() -> None:
    """The agents' capability check and their own tools, registered once by the composition root."""
    register_capability("agents", unavailable_reason)
    register_purger("conversations", memory.purge_conversations)  # retention of conversations (#17)
    drugs.register()  # agents.toxicity_by_name: a drug name reaches the toxicity model through core.tools
    assays.register()  # agents.tox21_assay: a named assay target, answered from Tox21 or the model
    signal_lookup.register()  # agents.signal_lookup: drug-event statistics from the bundled reference table
    side_effects.register()  # agents.side_effects: labelled side effects (SIDER via Hetionet CcSE)
