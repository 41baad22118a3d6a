"""Mondrian conformal sets: valid per class on exchangeable data, and the sets mean what they say."""

from __future__ import annotations

import numpy as np

from hygeia.toxicity.conformal import (
    EndpointConformal,
    cross_conformal_sets,
    error_by_similarity,
    set_label,
    validity_report,
)


def _scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Imbalanced classes (10 % active) with overlapping score distributions, like a Tox21 assay."""
    rng = np.random.default_rng(seed)
    labels = (rng.uniform(size=n) < 0.1).astype(float)
    scores = np.clip(rng.normal(0.2 + 0.3 * labels, 0.15), 0, 1)
    return scores, labels


def test_error_rate_per_class_is_near_the_significance() -> None:
    scores, labels = _scores(6000, 0)
    folds = np.arange(6000) % 5
    for level in (0.1, 0.2):
        sets = cross_conformal_sets(scores[:, None], labels[:, None], folds, 0, level)
        for cls in (0, 1):
            errors = 1 - sets[labels == cls, cls].mean()
            assert abs(errors - level) < 0.03, (level, cls, errors)


def test_an_uninformative_model_is_still_valid_but_uncertain() -> None:
    rng = np.random.default_rng(1)
    labels = (rng.uniform(size=3000) < 0.1).astype(float)
    scores = rng.uniform(size=3000)  # no signal at all
    report = validity_report(scores[:, None], labels[:, None], np.arange(3000) % 5, ("X",))
    row = report["0.2"]["endpoints"]["X"]
    assert abs(row["error_active"] - 0.2) < 0.05 and abs(row["error_inactive"] - 0.2) < 0.05
    assert row["uncertain"] > 0.5  # it cannot tell, and says so


def test_extreme_scores_get_single_labels() -> None:
    scores, labels = _scores(2000, 2)
    model = EndpointConformal.fit(scores, labels)
    sets = model.prediction_sets(np.array([0.0, 1.0]), 0.2)
    assert set_label(sets[0]) == "inactive"
    assert set_label(sets[1]) == "active"
    assert set_label(np.array([True, True])) == "uncertain"
    assert set_label(np.array([False, False])) == "empty"


def test_p_values_move_with_the_score() -> None:
    scores, labels = _scores(2000, 3)
    p_inactive, p_active = EndpointConformal.fit(scores, labels).p_values(np.linspace(0, 1, 50))
    assert (np.diff(p_inactive) <= 0).all() and (np.diff(p_active) >= 0).all()


def test_untested_labels_are_left_out_of_calibration() -> None:
    scores, labels = _scores(500, 4)
    labels[:100] = np.nan
    model = EndpointConformal.fit(scores, labels)
    assert len(model.inactive) + len(model.active) == 400


def test_error_by_similarity_reports_each_band() -> None:
    scores, labels = _scores(1000, 5)
    similarity = np.linspace(0, 1, 1000)
    rows = error_by_similarity(
        similarity, scores[:, None], labels[:, None], np.arange(1000) % 5, scores[:, None], (0.0, 0.5, 1.0001)
    )
    assert [r["compounds"] for r in rows] == [500, 500]
    assert all(0 <= r["brier"] <= 1 and 0 <= r["conformal_error"] <= 1 for r in rows)
