"""Mondrian conformal sets: valid per class on exchangeable data, and the sets mean what they say."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.toxicity import conformal
from hygeia.toxicity.conformal import (
    EndpointConformal,
    MondrianConformal,
    card_category_edges,
    cross_conformal_sets,
    error_by_similarity,
    inside_domain,
    set_label,
    similarity_categories,
    smoothing_draws,
    training_category_edges,
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


def _domain_shifted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A third of the compounds lie out of the domain, where the model separates the classes less
    (as on remote scaffolds): class-only calibration is valid on average but not there."""
    rng = np.random.default_rng(seed)
    labels = (rng.uniform(size=n) < 0.1).astype(float)
    inside = rng.uniform(size=n) >= 1 / 3
    shift = np.where(inside, 0.35, 0.1)
    scores = np.clip(rng.normal(0.2 + shift * labels, 0.15), 0, 1)
    return scores, labels, inside


def _side_errors(sets: np.ndarray, labels: np.ndarray, side: np.ndarray) -> list[float]:
    return [float(1 - sets[side & (labels == c), c].mean()) for c in (0, 1)]


def test_each_domain_side_is_valid_only_when_calibrated_on_its_own() -> None:
    scores, labels, inside = _domain_shifted(12000, 6)
    folds = np.arange(12000) % 5
    class_only = cross_conformal_sets(scores[:, None], labels[:, None], folds, 0, 0.2)
    by_domain = cross_conformal_sets(scores[:, None], labels[:, None], folds, 0, 0.2, inside)
    assert _side_errors(class_only, labels, ~inside)[1] > 0.3  # remote actives missed far above ε
    for side in (inside, ~inside):
        assert all(abs(e - 0.2) < 0.04 for e in _side_errors(by_domain, labels, side))


def test_validity_report_gives_each_side_and_its_largest_deviation() -> None:
    scores, labels, inside = _domain_shifted(6000, 7)
    report = validity_report(scores[:, None], labels[:, None], np.arange(6000) % 5, ("X",), inside)
    level = report["0.2"]
    row = level["endpoints"]["X"]
    assert (
        set(row["in_domain"])
        == set(row["out_of_domain"])
        == {"error_inactive", "error_active", "single_label"}
    )
    assert level["max_abs_deviation_by_domain"] < 0.05
    assert row["out_of_domain"]["single_label"] < row["in_domain"]["single_label"]  # it says it cannot tell
    assert (
        "max_abs_deviation_by_domain"
        not in validity_report(scores[:, None], labels[:, None], np.arange(6000) % 5, ("X",))["0.2"]
    )


def test_a_query_is_judged_against_its_own_side() -> None:
    """Inside, actives score high; outside, they score like inactives: a middling score is a
    plausible active out of the domain but not in it."""
    inactive = np.full(50, 0.1)
    scores = np.concatenate([inactive, np.full(20, 0.9), inactive, np.full(20, 0.15)])
    labels = np.concatenate([np.zeros(50), np.ones(20), np.zeros(50), np.ones(20)])
    inside = np.arange(140) < 70
    model = MondrianConformal.fit(scores, labels, inside)
    sets = model.prediction_sets(np.array([0.3, 0.3]), np.array([True, False]), 0.2)
    assert not sets[0, 1] and sets[1, 1]


def test_a_model_stored_without_similarities_is_class_conditional_only() -> None:
    scores, labels = _scores(2000, 8)
    single = MondrianConformal.fit(scores, labels)
    assert len(single.categories) == 1
    probe = np.linspace(0, 1, 20)
    expected = EndpointConformal.fit(scores, labels).prediction_sets(probe, 0.2)
    for side in (np.ones(20, bool), np.zeros(20, bool)):
        assert np.array_equal(single.prediction_sets(probe, side, 0.2), expected)


def test_the_domain_side_includes_the_threshold() -> None:
    assert inside_domain(np.array([0.39, 0.4, 0.41], dtype=np.float32), 0.4).tolist() == [False, True, True]


def _small_category_errors(draws: bool, trials: int = 4000) -> float:
    """Error on the active class at ε = 0.2 with 11 calibration actives per trial: unsmoothed p-values
    come in steps of 1/12, so the set can only err at 2/12 (0.167); smoothed ones err at ε."""
    rng = np.random.default_rng(11)
    missed = 0
    for _ in range(trials):
        calibration = EndpointConformal(np.zeros(0), np.sort(rng.uniform(size=11)))
        query = rng.uniform(size=1)
        tau = rng.uniform(size=1) if draws else None
        missed += int(not calibration.prediction_sets(query, 0.2, tau)[0, 1])
    return missed / trials


def test_smoothed_p_values_err_at_epsilon_where_plain_ones_are_conservative() -> None:
    assert abs(_small_category_errors(draws=False) - 2 / 12) < 0.015
    assert abs(_small_category_errors(draws=True) - 0.2) < 0.015


def test_smoothing_counts_ties_by_the_draw() -> None:
    calibration = EndpointConformal(np.array([0.1, 0.5, 0.5, 0.9]), np.array([0.2, 0.5, 0.5, 0.8]))
    query, tau = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    p_inactive, p_active = calibration.p_values(query, tau)
    # one higher inactive (0.9) and two tied; one lower active (0.2) and two tied; the query itself ties too
    assert np.allclose(p_inactive, [1 / 5, 4 / 5]) and np.allclose(p_active, [1 / 5, 4 / 5])
    assert np.allclose(calibration.p_values(query)[0], 4 / 5)  # unsmoothed: every tie counts in full


def test_smoothing_draws_are_a_uniform_hash_of_the_fingerprint() -> None:
    rng = np.random.default_rng(12)
    bits = rng.uniform(size=(2000, 64)) < 0.2
    draws = smoothing_draws(bits, 12)
    assert draws.shape == (2000, 12) and (draws >= 0).all() and (draws < 1).all()
    assert np.array_equal(smoothing_draws(bits.astype(np.float32), 12), draws)  # bits, however stored
    assert np.array_equal(smoothing_draws(bits[::-1], 12), draws[::-1])  # a row's draw is its own
    assert abs(draws.mean() - 0.5) < 0.01 and abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 0.05
    flipped = bits.copy()
    flipped[:, 0] = ~flipped[:, 0]
    assert (smoothing_draws(flipped, 12) != draws).all()


def test_similarity_categories_count_the_edges_reached() -> None:
    similarity = np.array([0.2, 0.35, 0.44, 0.45, 0.7], dtype=np.float32)
    assert similarity_categories(similarity, (0.35, 0.45, 0.6)).tolist() == [0, 1, 1, 2, 3]
    sides = similarity_categories(similarity, (0.35,))
    assert sides.tolist() == inside_domain(similarity, 0.35).astype(int).tolist()


def test_the_threshold_alone_gives_the_domain_sides_of_earlier_models() -> None:
    """Cards before 2.13.0 name no edges: their categories are the two sides, as they were served."""
    scores, labels = _scores(3000, 12)
    similarity = np.random.default_rng(13).uniform(0.1, 0.9, size=3000)
    folds = np.arange(3000) % 5
    older = {"applicability_domain": {"threshold": 0.35}, "conformal": {"file": "conformal.npy"}}
    edges = card_category_edges(older)
    assert edges == (0.35,)
    category = similarity_categories(similarity, edges)
    for draws in (None, np.random.default_rng(14).uniform(size=(3000, 1))):
        by_side = cross_conformal_sets(
            scores[:, None], labels[:, None], folds, 0, 0.2, similarity >= 0.35, draws
        )
        by_category = cross_conformal_sets(scores[:, None], labels[:, None], folds, 0, 0.2, category, draws)
        assert np.array_equal(by_side, by_category)
    assert card_category_edges({**older, "conformal": {"category_edges": [0.35, 0.45, 0.6]}}) == (
        0.35,
        0.45,
        0.6,
    )


def test_a_category_without_calibration_compounds_keeps_both_labels() -> None:
    """No compound as near as the query was calibrated: nothing can be ruled out, at any ε."""
    scores, labels = _scores(500, 15)
    model = MondrianConformal.fit(scores, labels, np.zeros(500, int), count=3)
    sets = model.prediction_sets(np.array([0.0, 1.0]), np.array([2, 2]), 0.2)
    assert sets.all()


def test_the_report_judges_each_category_where_the_sets_are_banded() -> None:
    scores, labels = _scores(6000, 16)
    category = np.arange(6000) % 3
    folds = np.arange(6000) % 5
    inside = category > 0
    report = validity_report(scores[:, None], labels[:, None], folds, ("X",), inside, None, category)
    at_02 = report["0.2"]
    cells = at_02["endpoints"]["X"]["by_category"]
    assert len(cells) == 3
    sets = cross_conformal_sets(scores[:, None], labels[:, None], folds, 0, 0.2, category)
    covered = sets[np.arange(6000), labels.astype(int)]
    for k, cell in enumerate(cells):
        assert cell["error_active"] == round(float(1 - covered[(category == k) & (labels == 1)].mean()), 4)
    worst = max(abs(c[f"error_{n}"] - 0.2) for c in cells for n in ("inactive", "active"))
    assert at_02["max_abs_deviation_by_category"] == round(worst, 4)
    assert (
        "by_category"
        not in validity_report(scores[:, None], labels[:, None], folds, ("X",), inside)["0.2"]["endpoints"][
            "X"
        ]
    )


def test_training_bands_split_only_the_domain_each_run_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conformal, "CATEGORY_BAND_EDGES", (0.4, 0.5, 0.6))
    assert training_category_edges(0.35) == (0.35, 0.4, 0.5, 0.6)
    assert training_category_edges(0.4) == (0.4, 0.5, 0.6)
    assert training_category_edges(0.45) == (0.45, 0.5, 0.6)  # no band cut out of the domain
