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
    for method in ("isotonic", "platt"):
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


def test_single_class_falls_back_to_constant() -> None:
    calibrator = fit_calibrator(np.linspace(0, 1, 10), np.zeros(10), "platt")
    assert np.allclose(calibrator(np.array([0.1, 0.9])), 0.0)


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
