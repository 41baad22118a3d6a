"""The conformal benchmarks: the smoothing summary finds the validity report's own worst gaps (the
smoothing itself is tested in test_conformal), similarity-band categories do what they claim, and the
rule that picks them keeps to what it says."""

from __future__ import annotations

from typing import Any

import numpy as np
from benchmarks.toxicity.conformal_bands import category_sets, choose, confirm, judge, settle
from benchmarks.toxicity.conformal_smoothing import measured, summary

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import validity_report


def _two_sides(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """12 endpoints; a tenth of the compounds out of the domain."""
    rng = np.random.default_rng(seed)
    labels = (rng.uniform(size=(n, len(ENDPOINTS))) < 0.15).astype(float)
    scores = np.clip(rng.normal(0.2 + 0.3 * labels, 0.15), 0, 1)
    inside = rng.uniform(size=n) >= 0.1
    return scores, labels, np.arange(n) % 5, inside


def test_summary_finds_the_report_s_own_largest_gaps() -> None:
    scores, labels, folds, inside = _two_sides(3000, 0)
    report = validity_report(scores, labels, folds, ENDPOINTS, inside)
    result = summary(*measured(report))
    for level in ("0.1", "0.2"):
        assert result[level]["max_abs_deviation"] == report[level]["max_abs_deviation"]
        assert result[level]["max_abs_deviation_by_domain"] == report[level]["max_abs_deviation_by_domain"]
        assert result[level]["mean_single_label"] == report[level]["mean_single_label"]


def test_finer_bands_make_each_band_valid_where_the_side_is_only_valid_on_average() -> None:
    """In the domain the model separates near compounds better than borderline ones, so one category
    for the whole side over-covers the near ones and under-covers the borderline ones."""
    rng = np.random.default_rng(3)
    n = 12000
    similarity = rng.uniform(0.35, 1.0, size=n)
    labels = (rng.uniform(size=(n, len(ENDPOINTS))) < 0.2).astype(float)
    separation = np.where(similarity >= 0.6, 0.5, 0.1)[:, None]
    scores = rng.normal(separation * labels, 0.15)
    folds, draws = np.arange(n) % 5, rng.uniform(size=scores.shape)

    def worst_band_gap(category: np.ndarray) -> float:
        sets = category_sets(scores, labels, folds, category, draws, 0.2)
        return float(judge(sets, labels, similarity, 0.2)["worst_band_gap"])

    assert worst_band_gap(np.zeros(n, int)) > 0.05
    assert worst_band_gap((similarity >= 0.6).astype(int)) < 0.03


def _judged(class_gap: float, band_gap: float, single: float) -> dict[float, dict[str, float]]:
    cell = {"max_abs_deviation": class_gap, "worst_band_gap": band_gap, "mean_single_label": single}
    return {0.1: {**cell, "mean_single_label": single - 0.2}, 0.2: cell}


def test_the_rule_picks_the_most_even_bands_that_keep_each_class_valid() -> None:
    sides = (0.35,)
    results = {
        sides: _judged(0.012, 0.047, 0.894),
        (0.3, 0.35): _judged(0.030, 0.010, 0.880),  # the best bands, but one class 0.03 from ε
        (0.35, 0.6): _judged(0.015, 0.019, 0.870),
        (0.35, 0.45, 0.6): _judged(0.013, 0.018, 0.875),  # within the tie of the best: more informative
        (0.35, 0.5): _judged(0.010, 0.025, 0.890),
    }
    assert choose(results) == (0.35, 0.45, 0.6)
    assert choose({**results, (0.35, 0.45, 0.6): _judged(0.013, 0.018, 0.860)}) == (0.35, 0.6)


def test_the_rule_keeps_the_sides_when_no_bands_are_valid_or_they_cost_too_much() -> None:
    sides = (0.35,)
    too_uneven = {sides: _judged(0.012, 0.047, 0.894), (0.35, 0.5): _judged(0.010, 0.025, 0.890)}
    assert choose(too_uneven) == sides
    too_costly = {sides: _judged(0.012, 0.047, 0.894), (0.35, 0.5): _judged(0.010, 0.015, 0.860)}
    assert choose(too_costly) == sides


def _banded(class_gap: float, single: float, errors: dict[str, float]) -> dict[float, dict[str, Any]]:
    """Both levels alike: the bands' errors are offsets from ε."""
    return {
        level: {
            "max_abs_deviation": class_gap,
            "mean_single_label": single,
            "error_by_band": {name: {"labels": 5000, "error": level + e} for name, e in errors.items()},
        }
        for level in (0.1, 0.2)
    }


def test_the_second_rule_judges_the_in_domain_bands_only() -> None:
    out_of_domain_off = {"0.20-0.25": 0.037}
    sides = _banded(0.018, 0.884, {**out_of_domain_off, "0.40-0.45": 0.037, "0.60-1.00": -0.035})
    bands = _banded(0.018, 0.872, {**out_of_domain_off, "0.40-0.45": 0.001, "0.60-1.00": -0.0002})
    assert confirm({(0.4,): sides, (0.4, 0.45, 0.6): bands}, 0.4)
    still_uneven = _banded(0.018, 0.872, {"0.40-0.45": 0.025})
    assert not confirm({(0.4,): sides, (0.4, 0.45, 0.6): still_uneven}, 0.4)
    worse_per_class = _banded(0.025, 0.872, {"0.40-0.45": 0.001})
    assert not confirm({(0.4,): sides, (0.4, 0.45, 0.6): worse_per_class}, 0.4)
    too_costly = _banded(0.018, 0.850, {"0.40-0.45": 0.001})
    assert not confirm({(0.4,): sides, (0.4, 0.45, 0.6): too_costly}, 0.4)


def test_the_third_rule_judges_each_candidate_against_the_sides_and_picks_the_more_even() -> None:
    sides = _banded(0.027, 0.884, {"0.40-0.45": 0.037, "0.60-1.00": -0.035})
    two_edges = _banded(0.020, 0.872, {"0.40-0.45": 0.022, "0.60-1.00": 0.001})  # short of ±0.02, still cut
    three_edges = _banded(0.020, 0.870, {"0.40-0.45": 0.006, "0.50-0.60": 0.004, "0.60-1.00": 0.002})
    # threshold 0.4: the candidates are (0.4, 0.45, 0.6) and (0.4, 0.5, 0.6)
    results = {(0.4,): sides, (0.4, 0.45, 0.6): two_edges, (0.4, 0.5, 0.6): three_edges}
    assert settle(results, 0.4) == (0.4, 0.5, 0.6)
    assert settle({**results, (0.4, 0.5, 0.6): _banded(0.030, 0.870, {})}, 0.4) == (0.4, 0.45, 0.6)
    barely_better = _banded(0.020, 0.872, {"0.40-0.45": 0.030})  # 0.037 -> 0.030: a cut under 0.01
    assert settle({**results, (0.4, 0.45, 0.6): barely_better, (0.4, 0.5, 0.6): barely_better}, 0.4) == (0.4,)
    too_costly = _banded(0.020, 0.850, {"0.40-0.45": 0.001})
    assert settle({**results, (0.4, 0.45, 0.6): too_costly, (0.4, 0.5, 0.6): too_costly}, 0.4) == (0.4,)
    # threshold 0.45: (0.45, 0.6) and (0.45, 0.5, 0.6), no edge below it; the 0.40-0.45 band is outside
    shifted = {(0.45,): sides, (0.45, 0.6): two_edges, (0.45, 0.5, 0.6): three_edges}
    assert settle(shifted, 0.45) == (0.45, 0.6)
