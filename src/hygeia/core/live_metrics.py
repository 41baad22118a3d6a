"""Live performance from (prediction, outcome) pairs: ranking, accuracy and calibration with 95 % CIs.

Two families, chosen by the domain when it registers its outcome kind: `binary` (a probability per
label against an observed active/inactive, e.g. one Tox21 assay) and `multiclass` (the class
answered and the class probabilities against the observed class, e.g. a histopathology diagnosis).
Confidence intervals are percentile bootstraps over cases with a fixed seed, so the same outcomes
always give the same report; a resample that lacks a class it needs is skipped, not counted. The
statistics are computed with numpy over ranks (tests pin them to sklearn's values): sklearn's
per-call checks would make 500 resamples of 12 endpoints take seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import brier_score_loss

ECE_BINS = 10
SEED = 20261201
Statistic = Callable[[np.ndarray], float]  # indices of the cases in one resample -> value


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float | None
    ci_high: float | None


@dataclass
class LabelPerformance:
    """What one model version achieved on one label; `metrics` is empty while `status` says why."""

    label: str
    n: int
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Estimate] = field(default_factory=dict)


def bootstrap(statistic: Statistic, n: int, resamples: int, valid: Callable[[np.ndarray], bool]) -> Estimate:
    """The statistic on all cases with a 95 % percentile interval over `resamples` case resamples."""
    value = statistic(np.arange(n))
    rng = np.random.default_rng(SEED)
    draws = [statistic(idx) for idx in rng.integers(0, n, size=(resamples, n)) if valid(idx)]
    if len(draws) < max(10, resamples // 2):  # too few usable resamples to say anything about spread
        return Estimate(round(value, 4), None, None)
    low, high = np.percentile(draws, [2.5, 97.5])
    return Estimate(round(value, 4), round(float(low), 4), round(float(high), 4))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean gap between confidence and hit rate over equal-width confidence bins."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [
        abs(confidence[which == b].mean() - correct[which == b].mean()) * np.mean(which == b)
        for b in range(bins)
        if np.any(which == b)
    ]
    return float(np.sum(gaps))


def rank_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney U over tie-averaged ranks: sklearn's value, without its per-call
    validation cost, which would dominate hundreds of bootstrap resamples."""
    ranks = rankdata(p)
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def step_average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (sklearn's step definition, ties as one threshold), for bootstrap resamples."""
    order = np.argsort(-p, kind="mergesort")
    hits, ranked = y[order], p[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    true_positives = np.cumsum(hits)[last_of_tie]
    called = (np.arange(1, len(y) + 1))[last_of_tie]
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * true_positives / called))


def balanced_accuracy(truth: np.ndarray, answer: np.ndarray, n_classes: int) -> float:
    """Mean recall over the classes present in `truth` (integer codes), as sklearn computes it."""
    totals = np.bincount(truth, minlength=n_classes)
    hits = np.bincount(truth[truth == answer], minlength=n_classes)
    present = totals > 0
    return float(np.mean(hits[present] / totals[present]))


def binary_performance(
    label: str,
    observed: Sequence[int],
    probability: Sequence[float],
    minimum: int,
    resamples: int,
    calibrated: bool = True,
) -> LabelPerformance:
    """ROC-AUC and PR-AUC with CIs, Brier score and ECE of one label's probabilities; a score that is
    not a probability (`calibrated=False`, e.g. EB05) is judged by its ranking alone."""
    y = np.asarray(observed, dtype=int)
    p = np.asarray(probability, dtype=float)
    n, positives = len(y), int(y.sum())
    counts = {"positive": positives, "negative": n - positives}
    if n < minimum:
        return LabelPerformance(label, n, not_enough(n, minimum), counts)
    if positives in (0, n):
        return LabelPerformance(label, n, "needs both positive and negative outcomes", counts)

    def both_classes(idx: np.ndarray) -> bool:
        return 0 < y[idx].sum() < len(idx)

    metrics = {
        "roc_auc": bootstrap(lambda i: rank_auc(y[i], p[i]), n, resamples, both_classes),
        "pr_auc": bootstrap(lambda i: step_average_precision(y[i], p[i]), n, resamples, both_classes),
        "prevalence": Estimate(round(positives / n, 4), None, None),
    }
    if calibrated:
        metrics["brier"] = Estimate(round(float(brier_score_loss(y, p)), 4), None, None)
        metrics["ece"] = Estimate(
            round(expected_calibration_error(np.maximum(p, 1 - p), (p >= 0.5) == y), 4), None, None
        )
    return LabelPerformance(label, n, "ok", counts, metrics)


def multiclass_performance(
    label: str,
    observed: Sequence[str],
    answered: Sequence[str],
    probabilities: Sequence[dict[str, float]],
    minimum: int,
    resamples: int,
) -> LabelPerformance:
    """Balanced accuracy of the answered class with a CI; multiclass Brier and top-class ECE."""
    n = len(observed)
    counts = {c: list(observed).count(c) for c in sorted(set(observed))}
    if n < minimum:
        return LabelPerformance(label, n, not_enough(n, minimum), counts)
    classes = sorted({c for row in probabilities for c in row} | set(counts) | set(answered))
    truth = np.asarray([classes.index(c) for c in observed])
    answer = np.asarray([classes.index(c) for c in answered])
    matrix = np.asarray([[row.get(c, 0.0) for c in classes] for row in probabilities], dtype=float)
    onehot = np.eye(len(classes))[truth]
    top = matrix.argmax(axis=1)
    metrics = {
        "balanced_accuracy": bootstrap(
            lambda i: balanced_accuracy(truth[i], answer[i], len(classes)), n, resamples, lambda _i: True
        ),
        "accuracy": Estimate(round(float(np.mean(truth == answer)), 4), None, None),
        "brier": Estimate(round(float(np.mean(np.sum((matrix - onehot) ** 2, axis=1))), 4), None, None),
        "ece": Estimate(
            round(expected_calibration_error(matrix.max(axis=1), onehot[np.arange(n), top] == 1.0), 4),
            None,
            None,
        ),
    }
    return LabelPerformance(label, n, "ok", counts, metrics)


def not_enough(n: int, minimum: int) -> str:
    return f"not enough outcomes yet ({n} of {minimum})"
