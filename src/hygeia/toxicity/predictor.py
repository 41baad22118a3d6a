"""Row-preserving prediction: every input gets exactly one result, in input order, either with
probabilities or with the reason it could not be scored. Valid rows are never lost to a bad neighbour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import set_label
from hygeia.toxicity.model import Predictions, ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule
from hygeia.toxicity.parallel import (
    CHUNK,
    Item,
    Prepared,
    featurize_prepared,
    prepare_and_featurize,
    prepare_one,
    worker_count,
)
from hygeia.toxicity.tested_records import refusal

Progress = Callable[[int, int], None]
# An assay is called active when its calibrated probability is at least this: the model then thinks
# activity more likely than not. Tox21 hit rates are 2-16 %, so such calls are few and meaningful.
ACTIVE_THRESHOLD = 0.5
OVERALL_RULE = f"assays with calibrated probability >= {ACTIVE_THRESHOLD}"


@dataclass
class OverallCall:
    """Per-molecule summary across the 12 assays."""

    active_assays: list[str]
    n_active: int
    highest_risk_assay: str
    highest_probability: float
    rule: str = OVERALL_RULE


def overall_call(probabilities: dict[str, float]) -> OverallCall:
    active = [e for e in ENDPOINTS if probabilities[e] >= ACTIVE_THRESHOLD]
    top = max(ENDPOINTS, key=lambda e: probabilities[e])
    return OverallCall(active, len(active), top, probabilities[top])


@dataclass
class RowPrediction:
    smiles: str  # as given by the caller
    standardised_smiles: str | None = None
    probabilities: dict[str, float] | None = None
    nearest_similarity: float | None = None
    in_domain: bool | None = None
    domain_cv_roc_auc: float | None = None  # the card's scaffold-CV ROC-AUC at this similarity
    prediction_sets: dict[str, str] | None = None  # endpoint -> active / inactive / uncertain / empty
    overall: OverallCall | None = None
    error_code: str | None = None
    error: str | None = None
    tox21_record: dict[str, Any] | None = None  # Tox21's record of a compound outside the model's chemistry

    @classmethod
    def rejected(cls, smiles: str, rejection: MoleculeRejection) -> RowPrediction:
        error, record = refusal(smiles, rejection)
        return cls(smiles, error_code=rejection.code, error=error, tox21_record=record)


def prepare_all(items: Sequence[Item]) -> list[Prepared]:
    """SMILES text, parsed molecules (SDF records) or upstream read errors, standardised in order."""
    return [prepare_one(item) for item in items]


def _fill(rows: Sequence[RowPrediction], prepared: Sequence[Prepared], scored: Predictions) -> None:
    """Write one chunk's predictions into its rows; `scored` holds the valid rows only, in order."""
    valid = [
        (row, item)
        for row, item in zip(rows, prepared, strict=True)
        if isinstance(item, StandardisedMolecule)
    ]
    for k, (row, item) in enumerate(valid):
        row.standardised_smiles = item.smiles
        row.probabilities = {e: round(float(scored.probabilities[k, j]), 4) for j, e in enumerate(ENDPOINTS)}
        row.nearest_similarity = round(float(scored.nearest_similarity[k]), 4)
        row.in_domain = bool(scored.in_domain[k])
        band_auc = math.nan if scored.cv_roc_auc is None else float(scored.cv_roc_auc[k])
        row.domain_cv_roc_auc = None if math.isnan(band_auc) else band_auc
        row.overall = overall_call(row.probabilities)
        if scored.prediction_sets is not None:
            row.prediction_sets = {
                e: set_label(scored.prediction_sets[k, j]) for j, e in enumerate(ENDPOINTS)
            }


def _rows(given: Sequence[str], prepared: Sequence[Prepared]) -> list[RowPrediction]:
    return [
        RowPrediction.rejected(text, item) if isinstance(item, MoleculeRejection) else RowPrediction(text)
        for text, item in zip(given, prepared, strict=True)
    ]


def predict_prepared(
    model: ToxicityModel, given: Sequence[str], prepared: Sequence[Prepared]
) -> list[RowPrediction]:
    """Score already standardised molecules and put each result back at its input position."""
    results = _rows(given, prepared)
    for start in range(0, len(prepared), CHUNK):
        chunk = prepared[start : start + CHUNK]
        features = featurize_prepared(model.feature_parts, chunk)
        _fill(results[start : start + CHUNK], chunk, model.score(features))
    return results


def score_chunks(
    model: ToxicityModel, items: Sequence[Item], workers: int | None = None
) -> Iterator[tuple[int, list[Prepared], Predictions]]:
    """(start, standardised chunk, the model's unrounded outputs for its valid rows), in input order."""
    chosen = worker_count(len(items)) if workers is None else workers
    for start, prepared, features in prepare_and_featurize(model.feature_parts, items, chosen):
        yield start, prepared, model.score(features)


def predict_items(
    model: ToxicityModel,
    given: Sequence[str],
    items: Sequence[Item],
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[RowPrediction]:
    """The batch entry point: standardise, featurise and score chunk by chunk (in worker processes
    for large batches, see `parallel.py`; `workers` overrides that choice, 0 = this process);
    one result per input, in input order."""
    results: list[RowPrediction] = []
    for start, prepared, scored in score_chunks(model, items, workers):
        chunk = _rows(given[start : start + len(prepared)], prepared)
        _fill(chunk, prepared, scored)
        results.extend(chunk)
        if progress is not None:
            progress(len(results), len(items))
    return results


def predict_smiles(
    model: ToxicityModel, smiles: Sequence[str], progress: Progress | None = None
) -> list[RowPrediction]:
    return predict_items(model, list(smiles), list(smiles), progress)
