"""Turning tool outcomes into cited sources, prompts, extractive answers and a confidence score.

Confidence is a transparent heuristic, not a calibrated probability:
    0.40 * grounding + 0.35 * evidence + 0.25 * tool_success
grounding    share of answer sentences whose content words (4+ letters) are at least half found in
             the cited sources' text and whose numbers all appear there (an extractive answer is
             grounded by construction); lexical, so it catches invented numbers and off-topic text,
             not every paraphrased error
evidence     min(1, number of sources / 3)
tool_success successful tool calls / attempted tool calls
With no source at all the confidence is 0 and no answer is generated.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from hygeia.agents.experts import Expert
from hygeia.agents.toolbox import ToolOutcome
from hygeia.core.llm import ChatMessage

NO_LLM_LABEL = "no language model"
PASSAGE_LISTS = ("hits", "results", "passages", "documents", "items", "matches")
TEXT_FIELDS = ("snippet", "text", "abstract", "passage", "content", "summary")
SOURCE_TEXT_CHARS = 600
WEIGHTS = {"grounding": 0.40, "evidence": 0.35, "tool_success": 0.25}
CONFIDENCE_METHOD = (
    "0.40*grounding + 0.35*evidence + 0.25*tool_success; grounding = share of answer sentences whose "
    "content words are at least half found in the cited sources, evidence = min(1, sources/3), "
    "tool_success = successful/attempted tool calls. A heuristic, not a calibrated probability."
)
WORD = re.compile(r"[a-z][a-z\-]{3,}")
NUMBER = re.compile(r"(?<![\[\w.])\d+(?:\.\d+)?(?![\]\w])")  # not citation markers like [2]


@dataclass(frozen=True)
class Source:
    number: int
    kind: str  # passage | tool_result
    tool: str
    step: int
    ref: str  # document id for a passage, tool call id for a tool result
    title: str
    text: str
    url: str | None = None
    score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_sources(outcomes: list[ToolOutcome], limit: int) -> list[Source]:
    """Passages from retrieval tools first, then each other successful tool's result as one source."""
    passages: list[Source] = []
    results: list[Source] = []
    for outcome in outcomes:
        if not outcome.ok or outcome.output is None:
            continue
        found = _passages(outcome)
        if found:
            passages.extend(found)
        else:
            results.append(_tool_result(outcome))
    chosen = (results + passages)[:limit]  # computed results are specific to the question: first
    return [_renumber(s, i) for i, s in enumerate(chosen, start=1)]


def _renumber(source: Source, number: int) -> Source:
    return Source(number, *(getattr(source, f) for f in list(Source.__dataclass_fields__)[1:]))


def _passages(outcome: ToolOutcome) -> list[Source]:
    output = outcome.output or {}
    for key in PASSAGE_LISTS:
        items = output.get(key)
        if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
            return [p for p in (_passage(outcome, item) for item in items) if p is not None]
    return []


def _passage(outcome: ToolOutcome, item: dict[str, Any]) -> Source | None:
    text = next((str(item[f]) for f in TEXT_FIELDS if item.get(f)), "")
    title = str(item.get("title") or "")
    if not text and not title:
        return None
    ref = str(item.get("id") or item.get("doc_id") or item.get("pmid") or f"{outcome.source_id}")
    score = item.get("score")
    return Source(
        0,
        "passage",
        outcome.tool,
        outcome.step,
        ref,
        title,
        _clip(text or title),
        str(item["url"]) if item.get("url") else None,
        float(score) if isinstance(score, int | float) else None,
    )


def _tool_result(outcome: ToolOutcome) -> Source:
    text = json.dumps(outcome.output, separators=(", ", ": "), default=str)
    ref = outcome.record_id
    return Source(0, "tool_result", outcome.tool, outcome.step, ref, f"{outcome.tool} result", _clip(text))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SOURCE_TEXT_CHARS else text[:SOURCE_TEXT_CHARS].rsplit(" ", 1)[0] + " …"


def failure_lines(outcomes: list[ToolOutcome]) -> list[str]:
    return [f"{o.tool} ({o.status}): {o.error}" for o in outcomes if not o.ok]


def extractive_answer(sources: list[Source], failures: list[str], why_no_llm: str) -> str:
    """The answer when no model writes one: the evidence itself, unedited, with its numbers."""
    lines = [
        f"[{NO_LLM_LABEL}: {why_no_llm}. Extractive answer: the retrieved passages and tool results "
        "below, unedited; read them, they are not a summary.]"
    ]
    if not sources:
        lines.append("No source could be retrieved for this question, so no answer is given.")
    for source in sources:
        label = f"{source.title} ({source.tool}, {source.ref})" if source.title else source.ref
        lines.append(f"[{source.number}] {label}: {source.text}")
    lines.extend(f"Tool failure — {line}" for line in failures)
    return "\n".join(lines)


def answer_messages(
    expert: Expert,
    question: str,
    history: list[ChatMessage],
    sources: list[Source],
    failures: list[str],
) -> list[ChatMessage]:
    numbered = "\n".join(f"[{s.number}] {s.title} — {s.text}" for s in sources)
    failed = "\n".join(f"- {line}" for line in failures) or "none"
    user = (
        f"Sources:\n{numbered}\n\nTools that failed:\n{failed}\n\nQuestion: {question}\n"
        "Answer in at most five sentences using only the sources, and cite them as [n]."
    )
    return [{"role": "system", "content": expert.system_prompt}, *history, {"role": "user", "content": user}]


def with_citations(text: str, sources: list[Source]) -> tuple[str, list[int]]:
    """Appends the source list; returns the numbers the text itself cited (unknown numbers dropped)."""
    valid = {s.number for s in sources}
    cited = sorted({int(n) for n in re.findall(r"\[(\d{1,3})\]", text)} & valid)
    footer = "\n".join(
        f"[{s.number}] {s.title or s.kind} ({s.tool}, {s.ref}){'' if s.number in cited else ' — not cited'}"
        for s in sources
    )
    return f"{text.strip()}\n\nSources:\n{footer}", cited


def grounding(text: str, sources: list[Source]) -> float:
    source_text = " ".join(f"{s.title} {s.text}" for s in sources).lower()
    source_words, source_numbers = set(WORD.findall(source_text)), set(NUMBER.findall(source_text))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if WORD.search(s.lower())]
    if not sentences or not source_words:
        return 0.0
    supported = 0
    for sentence in sentences:
        words = set(WORD.findall(sentence.lower()))
        numbers_found = set(NUMBER.findall(sentence)) <= source_numbers
        supported += numbers_found and len(words & source_words) >= 0.5 * len(words)
    return supported / len(sentences)


def confidence(grounded: float, sources: list[Source], outcomes: list[ToolOutcome]) -> dict[str, Any]:
    attempted = len(outcomes)
    components = {
        "grounding": round(grounded, 3),
        "evidence": round(min(1.0, len(sources) / 3), 3),
        "tool_success": round(sum(o.ok for o in outcomes) / attempted, 3) if attempted else 0.0,
    }
    value = 0.0 if not sources else sum(WEIGHTS[k] * v for k, v in components.items())
    label = "high" if value >= 0.75 else "medium" if value >= 0.45 else "low" if value > 0 else "none"
    return {"value": round(value, 3), "label": label, "method": CONFIDENCE_METHOD, "components": components}
