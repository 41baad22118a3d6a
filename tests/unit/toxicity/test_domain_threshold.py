"""The domain-threshold bootstrap: a sharp cliff gives one threshold, a smooth slope several."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.toxicity.domain_threshold import bootstrap

from hygeia.toxicity.applicability import cv_domain


def _compounds(rng: np.random.Generator, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = (rng.random((len(signal), 12)) < 0.3).astype(float)
    return labels * signal[:, None] + rng.random(labels.shape), labels


def test_a_sharp_fall_in_ranking_gives_the_same_threshold_in_every_resample() -> None:
    rng = np.random.default_rng(0)
    similarity = rng.random(1500)
    scores, labels = _compounds(rng, np.where(similarity >= 0.5, 3.0, 0.0))  # random below 0.5
    assert cv_domain(similarity, scores, labels).threshold == 0.5
    spread = bootstrap(similarity, scores, labels, [[i] for i in range(1500)], resamples=10)
    assert spread["threshold_frequency"] == {"0.5": 1.0}


def test_a_gradual_fall_spreads_the_threshold_over_several_band_edges() -> None:
    rng = np.random.default_rng(1)
    similarity = rng.random(600)
    scores, labels = _compounds(rng, 0.2 + 1.2 * similarity)  # ranking improves smoothly with similarity
    spread = bootstrap(similarity, scores, labels, [[i] for i in range(600)], resamples=20)
    assert len(spread["threshold_frequency"]) >= 3
    assert max(spread["threshold_frequency"].values()) < 0.6
    assert sum(spread["threshold_frequency"].values()) == pytest.approx(1.0)
    assert all(se > 0 for se in spread["band_roc_auc_se"])
