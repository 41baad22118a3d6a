"""Thin HTTP layer over `hygeia.agents.service`; the SSE stream carries the same events as the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from hygeia.agents import service
from hygeia.agents.engine import Event
from hygeia.agents.schemas import (
    AnswerOut,
    AskRequest,
    ConversationDetail,
    ConversationOut,
    DeletedOut,
    ExpertOut,
    FeedbackOut,
    FeedbackRequest,
    PanelOut,
    PanelRequest,
)
from hygeia.core import audit
from hygeia.core.auth import Analyst, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES, ProblemError

router = APIRouter(prefix="/api/v1/agents", tags=["agents"], responses=PROBLEM_RESPONSES)
log = structlog.get_logger("hygeia.agents.routes")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("/experts", response_model=list[ExpertOut], summary="The experts and the tools each may call")
def experts(_: Viewer) -> Any:
    return service.experts()


@router.post("/ask", response_model=AnswerOut, summary="Ask an expert (modes 1-4); cited, with confidence")
def ask(body: AskRequest, principal: Analyst) -> Any:
    return service.answer(principal, body)


@router.post(
    "/ask/stream",
    summary="Ask, streamed as server-sent events: meta, tool, token, answer, done (or error)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def ask_stream(body: AskRequest, principal: Analyst) -> StreamingResponse:
    events = service.answer_stream(principal, body)
    return StreamingResponse(sse(events), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post(
    "/panel", response_model=PanelOut, summary="Several experts answer; consensus with disagreements"
)
def panel(body: PanelRequest, principal: Analyst) -> Any:
    return service.panel(principal, body)


@router.post(
    "/panel/stream",
    summary="Panel streamed as server-sent events: each expert's meta, tool, token and answer (with "
    "`panelist`), then panel (answers and consensus), then done",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def panel_stream(body: PanelRequest, principal: Analyst) -> StreamingResponse:
    events = service.panel_stream(principal, body)
    return StreamingResponse(sse(events), media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/conversations", response_model=list[ConversationOut], summary="This tenant's conversations")
def conversations(principal: Viewer, limit: int = Query(50, ge=1, le=500)) -> Any:
    return service.conversations(principal.tenant_id, limit)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def conversation(conversation_id: str, principal: Viewer) -> Any:
    return service.conversation(principal.tenant_id, conversation_id)


@router.delete(
    "/conversations",
    response_model=DeletedOut,
    summary="Delete every conversation the caller started in this tenant, with all their messages",
)
def delete_own_conversations(principal: Analyst) -> Any:
    return service.delete_own_conversations(principal)


@router.delete(
    "/conversations/{conversation_id}",
    response_model=DeletedOut,
    summary="Delete a conversation with its messages, tool calls and feedback (its author or a tenant admin)",
)
def delete_conversation(conversation_id: str, request: Request, principal: Analyst) -> Any:
    elsewhere = service.conversation_of_another_tenant
    with audit.probes_audited(
        request, "conversation of another tenant", elsewhere, conversation_id, principal.tenant_id
    ):
        return service.delete_conversation(principal, conversation_id)


@router.post("/messages/{message_id}/feedback", response_model=FeedbackOut, status_code=201)
def feedback(message_id: str, body: FeedbackRequest, principal: Analyst) -> Any:
    return service.feedback(principal, message_id, body)


def sse(events: Iterator[Event]) -> Iterator[str]:
    """`event:`/`id:`/`data:` frames; a failure after the 200 becomes an `error` event, then `done`."""
    number = 0
    try:
        for kind, payload in events:
            number += 1
            yield frame(kind, payload, number)
    except ProblemError as exc:
        number += 1
        yield frame("error", {"status": exc.status, "title": exc.title, "detail": exc.detail}, number)
    except Exception as exc:  # the stream is already open: report, never leave the client hanging
        log.error("agents_stream_failed", error=type(exc).__name__, exc_info=exc)
        number += 1
        yield frame("error", {"status": 500, "title": "Internal server error"}, number)
    yield frame("done", {}, number + 1)


def frame(kind: str, payload: dict[str, Any], number: int) -> str:
    data = json.dumps(payload, default=str, separators=(",", ":"))
    return f"id: {number}\nevent: {kind}\ndata: {data}\n\n"
