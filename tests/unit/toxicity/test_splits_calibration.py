"""Scaffold folds never split a scaffold; calibrators survive JSON; ECE and AD threshold rules."""

from __future__ import annotations

import json

import numpy as np
from rdkit import Chem

from hygeia.toxicity.applicability import choose_threshold
from hygeia.toxicity.calibration import (
    Calibrator,
    choose_calibrator,
    expected_calibration_error,
    fit_calibrator,
)
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups, scaffold_key

SMILES = [
    "c1ccccc1C",
    "c1ccccc1CC",
    "c1ccccc1O",
    "C1CCCCC1N",
    "C1CCCCC1O",
    "c1ccncc1C",
    "c1ccncc1Cl",
    "CCO",
    "CCCC",
    "CC(=O)O",
    "c1ccc2ccccc2c1",
    "c1ccc2ccccc2c1O",
]


def test_folds_keep_scaffolds_together_and_are_balanced() -> None:
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    groups = scaffold_groups(mols)
    folds = balanced_scaffold_folds(groups, 3, seed=1)
    for group in groups:
        assert len({int(folds[i]) for i in group}) == 1
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 2
    assert np.array_equal(folds, balanced_scaffold_folds(groups, 3, seed=1))  # deterministic


def test_acyclic_molecules_are_their_own_group() -> None:
    assert scaffold_key(Chem.MolFromSmiles("CCO")) != scaffold_key(Chem.MolFromSmiles("CCCC"))
    assert scaffold_key(Chem.MolFromSmiles("c1ccccc1C")) == scaffold_key(Chem.MolFromSmiles("c1ccccc1O"))


def test_calibrators_round_trip_through_json() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=500)
    labels = (rng.uniform(size=500) < scores**2).astype(float)
    for method in ("platt", "beta"):
        calibrator = fit_calibrator(scores, labels, method)
        restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.as_dict())))
        assert np.allclose(restored(scores), calibrator(scores))
        assert ((restored(scores) >= 0) & (restored(scores) <= 1)).all()


def test_calibration_reduces_error_on_miscalibrated_scores() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(size=3000)
    labels = (rng.uniform(size=3000) < truth).astype(float)
    scores = truth**3  # systematically too low
    folds = np.arange(3000) % 5
    calibrator, report = choose_calibrator(scores, labels, folds)
    assert report["ece_calibrated_cross_fitted"] < report["ece_uncalibrated"]
    assert expected_calibration_error(calibrator(scores), labels) < 0.05


def test_single_class_shifts_towards_its_rate_without_tying() -> None:
    calibrator = fit_calibrator(np.linspace(0.01, 0.99, 10), np.zeros(10), "beta")
    out = calibrator(np.array([0.1, 0.5, 0.9]))
    assert (out < 0.01).all()
    assert (np.diff(out) > 0).all()


def test_every_fitted_calibrator_keeps_hundreds_of_scores_distinct() -> None:
    """The 1.0.0 isotonic maps tied ~550 molecules to ~21 values; no fitted map may do that."""
    rng = np.random.default_rng(2)
    scores = rng.beta(0.5, 6.0, size=4000)
    labels = (rng.uniform(size=4000) < np.sqrt(scores)).astype(float)
    folds = np.arange(4000) % 5
    calibrator, _ = choose_calibrator(scores, labels, folds)
    probe = np.sort(rng.beta(0.5, 6.0, size=400))
    out = calibrator(probe)
    assert np.unique(out).size == np.unique(probe).size
    assert (np.diff(out) > 0).all()
    for method in ("platt", "beta"):
        assert (np.diff(fit_calibrator(scores, labels, method)(probe)) > 0).all()


def test_isotonic_is_only_loadable_not_fitted() -> None:
    legacy = Calibrator.from_dict({"method": "isotonic", "params": {"x": [0.0, 1.0], "y": [0.1, 0.9]}})
    assert np.allclose(legacy(np.array([0.5])), 0.5)
    try:
        fit_calibrator(np.linspace(0, 1, 20), np.arange(20) % 2, "isotonic")
    except ValueError:
        return
    raise AssertionError("isotonic calibration must no longer be fitted")


def test_threshold_is_top_of_the_worst_band() -> None:
    table = [
        {"band": [0.0, 0.2], "fraction": 0.01, "roc_auc": 0.5},  # too small to judge
        {"band": [0.2, 0.3], "fraction": 0.2, "roc_auc": 0.70},
        {"band": [0.3, 0.4], "fraction": 0.2, "roc_auc": 0.74},
        {"band": [0.4, 1.0], "fraction": 0.59, "roc_auc": 0.84},
    ]
    threshold, rule = choose_threshold(table, overall_auc=0.80)
    assert threshold == 0.4
    assert "0.05" in rule
