"""Imbalance-aware metrics on hand-checked examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hygeia.dermatology.dataset import CLASSES, LesionImage
from hygeia.dermatology.evaluation import MIN_SUBGROUP, balanced_accuracy, full_report, subgroup_report


def one_hot(indices: list[int]) -> np.ndarray:
    return np.eye(len(CLASSES))[indices] * 0.9 + 0.1 / len(CLASSES)


def test_balanced_accuracy_ignores_class_frequency():
    labels = np.array([5] * 90 + [4] * 10)
    always_nv = np.full(100, 5)
    assert balanced_accuracy(labels, always_nv) == pytest.approx(0.5)  # plain accuracy would be 0.9


def test_full_report_per_class_and_confusion():
    labels = np.array([0, 0, 4, 4, 5, 5])
    probs = one_hot([0, 4, 4, 4, 5, 0])
    report = full_report(labels, probs)
    assert report["balanced_accuracy"] == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert report["per_class"]["mel"]["precision"] == pytest.approx(2 / 3)
    assert report["per_class"]["akiec"]["recall"] == pytest.approx(0.5)
    matrix = np.array(report["confusion_matrix"]["rows_truth_cols_predicted"])
    assert matrix.sum() == 6 and matrix[5, 0] == 1


def test_subgroups_report_size_and_skip_tiny_groups():
    n = MIN_SUBGROUP + 5
    records = [
        LesionImage(str(i), "nv", str(i), "histo", 50.0, "female" if i < n else "male", "back", Path("x"))
        for i in range(n + 3)
    ]
    labels = np.array([5] * (n + 3))
    report = subgroup_report(records, labels, one_hot([5] * (n + 3)))
    assert report["sex"]["female"]["n"] == n and "balanced_accuracy" in report["sex"]["female"]
    assert report["sex"]["male"]["n"] == 3 and "not scored" in report["sex"]["male"]["note"]
    assert set(report) == {"sex", "age_band", "localization"}
