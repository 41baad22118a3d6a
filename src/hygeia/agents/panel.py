"""Panel: several experts answer the same question, then a consensus that shows where they differ.

Agreement is measured on evidence, not wording: the share of sources that every expert relied on (a
passage by its document id, a tool result by its tool and fact, since each expert's call is its own
record). Disagreements are concrete: evidence only some experts had, the same tool succeeding for one
expert and failing for another, different stated verdicts, confidence gaps, and (for generated
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
from hygeia.agents.engine import MANUAL_MODES, Event, Question, answer_events, chat_model_or_reason, resolve
from hygeia.agents.experts import EXPERTS, Expert, get_expert
from hygeia.agents.facts import fact_line
from hygeia.core.auth import Principal
from hygeia.core.errors import InputError
from hygeia.core.llm import Completion, LLMError
from hygeia.settings import get_agent_settings

CONFIDENCE_GAP = 0.25
LOW_OVERLAP = 0.15
WORD = re.compile(r"[a-z][a-z\-]{3,}")
CONSENSUS_METHOD = (
    "agreement = sources every expert relied on / sources any expert relied on (passages by document, "
    "tool results by tool and fact); "
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
    if mode not in MANUAL_MODES:
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
    keyed = [evidence_lines(a) for a in answers]
    refs = [set(lines) for lines in keyed]
    union, shared = set().union(*refs), set.intersection(*refs) if refs else set()
    agreement = len(shared) / len(union) if union else 0.0
    mean_conf = sum(a["confidence"]["value"] for a in answers) / len(answers)
    disagreements = _disagreements(answers, refs, shared)
    common = {key: line for lines in keyed for key, line in lines.items() if key in shared}
    text, generation, model_name, usage = _consensus_text(question, answers, common, disagreements)
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


def evidence_lines(answer: dict[str, Any]) -> dict[str, str]:
    """Each source an answer relied on, keyed so that two experts who saw the same thing share the key:
    a passage by its document id, a tool result by its tool and fact line."""
    outputs = {c["record_id"]: c["output"] for c in answer["tool_calls"] if c.get("output")}
    lines = {}
    for source in sorted(answer["sources"], key=lambda s: s["kind"] != "tool_result"):  # facts first
        output = outputs.get(source["ref"]) if source["kind"] == "tool_result" else None
        if output is not None:
            fact = fact_line(source["tool"], output)
            lines[f"{source['tool']}: {fact}"] = f"- {fact} ({source['tool']})"
        else:
            text = f"{source['title'] or source['kind']} ({source['ref']}): {source['text']}"
            lines[source["ref"]] = f"- {text}"
    return lines


def stated_verdicts(answers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Expert title -> the verdict its answer stated (computed-but-unstated readings left out)."""
    return {
        a["expert"]["title"]: a["verdict"]
        for a in answers
        if a.get("verdict") and a["verdict"].get("stated", True)
    }


def _differs(kind: str, answers: list[dict[str, Any]], detail: str) -> dict[str, Any]:
    return {"kind": kind, "experts": [a["expert"]["name"] for a in answers], "detail": detail}


def _disagreements(
    answers: list[dict[str, Any]], refs: list[set[str]], shared: set[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    holders: dict[str, list[int]] = {}  # evidence some but not all experts had -> who had it
    for index, own in enumerate(refs):
        for key in sorted(own - shared):
            holders.setdefault(key, []).append(index)
    by_group: dict[tuple[int, ...], list[str]] = {}
    for key, group in holders.items():
        by_group.setdefault(tuple(group), []).append(key)
    for members, keys in by_group.items():
        titles = " and ".join(answers[i]["expert"]["title"] for i in members)
        detail = f"{titles} {'alone ' if len(members) == 1 else ''}relied on {', '.join(keys)}"
        found.append(_differs("evidence", [answers[i] for i in members], detail))
    found.extend(_tool_conflicts(answers))
    verdicts = stated_verdicts(answers)
    if len({v["label"] for v in verdicts.values()}) > 1:
        detail = "; ".join(f"{title} {v['label']} ({v['model']})" for title, v in verdicts.items())
        stating = [a for a in answers if a["expert"]["title"] in verdicts]
        found.append(_differs("verdict", stating, detail))
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
    question: str, answers: list[dict[str, Any]], common: dict[str, str], disagreements: list[dict[str, Any]]
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
    return _extractive_consensus(answers, common, disagreements, why), "extractive", NO_LLM_LABEL, {}


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
    answers: list[dict[str, Any]], common: dict[str, str], disagreements: list[dict[str, Any]], why: str
) -> str:
    lines = [
        f"[{NO_LLM_LABEL}: {why}. Consensus = the verdict the experts stated alike and the evidence every "
        "expert relied on, unedited.]"
    ]
    verdicts = stated_verdicts(answers)
    labels = {v["label"] for v in verdicts.values()}
    if len(labels) == 1:
        how = "; ".join(f"{title}: {v['model']}" for title, v in verdicts.items())
        silent = [a["expert"]["title"] for a in answers if a["expert"]["title"] not in verdicts]
        none = f"; none stated by {', '.join(silent)}" if silent else ""
        lines.append(f"Verdict: {labels.pop()} ({how}){none}")
    lines.extend(common.values())
    if not common:
        lines.append("The experts share no evidence, so no consensus can be stated.")
    lines.extend(f"Disagreement ({d['kind']}): {d['detail']}" for d in disagreements)
    return "\n".join(lines)
