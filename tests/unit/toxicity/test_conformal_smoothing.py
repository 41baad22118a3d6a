"""The smoothing benchmark's summary finds the validity report's own worst gaps (the smoothing itself is
tested in test_conformal)."""

from __future__ import annotations

import numpy as np
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
