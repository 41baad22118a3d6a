"""Turning tool outcomes into cited sources, prompts and the extractive (no language model) answer.

Confidence lives in `confidence.py` (how well the evidence answers the question, calibrated on
PubMedQA). `grounding` here is the lexical check of a generated answer against its sources: the share
of answer sentences whose content words (4+ letters) are at least half found in the cited sources and
whose numbers all appear there; it catches invented numbers and off-topic text, not every paraphrase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
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
TEXT_TYPES = ("literature",)  # typed passages the verdict may read; untyped ones are taken as text
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
    passage_type: str | None = None  # the retrieval tool's document type ("literature", "approval", …)

    @property
    def reads_as_text(self) -> bool:
        """A study's text, the kind of passage the verdict model was measured on (PubMedQA abstracts).

        Records that a tool types as something else (an approval, a trial outcome, a curated
        indication) are one-line facts: a yes/no reading of them would only echo the model's prior."""
        return self.kind == "passage" and self.passage_type in (None, *TEXT_TYPES)

    @property
    def statement(self) -> str:
        """What a model is shown and its answer is checked against: a tool result as its fact line and
        verdict (its clipped JSON may cut off the numbers that matter), a passage as its preview."""
        if self.kind != "tool_result" or not self.output:
            return self.text
        verdict = self.output.get("verdict")
        stated = f" Verdict {verdict['label']}: {verdict['basis']}." if isinstance(verdict, dict) else ""
        return f"{fact_line(self.tool, self.output)}.{stated}"

    @property
    def answers(self) -> bool:
        """A tool result that answers the question it was bound to; a tool may say it did not."""
        return self.kind == "tool_result" and bool((self.output or {}).get("answers", True))

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
        passage_type=str(item["type"]) if item.get("type") else None,
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
    sources: list[Source],
    failures: list[str],
    why_no_llm: str,
    evidence: EvidenceView,
    verdicts: list[dict[str, Any]],
    side_by_side: Sequence[str] = (),
) -> str:
    """The answer when no model writes one: the stated verdicts, one line per tool result (computed for
    this question, so first) and, for several drugs, the results side by side; then the best
    sentences, or the closest ones as leads when the passages do not address the question."""
    lines = [
        f"[{NO_LLM_LABEL}: {why_no_llm}. Extractive answer: the sentences of the retrieved passages that "
        f"best match the question ({evidence.method}), and tool results; full passages under Sources.]"
    ]
    if not sources:
        lines.append("No source could be retrieved for this question, so no answer is given.")
    lines.extend(_verdict_line(v) for v in verdicts)
    results = [s for s in sources if s.kind == "tool_result" and s.output]
    results.sort(key=lambda s: (not (s.output or {}).get("verdict"), not s.answers))  # the verdict's first
    lines.extend(f"- {fact_line(s.tool, s.output or {})} [{s.number}]" for s in results)
    lines.extend(side_by_side)
    if evidence.selected and not evidence.passages_answer:
        overall = " (confidence low — not answered)" if evidence.not_answered else ""
        lines.append(
            f"The retrieved passages do not address this question{overall}; the closest sentences "
            "follow, as leads rather than an answer."
        )
    lines.extend(f"- {s.text} [{s.source}]" for s in evidence.selected)
    lines.extend(f"Tool failure — {line}" for line in failures)
    if sources:
        lines.append("\nSources:")
        lines.extend(f"[{s.number}] {s.title or s.kind} ({s.tool}, {s.ref})" for s in sources)
    return "\n".join(lines)


def tool_verdicts(sources: list[Source]) -> list[dict[str, Any]]:
    """Verdicts that lookup tools state on the pair the question names (a labelled side effect, a
    disproportionality alert), as rules on their own result: no fitted model, the basis says why."""
    found = []
    for source in sources:
        stated = (source.output or {}).get("verdict") if source.kind == "tool_result" else None
        if isinstance(stated, dict) and stated.get("label") in ("yes", "no") and stated.get("basis"):
            found.append(
                {
                    "label": stated["label"],
                    "probabilities": None,
                    "source": source.number,
                    "model": f"rule: {source.tool}",
                    "measured": "a stated rule on the tool's result, not a fitted model",
                    "basis": str(stated["basis"]),
                    "stated": True,
                }
            )
    return found


def _verdict_line(verdict: dict[str, Any]) -> str:
    where = f"from [{verdict['source']}], {verdict['model']}"
    if verdict["probabilities"] is None:
        return f"Verdict: {verdict['label']} ({where}): {verdict['basis']}."
    odds = ", ".join(f"{k} {v:.2f}" for k, v in verdict["probabilities"].items())
    return (
        f"Verdict: {verdict['label']} ({where}; {odds}). "
        f"A yes/no classifier's reading of the best-matching study ({verdict['measured']})."
    )


def answer_messages(
    expert: Expert,
    question: str,
    history: list[ChatMessage],
    sources: list[Source],
    failures: list[str],
) -> list[ChatMessage]:
    numbered = "\n".join(f"[{s.number}] {s.title} — {s.statement}" for s in sources)
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
    source_text = " ".join(f"{s.title} {s.text} {s.statement}" for s in sources).lower()
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
