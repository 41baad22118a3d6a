"""How well the evidence answers the question, as a probability calibrated on PubMedQA (dev split).

Components, each inspectable in the answer:
  relevance      MiniLM cosine of the best selected sentence to the question
  support        mean cosine of the selected sentences
  coverage       share of the question's key terms found in the selected sentences of the best
                 sentence's source (from 1.2.0; before, over all selected sentences, so sentences of
                 several sources that each named one term read as an answer)
  focus          share of the selected sentences from the best sentence's source: on PubMedQA, evidence
                 scattered over several loosely related abstracts meant no abstract answered (agreement
                 between several sources that each answer could not be calibrated there: one relevant
                 abstract per question)
A logistic model maps them to P(the selected evidence comes from a document that answers the
question), fitted by `benchmarks.agents.pubmedqa` on the 500 non-test PubMedQA questions with retrieval
over their abstracts (half with the question's own abstract removed, so "not answered" is learned).
A tool that answered adds a stated rule, not a fitted one: value = 1 - (1 - p) * (1 - TOOL_WEIGHT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from hygeia.agents import verdict
from hygeia.agents.extract import Sentence, coverage, key_terms, rank_sentences, select, stated_verdict

COMPONENTS = ("relevance", "support", "coverage", "focus")
CALIBRATION_FILE = "confidence.json"
TOOL_WEIGHT = 0.5
NOT_ANSWERED = 0.3  # below this calibrated probability the answer says "low — not answered"
METHOD = (
    "P(evidence answers the question) from relevance, support, coverage and focus of the "
    "selected sentences (logistic, calibrated on PubMedQA dev); a tool that answered adds "
    f"1-(1-p)*(1-{TOOL_WEIGHT}) (a rule)"
)


def components(question: str, selected: list[Sentence]) -> dict[str, float]:
    if not selected:
        return dict.fromkeys(COMPONENTS, 0.0)
    main = selected[0].source
    return {
        "relevance": max(s.relevance for s in selected),
        "support": float(np.mean([s.relevance for s in selected])),
        "coverage": coverage(key_terms(question), " ".join(s.text for s in selected if s.source == main)),
        "focus": sum(s.source == main for s in selected) / len(selected),
    }


@dataclass(frozen=True)
class Calibration:
    coef: np.ndarray
    intercept: float
    info: dict[str, Any]

    def probability(self, values: dict[str, float]) -> float:
        x = np.asarray([values[c] for c in COMPONENTS])
        return float(1 / (1 + np.exp(-(self.coef @ x + self.intercept))))

    def to_json(self) -> dict[str, Any]:
        return {"components": list(COMPONENTS), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6), "info": self.info}  # fmt: skip


@lru_cache(maxsize=1)
def load() -> Calibration | None:
    data = verdict.artifact(CALIBRATION_FILE)
    if data is None:
        return None
    coef = np.asarray(data["coef"], dtype=np.float64)
    return Calibration(coef, float(data["intercept"]), data.get("info", {}))


def label_for(value: float, evidence: float, tool_answered: bool) -> str:
    if evidence < NOT_ANSWERED and not tool_answered:
        return "low — not answered"
    return "high" if value >= 0.75 else "medium" if value >= 0.5 else "low"


def assess(question: str, selected: list[Sentence], tool_answered: bool, method: str) -> dict[str, Any]:
    """The answer's confidence block; without a calibration file the raw relevance stands in, said so."""
    values = components(question, selected)
    calibration = load()
    if calibration is not None and method == "MiniLM cosine":
        evidence, how = calibration.probability(values), METHOD
    else:
        evidence = values["coverage"] * 0.5
        how = f"uncalibrated ({method}; no MiniLM encoder or calibration file): half the key-term coverage"
    value = 1 - (1 - evidence) * (1 - (TOOL_WEIGHT if tool_answered else 0.0))
    return {
        "value": round(value, 3),
        "label": label_for(value, evidence, tool_answered),
        "method": how,
        "evidence_answers_question": round(evidence, 3),
        "tool_answered": tool_answered,
        "components": {k: round(v, 3) for k, v in values.items()},
    }


@dataclass(frozen=True)
class EvidenceView:
    """What the evidence says about the question: the chosen sentences, a verdict and the confidence."""

    selected: list[Sentence]
    verdict: dict[str, Any] | None
    method: str
    confidence: dict[str, Any]

    @property
    def not_answered(self) -> bool:
        return str(self.confidence["label"]).endswith("not answered")

    @property
    def passages_answer(self) -> bool:
        """The passages themselves address the question (a tool's answer does not lift this)."""
        return float(self.confidence["evidence_answers_question"]) >= NOT_ANSWERED


def view_evidence(
    question: str,
    passages: list[tuple[int, str]],
    tool_answered: bool,
    readable: set[int] | None = None,
) -> EvidenceView:
    """Rank the passages' sentences, keep the best, read a verdict from the best-matching passage
    among `readable` (all when None), and say how well the passages answer."""
    ranked = rank_sentences(question, passages)
    selected = select(ranked)
    found = stated_verdict(question, ranked, readable)
    return EvidenceView(
        selected, found, ranked.method, assess(question, selected, tool_answered, ranked.method)
    )
