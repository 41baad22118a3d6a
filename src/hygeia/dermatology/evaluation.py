"""Classification metrics that matter under class imbalance (numpy + scikit-learn only).

With naevi at ~72% of images, plain accuracy rewards always answering "nv"; balanced accuracy
(mean per-class recall), per-class recall/precision and macro AUC are reported instead, and the
same numbers are broken down by sex, age band and body site so a weak subgroup is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

from hygeia.dermatology.dataset import CLASSES, LesionImage, age_band

MIN_SUBGROUP = 20  # smaller groups are listed with their n but no metrics: too noisy to read


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    present = np.unique(labels)
    return float(np.mean([np.mean(predicted[labels == c] == c) for c in present]))


def macro_auc(labels: np.ndarray, probs: np.ndarray) -> float | None:
    """One-vs-rest AUC averaged over the classes present with both positives and negatives."""
    aucs = [
        roc_auc_score(labels == c, probs[:, c])
        for c in range(probs.shape[1])
        if 0 < np.sum(labels == c) < len(labels)
    ]
    return float(np.mean(aucs)) if aucs else None


def per_class(labels: np.ndarray, probs: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    predicted = probs.argmax(axis=1)
    idx = list(range(len(CLASSES)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=idx, zero_division=0
    )
    out: dict[str, dict[str, float | int | None]] = {}
    for c, name in enumerate(CLASSES):
        has_both = 0 < np.sum(labels == c) < len(labels)
        out[name] = {
            "recall": float(recall[c]),
            "precision": float(precision[c]),
            "f1": float(f1[c]),
            "auc": float(roc_auc_score(labels == c, probs[:, c])) if has_both else None,
            "support": int(support[c]),
        }
    return out


def summary(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Headline metrics for one split."""
    predicted = probs.argmax(axis=1)
    return {
        "n": len(labels),
        "balanced_accuracy": balanced_accuracy(labels, predicted),
        "accuracy": float(np.mean(predicted == labels)),
        "macro_auc": macro_auc(labels, probs),
        "macro_f1": float(np.mean([m["f1"] for m in per_class(labels, probs).values()])),
        "melanoma_recall": float(np.mean(predicted[labels == CLASSES.index("mel")] == CLASSES.index("mel")))
        if np.any(labels == CLASSES.index("mel"))
        else None,
    }


def full_report(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Summary, per-class table and confusion matrix (rows = truth, columns = prediction)."""
    matrix = confusion_matrix(labels, probs.argmax(axis=1), labels=list(range(len(CLASSES))))
    return {
        **summary(labels, probs),
        "per_class": per_class(labels, probs),
        "confusion_matrix": {"classes": list(CLASSES), "rows_truth_cols_predicted": matrix.tolist()},
    }


def bootstrap_interval(
    labels: np.ndarray, probs: np.ndarray, n_resamples: int = 1000, seed: int = 0
) -> dict[str, list[float]]:
    """95% percentile bootstrap intervals: a test split of ~900 images leaves real uncertainty."""
    rng = np.random.default_rng(seed)
    predicted = probs.argmax(axis=1)
    ba, auc = [], []
    for _ in range(n_resamples):
        sample = rng.integers(0, len(labels), len(labels))
        ba.append(balanced_accuracy(labels[sample], predicted[sample]))
        value = macro_auc(labels[sample], probs[sample])
        if value is not None:
            auc.append(value)
    return {
        "balanced_accuracy_95ci": [float(np.percentile(ba, 2.5)), float(np.percentile(ba, 97.5))],
        "macro_auc_95ci": [float(np.percentile(auc, 2.5)), float(np.percentile(auc, 97.5))],
    }


def _group_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    n = len(labels)
    counts = {name: int(np.sum(labels == c)) for c, name in enumerate(CLASSES) if np.any(labels == c)}
    if n < MIN_SUBGROUP:
        return {"n": n, "class_counts": counts, "note": f"fewer than {MIN_SUBGROUP} images: not scored"}
    return {**summary(labels, probs), "class_counts": counts}


def subgroup_report(
    records: Sequence[LesionImage],
    labels: np.ndarray,
    probs: np.ndarray,
    extra: dict[str, list[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics by sex, age band and localization (and `extra` attributes, e.g. the source dataset),
    each group with its size and class mix."""
    attributes = {
        "sex": [r.sex for r in records],
        "age_band": [age_band(r.age) for r in records],
        "localization": [r.localization for r in records],
        **(extra or {}),
    }
    report: dict[str, dict[str, Any]] = {}
    for attribute, values in attributes.items():
        column = np.asarray(values)
        report[attribute] = {
            str(group): _group_metrics(labels[column == group], probs[column == group])
            for group in sorted(set(values))
        }
    return report
