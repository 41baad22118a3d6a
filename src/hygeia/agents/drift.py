"""Agents drift: how well the passages an answer used matched its question, against PubMedQA.

For every answer built from retrieved passages with the calibrated MiniLM confidence, three values feed
the platform's persistent drift monitor (core.drift, per tenant and day) under the bundled agents
model (`agents-verdict`, models/agents/<version>/):
- `relevance`: MiniLM cosine of the best selected sentence to the question (the retrieval score of
  the passage the answer leans on);
- `support`: mean cosine of the selected sentences;
- `evidence_answers_question`: the calibrated P(the evidence answers the question).
The reference histograms are the same values on the 500 PubMedQA test questions, computed the way
the confidence was calibrated (`python -m benchmarks.agents.drift_reference`, retrieval over the
questions' abstracts, half with the own abstract removed), and stored in that model's card.json as
`drift_reference`; the card is not an artifact, so the model's sha256 is unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.agents import confidence, verdict
from hygeia.core.drift import drift_monitor, reference_histogram
from hygeia.core.registry import LoadedModel, verify_folder

SIGNALS = ("relevance", "support", "evidence_answers_question")


@lru_cache(maxsize=2)
def _model(folder: str) -> LoadedModel:
    card = verify_folder(Path(folder))  # the same hash check the verdict and calibration load under
    return LoadedModel(
        str(card["name"]), str(card["version"]), str(card["sha256"]), "bundled", Path(folder), card
    )


def bundled_model() -> LoadedModel | None:
    folder = verdict.verdict_folder()
    return None if folder is None else _model(str(folder))


def signal_values(answer: dict[str, Any]) -> dict[str, float] | None:
    """The answer's retrieval values, or None when no passage was used or the confidence was not the
    calibrated MiniLM one (the lexical fallback's numbers mean something else)."""
    scored = answer.get("confidence") or {}
    used_passages = any(source.get("kind") == "passage" for source in answer.get("sources") or [])
    if not used_passages or not str(scored.get("method", "")).startswith(confidence.METHOD):
        return None
    components = scored.get("components") or {}
    return {
        "relevance": float(components["relevance"]),
        "support": float(components["support"]),
        "evidence_answers_question": float(scored["evidence_answers_question"]),
    }


def observe(answer: dict[str, Any]) -> None:
    values = signal_values(answer)
    model = bundled_model() if values is not None else None
    if values is not None and model is not None:
        drift_monitor.observe(model, {signal: [value] for signal, value in values.items()})


def reference(values: dict[str, list[float]]) -> dict[str, Any]:
    """Ten bins on [0, 1] per signal (cosines below 0 are counted in the first bin, as live ones are)."""
    return {signal: reference_histogram(values[signal]) for signal in SIGNALS}
