"""One answer, as a stream of events: meta → tool (per call) → token (per delta) → answer.

The JSON endpoint, the SSE endpoint, the panel and the CLI all consume this same generator, so a
streamed answer and a plain one can never differ in sources, tools or confidence.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from hygeia.agents import drift, memory
from hygeia.agents.comparison import across_drugs
from hygeia.agents.compose import (
    NO_LLM_LABEL,
    Source,
    answer_messages,
    collect_sources,
    extractive_answer,
    failure_lines,
    grounding,
    tool_verdicts,
    with_citations,
)
from hygeia.agents.confidence import EvidenceView, view_evidence
from hygeia.agents.experts import Expert, get_expert
from hygeia.agents.extract import is_yes_no
from hygeia.agents.planner import PER_DRUG, ChainResult, initial_context, planned_chain, retrieval_chain
from hygeia.agents.recall import recall
from hygeia.agents.router import route
from hygeia.agents.toolbox import caller_of, ensure_domain_tools
from hygeia.core.auth import Principal
from hygeia.core.cache import cache_key, get_cache
from hygeia.core.errors import InputError
from hygeia.core.llm import ChatMessage, ChatModel, Completion, LLMError, get_chat_model
from hygeia.core.observability import count_decisions
from hygeia.core.tools import Caller
from hygeia.settings import get_agent_settings, get_llm_settings

MODES = ("manual", "automatic", "autonomous-automatic", "autonomous-manual")
MODE_NUMBERS = {str(i): mode for i, mode in enumerate(MODES, start=1)}
ELLIPTICAL = re.compile(r"^\s*(?:and|also|what about|how about|what of)\b", re.IGNORECASE)  # "And for X?"
FOLLOW_UP = re.compile(
    r"\b(it|its|this|that|these|those|they|them|their|same|above)\b|" + ELLIPTICAL.pattern, re.IGNORECASE
)
MAX_CHAINED = 3  # earlier questions a chain of follow-ups is searched with
MANUAL_MODES = ("manual", "autonomous-manual")  # the caller names the expert
Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Question:
    text: str
    mode: str = "automatic"
    expert: str | None = None
    conversation_id: str | None = None


def normalise_mode(mode: str) -> str:
    value = MODE_NUMBERS.get(mode.strip(), mode.strip().lower().replace("_", "-"))
    if value not in MODES:
        raise InputError(f"unknown mode {mode!r}; choose from {list(MODES)} (or 1-4)")
    return value


def choose_expert(question: Question, query: str | None = None) -> tuple[Expert, dict[str, Any] | None]:
    """Manual modes use the caller's expert; automatic modes route and say why, a follow-up together
    with the previous question (`query`): "What about myopathy?" alone says nothing of signals."""
    if question.mode in MANUAL_MODES:
        if not question.expert:
            raise InputError(f"mode {question.mode!r} needs an expert; see GET /api/v1/agents/experts")
        return get_expert(question.expert), None
    chosen = route(query or question.text)
    return chosen.expert, chosen.as_dict()


def answer_events(
    principal: Principal,
    question: Question,
    *,
    expert: Expert | None = None,
    record_question: bool = True,
    past: list[ChatMessage] | None = None,
) -> Iterator[Event]:
    """The whole pipeline; the last event is ("answer", payload) with the stored message id.

    `past` overrides the stored history (a panel gives every expert the history from before the
    question, so no expert sees another's answer).
    """
    started = time.perf_counter()
    if expert is None and question.mode in MANUAL_MODES:
        expert = choose_expert(question)[0]  # a missing expert is refused before the conversation opens
    conversation_id = memory.open_conversation(principal, question.conversation_id, question.text)
    recalled_notes: list[str] = []
    if past is None:
        turns = get_agent_settings().history_turns
        recalled, recalled_notes = recall(principal.tenant_id, conversation_id, question.text, turns)
        past = recalled + memory.history(principal.tenant_id, conversation_id, turns)
    query, notes = retrieval_query(question.text, past)
    chosen, routing = (expert, None) if expert else choose_expert(question, query)
    if record_question:
        memory.add_user_message(principal.tenant_id, conversation_id, question.text)
    notes.extend([*recalled_notes, *ensure_domain_tools()])
    yield "meta", _meta(conversation_id, chosen, question.mode, routing, query)
    model, why_no_llm = chat_model_or_reason()
    earlier = [m["content"] for m in reversed(past) if m["role"] == "user"]  # newest first
    chain = yield from _tools(question, chosen, query, earlier, model, caller_of(principal))
    sources = collect_sources(chain.outcomes, get_agent_settings().max_sources)
    failures = failure_lines(chain.outcomes)
    if model is not None and not sources:
        why_no_llm = "no source was retrieved, so no language model was asked (it would have nothing to cite)"
    completion = None
    if model is not None and sources:
        messages = answer_messages(chosen, question.text, past, sources, failures)
        completion, llm_error = yield from _cached_generate(principal.tenant_id, model, messages)
        why_no_llm = llm_error or why_no_llm
    answer = _answer(chosen, question, routing, chain, sources, failures, completion, why_no_llm, query)
    drift.observe(answer)  # retrieval scores of the passages used, per tenant (core drift monitor)
    answer.update(conversation_id=conversation_id, notes=[*notes, *chain.notes])
    answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    answer["message_id"] = memory.store_answer(principal.tenant_id, answer, chain.outcomes, "assistant")
    count_decisions("agents", [answer_decision(answer)])
    yield "answer", answer


def answer_decision(answer: dict[str, Any]) -> str:
    """answered / not_answered / nothing_retrieved: the bounded vocabulary of the agents dashboard."""
    label = str(answer.get("confidence", {}).get("label", ""))
    if label.startswith("none"):
        return "nothing_retrieved"
    return "not_answered" if label.endswith("not answered") else "answered"


def retrieval_query(text: str, past: list[ChatMessage]) -> tuple[str, list[str]]:
    """A follow-up ("what about its dose?") is searched together with the previous question, and a
    follow-up of a follow-up with the questions back to the one they follow (at most MAX_CHAINED)."""
    if not _is_follow_up(text):
        return text, []
    chained: list[str] = []
    for previous in [m["content"] for m in reversed(past) if m["role"] == "user"][:MAX_CHAINED]:
        chained.insert(0, previous)
        if not _is_follow_up(previous):
            break
    if not chained:
        return text, []
    note = "follow-up question: the retrieval query includes the previous question"
    return " ".join([*chained, text]), [note + ("s" if len(chained) > 1 else "")]


def _is_follow_up(text: str) -> bool:
    return bool(FOLLOW_UP.search(text)) and len(text.split()) <= 12


def _meta(
    conversation_id: str, expert: Expert, mode: str, routing: dict[str, Any] | None, query: str
) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "expert": {"name": expert.name, "title": expert.title},
        "mode": mode,
        "routing": routing,
        "retrieval_query": query,
    }


def chat_model_or_reason() -> tuple[ChatModel | None, str]:
    """The configured model, or None and the reason an answer will be extractive."""
    settings = get_llm_settings()
    if settings.backend == "none":
        return None, "HYGEIA_LLM_BACKEND=none"
    try:
        return get_chat_model(), ""
    except LLMError as exc:
        return None, f"the {settings.backend} language model is unavailable: {exc}"


def _tools(
    question: Question,
    expert: Expert,
    query: str,
    earlier: list[str],
    model: ChatModel | None,
    caller: Caller,
) -> Generator[Event, None, ChainResult]:
    context = initial_context(question.text, query, earlier)
    if question.mode.startswith("autonomous"):
        use_llm = get_llm_settings().plan_with_llm
        use_llm = (model is not None and model.backend == "openai") if use_llm is None else use_llm
        chain = planned_chain(question.text, expert, context, model, use_llm, caller)
    else:
        chain = retrieval_chain(expert, context, caller)
    result: ChainResult = yield from _relay(chain)
    return result


def _relay(chain: Generator[Any, None, ChainResult]) -> Generator[Event, None, ChainResult]:
    while True:
        try:
            outcome = next(chain)
        except StopIteration as done:
            result: ChainResult = done.value
            return result
        yield "tool", outcome.as_dict()


def _cached_generate(
    tenant_id: str, model: ChatModel, messages: list[ChatMessage]
) -> Generator[Event, None, tuple[Completion | None, str]]:
    """Same tenant, model and prompt (question, history and the sources' text) → the stored answer.

    The key holds the sources' text, so a rebuilt index or a new model is a new key: nothing to
    invalidate by hand. Only complete, non-empty answers are stored."""
    name = str(getattr(model, "model", ""))
    key = cache_key("agents-answer", tenant_id, model.backend, name, json.dumps(messages, sort_keys=True))
    hit = get_cache().get_json(key)
    if isinstance(hit, dict):
        yield "token", {"text": hit["text"]}
        return Completion(**{**hit, "latency_s": 0.0, "finish_reason": "cached"}), ""
    completion, error = yield from _generate(model, messages)
    if completion is not None and completion.text.strip() and not error:
        get_cache().set_json(key, asdict(completion))
    return completion, error


def _generate(
    model: ChatModel, messages: list[ChatMessage]
) -> Generator[Event, None, tuple[Completion | None, str]]:
    """Streams the model's deltas; any model failure means an extractive answer, never a partial one."""
    try:
        for item in model.stream(messages):
            if isinstance(item, Completion):
                return item, ""
            yield "token", {"text": item}
    except LLMError as exc:
        return None, f"the language model failed ({exc}); the answer falls back to the sources"
    return None, "the language model returned no completion"


def _answer(
    expert: Expert,
    question: Question,
    routing: dict[str, Any] | None,
    chain: ChainResult,
    sources: list[Source],
    failures: list[str],
    completion: Completion | None,
    why_no_llm: str,
    query: str,
) -> dict[str, Any]:
    evidence = _evidence(question.text, sources)
    # an elliptical follow-up ("What about myopathy?") asks in the form of the question it follows
    asked_as = query if ELLIPTICAL.match(question.text) else question.text
    verdicts = _stated_verdicts(asked_as, sources, evidence)
    scored = dict(evidence.confidence)
    if completion is not None and completion.text.strip():
        text, cited = with_citations(completion.text, sources)
        grounded = grounding(completion.text, sources)
        generation, model_name = "llm", f"{completion.backend}:{completion.model}"
        label = f"generated by {model_name} from the cited sources"
        label += " (served from the answer cache)" if completion.finish_reason == "cached" else ""
        scored = _with_grounding(scored, grounded)
    else:
        if completion is not None:
            why_no_llm = "the language model returned an empty answer"
        text = extractive_answer(
            sources, failures, why_no_llm, evidence, verdicts, across_drugs(asked_as, sources)
        )
        cited = sorted(
            {s.source for s in evidence.selected} | {s.number for s in sources if s.kind == "tool_result"}
        )
        generation, model_name, label = "extractive", NO_LLM_LABEL, f"{NO_LLM_LABEL}: {why_no_llm}"
    return {
        "question": question.text,
        "expert": {"name": expert.name, "title": expert.title},
        "mode": question.mode,
        "routing": routing,
        "answer": text,
        "generation": generation,
        "model": model_name,
        "label": label,
        "sources": [s.as_dict() for s in sources],
        "cited": cited,
        "tool_calls": [o.as_dict() for o in chain.outcomes],
        "planner": chain.planner,
        "verdict": _one_verdict(verdicts, evidence, sources),
        "confidence": scored if sources else _no_sources(scored),
        "usage": _usage(chain, completion),
    }


def _evidence(question: str, sources: list[Source]) -> EvidenceView:
    passages = [(s.number, s.full_text or s.text) for s in sources if s.kind == "passage"]
    readable = {s.number for s in sources if s.reads_as_text}
    return view_evidence(question, passages, any(s.answers for s in sources), readable)


def _one_verdict(
    verdicts: list[dict[str, Any]], evidence: EvidenceView, sources: list[Source]
) -> dict[str, Any] | None:
    """The answer's verdict; none for a comparison of drugs, whose verdicts are each drug's own line."""
    looked_up = {
        (s.output or {}).get("drug") for s in sources if s.kind == "tool_result" and s.tool in PER_DRUG
    }
    if len(looked_up - {None}) > 1:
        return None
    return verdicts[0] if verdicts else evidence.verdict


def _stated_verdicts(question: str, sources: list[Source], evidence: EvidenceView) -> list[dict[str, Any]]:
    """What the answer states for a yes/no question: the lookup tools' verdicts on the named pair,
    then the study reading, if the passages address the question at all."""
    if not is_yes_no(question):
        return []
    stated = tool_verdicts(sources)
    if evidence.verdict is not None and evidence.passages_answer:
        stated.append(evidence.verdict | {"stated": True})
    return stated


def _with_grounding(scored: dict[str, Any], grounded: float) -> dict[str, Any]:
    """A generated answer is only as good as its support: the evidence confidence times grounding."""
    value = round(scored["value"] * grounded, 3)
    label = scored["label"] if grounded >= 0.5 else "low — answer not supported by its sources"
    method = f"{scored['method']}; times the lexical grounding of the generated text"
    return scored | {"value": value, "label": label, "method": method,
                     "components": {**scored["components"], "grounding": round(grounded, 3)}}  # fmt: skip


def _no_sources(scored: dict[str, Any]) -> dict[str, Any]:
    return scored | {"value": 0.0, "label": "none — nothing retrieved"}


def _usage(chain: ChainResult, completion: Completion | None) -> dict[str, Any]:
    prompt = chain.prompt_tokens + (completion.prompt_tokens if completion else 0)
    generated = chain.completion_tokens + (completion.completion_tokens if completion else 0)
    seconds = completion.latency_s if completion else 0.0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "estimated": bool(completion and completion.estimated_usage),
        "generation_seconds": round(seconds, 3),
        "tokens_per_second": round(completion.completion_tokens / seconds, 1)
        if completion and seconds
        else None,
    }


def ask(principal: Principal, question: Question) -> dict[str, Any]:
    """The non-streaming use case: run the pipeline, return its final answer."""
    answer: dict[str, Any] = {}
    for kind, payload in answer_events(principal, question):
        if kind == "answer":
            answer = payload
    return answer


def resolve(question: Question) -> Question:
    """Validate mode and expert up front, so a bad request fails before anything is stored."""
    mode = normalise_mode(question.mode)
    if question.expert:
        get_expert(question.expert)
    elif mode in MANUAL_MODES:
        raise InputError(f"mode {mode!r} needs an expert; see GET /api/v1/agents/experts")
    if not question.text.strip():
        raise InputError("the question is empty")
    return Question(question.text.strip(), mode, question.expert, question.conversation_id)


__all__ = ["MODES", "Event", "Question", "answer_events", "ask", "get_expert", "resolve"]
