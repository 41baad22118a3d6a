"""Turning tool outcomes into cited sources, prompts and the extractive (no language model) answer.

Confidence lives in `confidence.py` (how well the evidence answers the question, calibrated on
PubMedQA). `grounding` here is the lexical check of a generated answer against its sources: the share
of answer sentences whose content words (4+ letters) are at least half found in the cited sources and
whose numbers all appear there; it catches invented numbers and off-topic text, not every paraphrase.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from hygeia.agents.confidence import EvidenceView
from hygeia.agents.experts import Expert
from hygeia.agents.facts import fact_line
from hygeia.agents.toolbox import ToolOutcome
from hygeia.core.llm import ChatMessage

NO_LLM_LABEL = "no language model"
PASSAGE_LISTS = ("hits", "results", "passages", "documents", "items", "matches")
TEXT_FIELDS = ("snippet", "text", "abstract", "passage", "content", "summary")
SOURCE_TEXT_CHARS = 600
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
    full_text: str = ""  # the whole passage, for sentence ranking and "show the full passage"
    output: dict[str, Any] | None = None  # a tool result's output, for its one-line fact

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("output")  # the whole output is in the answer's tool calls already
        return data


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
        " ".join((text or title).split()),
    )


def _tool_result(outcome: ToolOutcome) -> Source:
    text = json.dumps(outcome.output, separators=(", ", ": "), default=str)
    ref = outcome.record_id
    title = f"{outcome.tool} result"
    return Source(
        0, "tool_result", outcome.tool, outcome.step, ref, title, _clip(text), output=outcome.output
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SOURCE_TEXT_CHARS else text[:SOURCE_TEXT_CHARS].rsplit(" ", 1)[0] + " …"


def failure_lines(outcomes: list[ToolOutcome]) -> list[str]:
    return [f"{o.tool} ({o.status}): {o.error}" for o in outcomes if not o.ok]


def extractive_answer(
    question: str, sources: list[Source], failures: list[str], why_no_llm: str, evidence: EvidenceView
) -> str:
    """The answer when no model writes one: a verdict, the best sentences and one line per tool result."""
    lines = [
        f"[{NO_LLM_LABEL}: {why_no_llm}. Extractive answer: the sentences of the retrieved passages that "
        f"best match the question ({evidence.method}), and tool results; full passages under Sources.]"
    ]
    if not sources:
        lines.append("No source could be retrieved for this question, so no answer is given.")
    if evidence.not_answered and evidence.selected:
        lines.append(
            "The retrieved passages do not address this question (confidence low — not answered); "
            "the closest sentences follow, as leads rather than an answer."
        )
    if evidence.verdict and not evidence.not_answered:
        lines.append(_verdict_line(evidence.verdict))
    lines.extend(f"- {s.text} [{s.source}]" for s in evidence.selected)
    lines.extend(
        f"- {fact_line(s.tool, s.output)} [{s.number}]"
        for s in sources
        if s.kind == "tool_result" and s.output
    )
    lines.extend(f"Tool failure — {line}" for line in failures)
    if sources:
        lines.append("\nSources:")
        lines.extend(f"[{s.number}] {s.title or s.kind} ({s.tool}, {s.ref})" for s in sources)
    return "\n".join(lines)


def _verdict_line(verdict: dict[str, Any]) -> str:
    p = verdict["probabilities"]
    odds = ", ".join(f"{k} {v:.2f}" for k, v in p.items())
    return (
        f"Verdict: {verdict['label']} (from [{verdict['source']}], {verdict['model']}; {odds}). "
        f"A yes/no classifier's reading of the best-matching passage ({verdict['measured']})."
    )


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
