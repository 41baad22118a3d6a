"""The side-by-side benchmark compares both models on the same compounds only, with scikit-learn's
metrics and a paired bootstrap of the mean difference."""

from __future__ import annotations

import numpy as np
from benchmarks.toxicity.external import side_by_side
from sklearn.metrics import roc_auc_score

N, ENDPOINTS = 200, 12


def _made_up() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    labels = (rng.random((N, ENDPOINTS)) < 0.2).astype(float)
    labels[rng.random((N, ENDPOINTS)) < 0.1] = np.nan
    ours = np.clip(np.nan_to_num(labels) * 0.4 + rng.random((N, ENDPOINTS)) * 0.6, 0, 1)
    theirs = np.clip(np.nan_to_num(labels) * 0.2 + rng.random((N, ENDPOINTS)) * 0.8, 0, 1)
    return labels, ours, theirs


def test_only_compounds_both_scored_count_for_both():
    labels, ours, theirs = _made_up()
    theirs[:20] = np.nan  # ADMET-AI could not parse these
    rows = np.ones(N, dtype=bool)
    rows[-10:] = False  # e.g. training look-alikes
    report = side_by_side(labels, ours, theirs, rows)
    assert report["compounds"] == N - 30
    kept = slice(20, N - 10)
    tested = ~np.isnan(labels[kept, 0])
    y = labels[kept, 0][tested]
    assert report["endpoints"]["NR-AR"]["tested"] == tested.sum()
    ranked = report["endpoints"]["NR-AR"]
    assert ranked["hygeia"]["roc_auc"] == round(roc_auc_score(y, ours[kept, 0][tested]), 4)
    assert ranked["admet_ai"]["roc_auc"] == round(roc_auc_score(y, theirs[kept, 0][tested]), 4)


def test_the_difference_is_paired_and_its_interval_holds_the_point():
    labels, ours, theirs = _made_up()
    report = side_by_side(labels, ours, theirs, np.ones(N, dtype=bool))
    difference = report["mean_roc_auc_difference"]
    means = report["hygeia_mean"]["roc_auc"] - report["admet_ai_mean"]["roc_auc"]
    assert abs(difference["point"] - means) < 2e-4  # rank AUCs equal scikit-learn's (here rounded apart)
    assert difference["low"] < difference["point"] < difference["high"] and difference["low"] > 0
    same = side_by_side(labels, ours, ours.copy(), np.ones(N, dtype=bool))["mean_roc_auc_difference"]
    assert same == {"point": 0.0, "low": 0.0, "high": 0.0}
