"""Per-endpoint, per-fold ranking metrics and their summary (mean and spread across scaffold folds).

The spread matters as much as the mean: scaffold folds differ in chemistry (one holds the 1,400
mono-substituted benzenes), and a model that is better on average but erratic is not better.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from hygeia.toxicity import ENDPOINTS


def fold_metrics(
    predictions: np.ndarray, labels: np.ndarray, folds: np.ndarray
) -> dict[str, dict[str, list[float]]]:
    """ROC-AUC and PR-AUC per endpoint per fold, on tested compounds only (untested are masked).

    A fold with no active (or no inactive) compound for an endpoint has no AUC and is left out of
    that endpoint's list rather than counted as a number.
    """
    result: dict[str, dict[str, list[float]]] = {}
    for j, endpoint in enumerate(ENDPOINTS):
        rocs, prs = [], []
        for fold in np.unique(folds):
            tested = (folds == fold) & ~np.isnan(labels[:, j])
            y = labels[tested, j]
            if y.min(initial=1) == y.max(initial=0):
                continue
            rocs.append(float(roc_auc_score(y, predictions[tested, j])))
            prs.append(float(average_precision_score(y, predictions[tested, j])))
        result[endpoint] = {"roc_auc": rocs, "pr_auc": prs}
    return result


def summarise(per_fold: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """Mean ± std (population std across folds) per endpoint, plus the mean over endpoints."""
    endpoints: dict[str, Any] = {}
    for endpoint, metrics in per_fold.items():
        endpoints[endpoint] = {
            name: {
                "mean": round(float(np.mean(values)), 4) if values else None,
                "std": round(float(np.std(values)), 4) if values else None,
                "folds": [round(v, 4) for v in values],
            }
            for name, values in metrics.items()
        }
    overall = {
        name: {
            "mean": round(
                float(np.mean([v for e in endpoints if (v := endpoints[e][name]["mean"]) is not None])), 4
            ),
            "std_of_fold_means": round(float(np.std(_fold_means(per_fold, name))), 4),
        }
        for name in ("roc_auc", "pr_auc")
    }
    return {"endpoints": endpoints, "mean_over_endpoints": overall}


def _fold_means(per_fold: dict[str, dict[str, list[float]]], metric: str) -> list[float]:
    """Mean over endpoints within each fold: the spread of the headline number across folds."""
    lengths = {len(m[metric]) for m in per_fold.values()}
    if len(lengths) != 1:  # some endpoint lacked a fold; fall back to what is comparable
        return [float(np.mean(m[metric])) for m in per_fold.values() if m[metric]]
    n = lengths.pop()
    return [float(np.mean([m[metric][k] for m in per_fold.values()])) for k in range(n)]


def masked_auc(
    predictions: np.ndarray, labels: np.ndarray, rows: Sequence[bool] | np.ndarray
) -> float | None:
    """Mean ROC-AUC over endpoints on a subset of rows; None when no endpoint has both classes."""
    rows = np.asarray(rows, dtype=bool)
    values = []
    for j in range(labels.shape[1]):
        tested = rows & ~np.isnan(labels[:, j])
        y = labels[tested, j]
        if 0 < y.sum() < len(y):
            values.append(roc_auc_score(y, predictions[tested, j]))
    return float(np.mean(values)) if values else None


BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def choose_blend(
    trees: np.ndarray, network: np.ndarray, labels: np.ndarray, folds: np.ndarray
) -> tuple[float, dict[str, float]]:
    """Network weight in the blend (1-w)·trees + w·network with the best mean scaffold-CV ROC-AUC.

    A coarse grid of five values, one weight for all endpoints: per-endpoint weights would be tuned
    on ~40 actives per fold and would mostly fit noise. Ties go to the smaller network weight.
    """
    scores = {}
    for weight in BLEND_WEIGHTS:
        blend = (1 - weight) * trees + weight * network
        scores[str(weight)] = summarise(fold_metrics(blend, labels, folds))["mean_over_endpoints"]["roc_auc"][
            "mean"
        ]
    best = max(BLEND_WEIGHTS, key=lambda w: (scores[str(w)], -w))
    return best, scores
