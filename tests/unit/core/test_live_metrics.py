"""Live metrics on hand-checkable cases: values, intervals, and the 'not enough outcomes' floor."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from hygeia.core.live_metrics import binary_performance, expected_calibration_error, multiclass_performance


def test_binary_metrics_match_sklearn_and_carry_an_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 200), 0, 1)
    result = binary_performance("NR-AR", y.tolist(), p.tolist(), minimum=30, resamples=200)
    auc = result.metrics["roc_auc"]
    assert result.status == "ok" and auc.value == pytest.approx(roc_auc_score(y, p), abs=1e-4)
    assert auc.ci_low is not None and auc.ci_high is not None
    assert auc.ci_low < auc.value < auc.ci_high and auc.ci_high - auc.ci_low < 0.2
    again = binary_performance("NR-AR", y.tolist(), p.tolist(), minimum=30, resamples=200)
    assert again.metrics == result.metrics  # same outcomes, same report


def test_binary_refuses_to_score_too_few_or_one_sided_outcomes() -> None:
    few = binary_performance("NR-AR", [0, 1] * 5, [0.2, 0.8] * 5, minimum=30, resamples=50)
    assert few.status == "not enough outcomes yet (10 of 30)" and few.metrics == {}
    one_sided = binary_performance("NR-AR", [0] * 40, [0.1] * 40, minimum=30, resamples=50)
    assert one_sided.status == "needs both positive and negative outcomes"


def test_multiclass_balanced_accuracy_and_calibration() -> None:
    observed = ["mel", "mel", "nv", "nv", "nv", "nv"]
    answered = ["mel", "nv", "nv", "nv", "nv", "mel"]
    probabilities = (
        [{"mel": 0.9, "nv": 0.1}, {"mel": 0.4, "nv": 0.6}]
        + [{"mel": 0.2, "nv": 0.8}] * 3
        + [{"mel": 0.7, "nv": 0.3}]
    )
    result = multiclass_performance("diagnosis", observed, answered, probabilities, minimum=5, resamples=50)
    assert result.metrics["balanced_accuracy"].value == pytest.approx(
        balanced_accuracy_score(observed, answered)
    )
    assert result.counts == {"mel": 2, "nv": 4}
    brier = np.mean([0.01 + 0.01, 0.36 + 0.36, 0.04 + 0.04, 0.04 + 0.04, 0.04 + 0.04, 0.49 + 0.49])
    assert result.metrics["brier"].value == pytest.approx(brier, abs=1e-4)


def test_expected_calibration_error_is_the_weighted_gap() -> None:
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, False, True])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)


def test_fast_resample_statistics_equal_sklearn_with_ties() -> None:
    from sklearn.metrics import average_precision_score

    from hygeia.core.live_metrics import balanced_accuracy, rank_auc, step_average_precision

    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.integers(0, 2, 80)
        y[:2] = [0, 1]
        p = rng.integers(0, 10, 80) / 10  # many ties
        assert rank_auc(y, p) == pytest.approx(roc_auc_score(y, p))
        assert step_average_precision(y, p) == pytest.approx(average_precision_score(y, p))
        truth, answer = rng.integers(0, 4, 50), rng.integers(0, 5, 50)
        with warnings.catch_warnings():  # sklearn warns when answers hold a class the truth lacks
            warnings.simplefilter("ignore")
            expected = balanced_accuracy_score(truth, answer)
        assert balanced_accuracy(truth, answer, 5) == pytest.approx(expected)
