"""Agents console: ask an expert, follow the answer as it streams (EventSource), read its citations;
or ask a panel of experts and read their answers side by side with the consensus and disagreements.

EventSource can only GET, and a GET must not change state on a cross-site request. So the question is
POSTed (htmx, CSRF-checked, analyst role), parked in the cache under an unguessable one-time ticket
bound to the asker, and the stream GET redeems the ticket. Events come from
`hygeia.agents.service.answer_stream`, the generator behind the API's SSE endpoint.

The panel is one plain htmx POST to `hygeia.agents.service.panel`, the use case behind
`POST /api/v1/agents/panel`: its value is the comparison, which exists only once every expert answered.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import structlog
from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from markupsafe import Markup, escape

from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.cache import cache_key, get_cache
from hygeia.core.errors import InputError, NotFound, ProblemError
from hygeia.web import session
from hygeia.web.pages.dermatology import triage_upload
from hygeia.web.render import ConsoleRoute, domain_state, load_domain, render, templates

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
log = structlog.get_logger("hygeia.web.agents")
MODES = (
    ("automatic", "Automatic: the question is routed to the best expert"),
    ("manual", "Manual: the expert you choose answers"),
    ("autonomous-automatic", "Autonomous, routed: the expert plans several tool calls"),
    ("autonomous-manual", "Autonomous, your expert: it plans several tool calls"),
)
PANEL_MODES = (
    ("manual", "Each expert answers with its own tools"),
    ("autonomous-manual", "Each expert plans several tool calls"),
)
TICKET_TTL = 300
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CITATION = re.compile(r"\[(\d{1,3})\]")


@router.get("/agents")
def agents_page(request: Request, principal: Principal = Depends(session.console_principal)) -> Response:
    service, reason = domain_state("agents")
    experts = service.experts() if service is not None else []
    context = {
        "active": "agents",
        "reason": reason,
        "experts": experts,
        "modes": MODES,
        "panel_modes": PANEL_MODES,
        **(_conversations(service, principal) if service is not None else {}),
    }
    return render(request, "pages/agents.html", context)


CONVERSATIONS_SHOWN = 50


def _conversations(service: Any, principal: Principal, notice: str = "") -> dict[str, Any]:
    """The tenant's newest conversations (the same use case as GET /api/v1/agents/conversations)."""
    listed = service.conversations(principal.tenant_id, CONVERSATIONS_SHOWN)
    own = sum(c["created_by"] == principal.subject for c in listed)
    return {"conversations": listed, "own": own, "notice": notice}


@router.get("/ui/agents/conversations")
def conversations_fragment(
    request: Request, principal: Principal = Depends(session.console_principal)
) -> Response:
    return render(
        request, "fragments/agent_conversations.html", _conversations(load_domain("agents"), principal)
    )


@router.post("/ui/agents/conversations/delete-own", dependencies=[Depends(session.same_origin)])
def delete_own_conversations(
    request: Request, principal: Principal = Depends(session.console_role("analyst"))
) -> Response:
    service = load_domain("agents")
    removed = service.delete_own_conversations(principal)  # audited by the use case
    notice = f"Deleted {removed['conversations']} conversation(s) with {removed['messages']} message(s)."
    return render(request, "fragments/agent_conversations.html", _conversations(service, principal, notice))


@router.post("/ui/agents/conversations/{conversation_id}/delete", dependencies=[Depends(session.same_origin)])
def delete_conversation(
    conversation_id: str, request: Request, principal: Principal = Depends(session.console_role("analyst"))
) -> Response:
    """As DELETE /api/v1/agents/conversations/{id}: its author or a tenant admin; refusals audited."""
    service = load_domain("agents")
    elsewhere = service.conversation_of_another_tenant
    with audit.probes_audited(
        request, "conversation of another tenant", elsewhere, conversation_id, principal.tenant_id
    ):
        removed = service.delete_conversation(principal, conversation_id)  # audited by the use case
    notice = f"Deleted the conversation and its {removed['messages']} message(s)."
    return render(request, "fragments/agent_conversations.html", _conversations(service, principal, notice))


def _ticket_key(ticket: str) -> str:
    return cache_key("web.agents.ticket", ticket)


@router.post("/ui/agents/ask", dependencies=[Depends(session.same_origin)])
def ask(
    request: Request,
    question: str = Form(..., max_length=4000),
    mode: str = Form("automatic", max_length=40),
    expert: str = Form("", max_length=100),
    conversation_id: str = Form("", max_length=64),
    lesion_image: UploadFile | None = File(None),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    schemas = load_domain("agents", "schemas")
    load_domain("agents")  # a missing or broken domain is a 503 now, not a broken stream later
    question = question.strip()
    if lesion_image is not None and lesion_image.filename:
        question += _attached_triage(principal, lesion_image)
    body = schemas.AskRequest(
        question=question, mode=mode, expert=expert or None, conversation_id=conversation_id or None
    )
    ticket = secrets.token_urlsafe(24)
    parked = {"tenant": principal.tenant_id, "subject": principal.subject, "body": body.model_dump()}
    get_cache().set_json(_ticket_key(ticket), parked, ttl=TICKET_TTL)
    return render(request, "fragments/agent_turn.html", {"question": body.question, "ticket": ticket})


def _attached_triage(principal: Principal, image: UploadFile) -> str:
    """Questions carry no images: an attached one is triaged first (recorded, audited, as on the
    dermatology page) and the question names its prediction id, which the dermatology tool reads."""
    _ready, result = triage_upload(principal, image, heatmaps=False)
    if result.status == "rejected":
        raise InputError(f"the attached image was not analysed: {result.rejection.reason}")
    if not result.prediction_id:
        raise InputError("the attached image could not be recorded as a prediction; ask again")
    return f"\n(attached lesion image: dermatology prediction {result.prediction_id})"


def _redeem(ticket: str, principal: Principal) -> dict[str, Any]:
    parked = get_cache().get_json(_ticket_key(ticket))
    if (
        not isinstance(parked, dict)
        or parked.get("used")
        or parked.get("tenant") != principal.tenant_id
        or parked.get("subject") != principal.subject
    ):
        raise NotFound("this answer stream has expired or was already used; ask again")
    get_cache().set_json(_ticket_key(ticket), {"used": True}, ttl=TICKET_TTL)
    return dict(parked["body"])


def _frame(kind: str, payload: dict[str, Any], number: int) -> str:
    return f"id: {number}\nevent: {kind}\ndata: {json.dumps(payload, default=str, separators=(',', ':'))}\n\n"


def _fragment(template: str, **context: Any) -> str:
    return templates.get_template(template).render(**context)


def cited_text(text: str, numbers: set[int], anchor: str = "src-") -> Markup:
    """Escape the answer, then turn [n] that name a real source into a link to it. `anchor` keeps the
    links of several answers on one page (a panel) pointing at their own source lists."""

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number not in numbers:
            return match.group(0)
        return f'<a href="#{anchor}{number}" class="cite">[{number}]</a>'

    return Markup(CITATION.sub(link, str(escape(text))))


def _event_html(kind: str, payload: dict[str, Any], can_rate: bool) -> dict[str, Any]:
    if kind == "meta":
        return {
            "conversation_id": payload.get("conversation_id"),
            "html": _fragment("fragments/agent_meta.html", m=payload),
        }
    if kind == "tool":
        return {"html": _fragment("fragments/agent_tool.html", t=payload)}
    if kind == "token":
        return {"text": str(payload.get("text", ""))}
    if kind == "answer":
        numbers = {int(s["number"]) for s in payload.get("sources", [])}
        text = cited_text(str(payload.get("answer", "")), numbers)
        html = _fragment("fragments/agent_answer.html", a=payload, text=text, can_rate=can_rate)
        return {"message_id": payload.get("message_id"), "html": html}
    return {}


def _problem_payload(status: int, title: str, detail: str) -> dict[str, Any]:
    problem = {"status": status, "title": title, "detail": detail, "errors": [], "unavailable": status == 503}
    return {"html": _fragment("fragments/problem.html", problem=problem)}


def _stream(principal: Principal, body: dict[str, Any]) -> Iterator[str]:
    number = 0
    can_rate = session.has_role(principal, "analyst")
    try:
        service = load_domain("agents")
        request_model = load_domain("agents", "schemas").AskRequest.model_validate(body)
        for kind, payload in service.answer_stream(principal, request_model):
            number += 1
            yield _frame(kind, _event_html(kind, payload, can_rate), number)
    except ProblemError as exc:
        number += 1
        yield _frame("error", _problem_payload(exc.status, exc.title, exc.detail), number)
    except Exception as exc:  # the stream is open: report in the page, never a traceback
        log.error("console_agent_stream_failed", error=type(exc).__name__, exc_info=exc)
        number += 1
        yield _frame("error", _problem_payload(500, "Internal server error", "the error was logged"), number)
    yield _frame("done", {}, number + 1)


@router.get("/ui/agents/stream/{ticket}")
def stream(ticket: str, principal: Principal = Depends(session.console_role("analyst"))) -> StreamingResponse:
    """A refused ticket is still a 200 stream with an `error` event, which EventSource can read."""
    try:
        events = _stream(principal, _redeem(ticket, principal))
    except ProblemError as exc:
        refused = _problem_payload(exc.status, exc.title, exc.detail)
        events = iter([_frame("error", refused, 1), _frame("done", {}, 2)])
    return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/ui/agents/messages/{message_id}/feedback", dependencies=[Depends(session.same_origin)])
def rate(
    message_id: str,
    request: Request,
    rating: int = Form(..., ge=-1, le=1),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    service = load_domain("agents")
    schemas = load_domain("agents", "schemas")
    service.feedback(principal, message_id, schemas.FeedbackRequest(rating=rating))
    word = "helpful" if rating > 0 else "not helpful"
    return render(request, "fragments/notice.html", {"notice": f"Thanks: recorded as {word}."})


@router.post("/ui/agents/panel", dependencies=[Depends(session.same_origin)])
def ask_panel(
    request: Request,
    question: str = Form("", max_length=4000),
    experts: list[str] = Form([]),
    mode: str = Form("manual", max_length=40),
    principal: Principal = Depends(session.console_role("analyst")),
) -> Response:
    """The service treats "no experts" as "all experts"; here an unticked box must not mean ticked,
    so the console insists on the two experts a comparison needs before asking. Each name costs a
    full answer, so a posted list longer than the roster is refused rather than run."""
    service = load_domain("agents")
    schemas = load_domain("agents", "schemas")
    if not question.strip():
        raise InputError("write the question the panel should answer")
    chosen = list(dict.fromkeys(name for name in experts if name.strip()))
    if len(chosen) < 2:
        raise InputError("tick at least two experts: a panel compares their answers")
    roster = len(service.experts())
    if len(chosen) > roster:
        raise InputError(f"a panel has at most {roster} experts, each named once")
    body = schemas.PanelRequest(question=question.strip(), experts=chosen, mode=mode)
    return render(request, "fragments/agent_panel.html", _panel_context(service.panel(principal, body)))


def _panel_context(panel: dict[str, Any]) -> dict[str, Any]:
    """Each answer's citations link to its own source list (ids are unique per message), and the
    disagreements name experts by the titles the answers show."""
    texts = {
        answer["message_id"]: cited_text(
            str(answer["answer"]),
            {int(source["number"]) for source in answer["sources"]},
            _source_anchor(answer["message_id"]),
        )
        for answer in panel["answers"]
    }
    titles = {answer["expert"]["name"]: answer["expert"]["title"] for answer in panel["answers"]}
    return {"panel": panel, "texts": texts, "titles": titles, "source_anchor": _source_anchor}


def _source_anchor(message_id: str) -> str:
    return f"panel-{message_id}-src-"
