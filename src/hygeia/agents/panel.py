"""Panel: several experts answer the same question, then a consensus that shows where they differ.

Agreement is measured on evidence, not wording: the share of cited sources (by document or tool-call
reference) that every expert relied on. Disagreements are concrete: evidence only some experts had,
the same tool succeeding for one expert and failing for another, confidence gaps, and (for generated
answers) answers that share few content words. A language model, when configured, writes the
consensus text from the experts' answers; without one the consensus is the shared evidence itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from hygeia.agents import memory
from hygeia.agents.compose import NO_LLM_LABEL
from hygeia.agents.engine import Event, Question, answer_events, chat_model_or_reason, resolve
from hygeia.agents.experts import EXPERTS, Expert, get_expert
from hygeia.core.auth import Principal
from hygeia.core.errors import InputError
from hygeia.core.llm import Completion, LLMError
from hygeia.settings import get_agent_settings

CONFIDENCE_GAP = 0.25
LOW_OVERLAP = 0.15
WORD = re.compile(r"[a-z][a-z\-]{3,}")
CONSENSUS_METHOD = (
    "agreement = sources cited by every expert / sources cited by any expert (by reference); "
    "consensus confidence = mean expert confidence x agreement"
)


@dataclass(frozen=True)
class PanelPlan:
    question: Question
    experts: list[Expert]
    conversation: str


def plan_panel(
    principal: Principal, text: str, experts: list[str] | None, mode: str, conversation_id: str | None = None
) -> PanelPlan:
    """Validate and open the conversation first, so a bad panel is a 4xx, never a broken stream."""
    if mode not in ("manual", "autonomous-manual"):
        raise InputError("a panel runs in mode 'manual' or 'autonomous-manual'")
    resolved = [get_expert(name) for name in (experts or list(EXPERTS))]
    chosen = list({e.name: e for e in resolved}.values())  # aliases of one expert answer once
    if len(chosen) < 2:
        raise InputError("a panel needs at least two different experts")
    question = resolve(Question(text, mode, chosen[0].name, conversation_id))
    conversation = memory.open_conversation(principal, question.conversation_id, question.text)
    return PanelPlan(question, chosen, conversation)


def panel_events(principal: Principal, plan: PanelPlan) -> Iterator[Event]:
    """Each expert's events tagged with the expert, then ("panel", the whole result with consensus)."""
    started = time.perf_counter()
    question, mode = plan.question, plan.question.mode
    past = memory.history(principal.tenant_id, plan.conversation, get_agent_settings().history_turns)
    answers: list[dict[str, Any]] = []
    for index, expert in enumerate(plan.experts):
        asked = Question(question.text, mode, expert.name, plan.conversation)
        events = answer_events(principal, asked, expert=expert, record_question=index == 0, past=past)
        for kind, payload in events:
            if kind == "answer":
                answers.append(payload)
            yield kind, {**payload, "panelist": expert.name}
    consensus = build_consensus(question.text, answers)
    result = {
        "conversation_id": answers[0]["conversation_id"],
        "question": question.text,
        "mode": mode,
        "answers": answers,
        "consensus": consensus,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    stored = {
        **consensus,
        "conversation_id": result["conversation_id"],
        "mode": mode,
        "answer": consensus["text"],
        "consensus": _stored_consensus(consensus),
    }
    result["consensus"]["message_id"] = memory.store_answer(principal.tenant_id, stored, [], "panel")
    yield "panel", result


def run_panel(
    principal: Principal, text: str, experts: list[str] | None, mode: str, conversation_id: str | None = None
) -> dict[str, Any]:
    """Each expert answers in `mode` (manual or autonomous-manual), then the consensus is stored."""
    plan = plan_panel(principal, text, experts, mode, conversation_id)
    return next(payload for kind, payload in panel_events(principal, plan) if kind == "panel")


def _stored_consensus(consensus: dict[str, Any]) -> dict[str, Any]:
    return {k: consensus[k] for k in ("agreement", "shared_sources", "disagreements", "method")}


def build_consensus(question: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    refs = [{s["ref"] for s in a["sources"]} for a in answers]
    union, shared = set().union(*refs), set.intersection(*refs) if refs else set()
    agreement = len(shared) / len(union) if union else 0.0
    mean_conf = sum(a["confidence"]["value"] for a in answers) / len(answers)
    disagreements = _disagreements(answers, refs, shared)
    text, generation, model_name, usage = _consensus_text(question, answers, shared, disagreements)
    return {
        "text": text,
        "generation": generation,
        "model": model_name,
        "agreement": round(agreement, 3),
        "shared_sources": sorted(shared),
        "disagreements": disagreements,
        "confidence": {"value": round(mean_conf * agreement, 3), "method": CONSENSUS_METHOD},
        "usage": usage,
        "method": CONSENSUS_METHOD,
    }


def _differs(kind: str, answers: list[dict[str, Any]], detail: str) -> dict[str, Any]:
    return {"kind": kind, "experts": [a["expert"]["name"] for a in answers], "detail": detail}


def _disagreements(
    answers: list[dict[str, Any]], refs: list[set[str]], shared: set[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for answer, own in zip(answers, refs, strict=True):
        only = sorted(own - shared)
        if only:
            detail = f"{answer['expert']['title']} alone relied on {', '.join(only)}"
            found.append(_differs("evidence", [answer], detail))
    found.extend(_tool_conflicts(answers))
    for a, b in combinations(answers, 2):
        conf_a, conf_b = a["confidence"]["value"], b["confidence"]["value"]
        if abs(conf_a - conf_b) >= CONFIDENCE_GAP:
            detail = f"{a['expert']['title']} {conf_a:.2f} vs {b['expert']['title']} {conf_b:.2f}"
            found.append(_differs("confidence", [a, b], detail))
        overlap = _overlap(a["answer"], b["answer"])
        if a["generation"] == b["generation"] == "llm" and overlap < LOW_OVERLAP:
            detail = f"the two answers share few content words (Jaccard {overlap:.2f})"
            found.append(_differs("wording", [a, b], detail))
    return found


def _tool_conflicts(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_tool: dict[str, dict[str, str]] = {}
    for answer in answers:
        for call in answer["tool_calls"]:
            by_tool.setdefault(call["tool"], {})[answer["expert"]["name"]] = call["status"]
    conflicts = []
    for tool, statuses in sorted(by_tool.items()):
        if len(set(statuses.values())) > 1:
            detail = ", ".join(f"{name}: {status}" for name, status in sorted(statuses.items()))
            conflicts.append({"kind": "tool", "experts": sorted(statuses), "detail": f"{tool} — {detail}"})
    return conflicts


def _overlap(a: str, b: str) -> float:
    wa, wb = set(WORD.findall(a.lower())), set(WORD.findall(b.lower()))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def _consensus_text(
    question: str, answers: list[dict[str, Any]], shared: set[str], disagreements: list[dict[str, Any]]
) -> tuple[str, str, str, dict[str, int]]:
    model, why = chat_model_or_reason()
    if model is not None and any(a["sources"] for a in answers):
        try:
            completion = model.complete(_consensus_messages(question, answers, disagreements))
        except LLMError as exc:
            why = f"the language model failed ({exc})"
        else:
            if completion.text.strip():
                name = f"{completion.backend}:{completion.model}"
                return completion.text.strip(), "llm", name, _tokens(completion)
    return _extractive_consensus(answers, shared, disagreements, why), "extractive", NO_LLM_LABEL, {}


def _tokens(completion: Completion) -> dict[str, int]:
    return {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}


def _consensus_messages(
    question: str, answers: list[dict[str, Any]], disagreements: list[dict[str, Any]]
) -> list[dict[str, str]]:
    opinions = "\n\n".join(f"{a['expert']['title']}:\n{a['answer'][:1500]}" for a in answers)
    differences = "\n".join(f"- {d['detail']}" for d in disagreements) or "- none found"
    user = (
        f"Question: {question}\n\nExpert answers:\n{opinions}\n\nMeasured differences:\n{differences}\n\n"
        "State in at most four sentences what the experts agree on and where they disagree, naming them."
    )
    return [
        {"role": "system", "content": "You moderate a panel of experts. Use only what they wrote."},
        {"role": "user", "content": user},
    ]


def _extractive_consensus(
    answers: list[dict[str, Any]], shared: set[str], disagreements: list[dict[str, Any]], why: str
) -> str:
    lines = [f"[{NO_LLM_LABEL}: {why}. Consensus = the evidence every expert relied on, unedited.]"]
    seen: set[str] = set()
    for source in (s for a in answers for s in a["sources"]):
        if source["ref"] in shared and source["ref"] not in seen:
            seen.add(source["ref"])
            lines.append(f"- {source['title'] or source['kind']} ({source['ref']}): {source['text']}")
    if not seen:
        lines.append("The experts share no evidence, so no consensus can be stated.")
    lines.extend(f"Disagreement ({d['kind']}): {d['detail']}" for d in disagreements)
    return "\n".join(lines)
