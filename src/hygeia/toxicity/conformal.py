"""Mondrian (class-conditional) conformal prediction per endpoint, as in the cptox21 line of work.

Why conformal: a probability says nothing about how often the model is wrong for molecules unlike
its training data; a conformal prediction set does, at a stated error rate, with a guarantee that
holds per class (Mondrian), so the rare actives get the same error rate as the common inactives.

Calibration set: the scaffold-CV out-of-fold ensemble scores with their labels (never scores of
compounds a model was trained on). Non-conformity of class 1 is -score, of class 0 is +score; a
query's p-value for a class is the share of that class's calibration compounds at least as
non-conforming. The set at significance ε holds every class whose p-value exceeds ε: {active},
{inactive}, both (the model cannot tell at that error rate) or empty (unlike either class).
Validity is measured, not assumed: each fold is judged with a calibration set from the other folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

SIGNIFICANCE_LEVELS = (0.1, 0.2)
DEFAULT_SIGNIFICANCE = 0.2  # the level cptox21 reports; a 20 % error rate per class


@dataclass(frozen=True)
class EndpointConformal:
    """Sorted calibration scores of the inactive and the active compounds of one endpoint."""

    inactive: np.ndarray
    active: np.ndarray

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> EndpointConformal:
        tested = ~np.isnan(labels)
        s, y = scores[tested], labels[tested]
        return cls(np.sort(s[y == 0]), np.sort(s[y == 1]))

    def p_values(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(p inactive, p active): inactives conform by low scores, actives by high ones."""
        n0, n1 = len(self.inactive), len(self.active)
        at_least_as_high = n0 - np.searchsorted(self.inactive, scores, side="left")
        at_most_as_low = np.searchsorted(self.active, scores, side="right")
        return (at_least_as_high + 1) / (n0 + 1), (at_most_as_low + 1) / (n1 + 1)

    def prediction_sets(self, scores: np.ndarray, significance: float) -> np.ndarray:
        """(n, 2) bool: column 0 'inactive is in the set', column 1 'active is in the set'."""
        p0, p1 = self.p_values(scores)
        return np.column_stack([p0 > significance, p1 > significance])


def set_label(in_set: np.ndarray) -> str:
    """The API's words for a prediction set."""
    inactive, active = bool(in_set[0]), bool(in_set[1])
    if inactive and active:
        return "uncertain"
    if active:
        return "active"
    return "inactive" if inactive else "empty"


def fit_all(scores: np.ndarray, labels: np.ndarray) -> list[EndpointConformal]:
    return [EndpointConformal.fit(scores[:, j], labels[:, j]) for j in range(labels.shape[1])]


def cross_conformal_sets(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, j: int, significance: float
) -> np.ndarray:
    """Prediction sets for every compound, each fold calibrated on the other folds only."""
    sets = np.zeros((len(scores), 2), dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        model = EndpointConformal.fit(scores[~test, j], labels[~test, j])
        sets[test] = model.prediction_sets(scores[test, j], significance)
    return sets


def validity_report(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, endpoints: tuple[str, ...]
) -> dict[str, Any]:
    """Per endpoint and level: observed error rate per class (should be ≤ ε, within ±0.02), and
    efficiency: share of single-label sets (informative) and of 'uncertain' / empty sets."""
    report: dict[str, Any] = {}
    for level in SIGNIFICANCE_LEVELS:
        rows = {}
        for j, endpoint in enumerate(endpoints):
            tested = ~np.isnan(labels[:, j])
            sets = cross_conformal_sets(scores, labels, folds, j, level)[tested]
            y = labels[tested, j].astype(int)
            covered = sets[np.arange(len(y)), y]
            size = sets.sum(axis=1)
            rows[endpoint] = {
                "error_inactive": round(float(1 - covered[y == 0].mean()), 4),
                "error_active": round(float(1 - covered[y == 1].mean()), 4),
                "single_label": round(float((size == 1).mean()), 4),
                "uncertain": round(float((size == 2).mean()), 4),
                "empty": round(float((size == 0).mean()), 4),
            }
        errors = [v for r in rows.values() for v in (r["error_inactive"], r["error_active"])]
        report[str(level)] = {
            "endpoints": rows,
            "max_abs_deviation": round(float(np.max(np.abs(np.array(errors) - level))), 4),
            "mean_single_label": round(float(np.mean([r["single_label"] for r in rows.values()])), 4),
        }
    return report


def error_by_similarity(
    similarity: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    scores: np.ndarray,
    edges: tuple[float, ...],
) -> list[dict[str, Any]]:
    """Does distance to the training set predict error? Per similarity band: Brier score of the
    calibrated probabilities, and the conformal error rate and share of informative sets at the
    default level. Computed on out-of-fold predictions with each compound's own training folds."""
    sets = [
        cross_conformal_sets(scores, labels, folds, j, DEFAULT_SIGNIFICANCE) for j in range(labels.shape[1])
    ]
    rows = []
    for low, high in pairwise(edges):
        inside = (similarity >= low) & (similarity < high)
        squared, wrong, single, n = 0.0, 0, 0, 0
        for j in range(labels.shape[1]):
            rows_j = inside & ~np.isnan(labels[:, j])
            y = labels[rows_j, j].astype(int)
            squared += float(((probabilities[rows_j, j] - y) ** 2).sum())
            covered = sets[j][rows_j][np.arange(len(y)), y]
            wrong += int((~covered).sum())
            single += int((sets[j][rows_j].sum(axis=1) == 1).sum())
            n += len(y)
        rows.append(
            {
                "band": [low, min(high, 1.0)],
                "compounds": int(inside.sum()),
                "labels": n,
                "brier": round(squared / n, 4) if n else None,
                "conformal_error": round(wrong / n, 4) if n else None,
                "single_label": round(single / n, 4) if n else None,
            }
        )
    return rows
