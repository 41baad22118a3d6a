"""Soft labels for untested endpoints: read off a compound's other outcomes, from training rows only."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from hygeia.toxicity.label_imputation import MIN_OTHER_TESTED, endpoint_targets
from hygeia.toxicity.members import TUNED_PARAMS, MemberConfig, endpoint_rows, fit_endpoint

N_ENDPOINTS = 12


def _related_labels(n: int = 400, seed: int = 0) -> np.ndarray:
    """Endpoint 1 repeats endpoint 0 (an assay and its ligand-binding-domain version); the rest are
    independent coin flips. Every compound is tested everywhere until a test blanks a label."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, N_ENDPOINTS)) < 0.3).astype(np.float32)
    labels[:, 1] = labels[:, 0]
    return labels


def test_an_untested_endpoint_takes_its_related_assays_outcome_as_a_soft_label() -> None:
    labels = _related_labels()
    active, inactive = np.flatnonzero(labels[:, 0] == 1)[0], np.flatnonzero(labels[:, 0] == 0)[0]
    labels[[active, inactive], 1] = np.nan
    rows, targets = endpoint_targets(labels, np.arange(len(labels)), 1)
    soft = dict(zip(rows.tolist(), targets.tolist(), strict=True))
    assert soft[active] > 0.9 and soft[inactive] < 0.1
    tested = ~np.isnan(labels[:, 1])
    assert rows[: tested.sum()].tolist() == np.flatnonzero(tested).tolist()  # tested rows first, as given
    assert set(targets[: tested.sum()]) <= {0.0, 1.0}


def test_a_compound_tested_in_too_few_other_endpoints_gets_no_soft_label() -> None:
    labels = _related_labels()
    labels[5, 1] = np.nan
    labels[5, 2 : 2 + N_ENDPOINTS - 1 - (MIN_OTHER_TESTED - 1)] = np.nan  # MIN_OTHER_TESTED - 1 left
    assert (~np.isnan(np.delete(labels[5], 1))).sum() == MIN_OTHER_TESTED - 1
    rows, _ = endpoint_targets(labels, np.arange(len(labels)), 1)
    assert 5 not in rows


def test_rows_outside_the_training_rows_are_neither_labelled_nor_read() -> None:
    labels = _related_labels()
    labels[:40, 1] = np.nan
    train = np.arange(100, 400)
    rows, targets = endpoint_targets(labels, train, 1)
    assert set(rows.tolist()) <= set(train.tolist())
    scrambled = labels.copy()
    scrambled[:100] = np.random.default_rng(1).permutation(scrambled[:100])  # held-out labels change
    again_rows, again_targets = endpoint_targets(scrambled, train, 1)
    assert np.array_equal(rows, again_rows) and np.array_equal(targets, again_targets)


def test_an_imputing_member_fits_cross_entropy_on_the_soft_rows_and_a_plain_member_does_not() -> None:
    labels = _related_labels()
    labels[:30, 1] = np.nan
    imputing = MemberConfig("m", ("maccs",), TUNED_PARAMS, rounds=5, impute_untested=True)
    plain = MemberConfig("m", ("maccs",), TUNED_PARAMS, rounds=5)
    rows, targets = endpoint_rows(imputing, labels, np.arange(len(labels)), 1)
    assert len(rows) == len(labels) and not set(targets[-30:]) <= {0.0, 1.0}
    plain_rows, _ = endpoint_rows(plain, labels, np.arange(len(labels)), 1)
    assert len(plain_rows) == len(labels) - 30
    assert imputing.as_dict()["params"]["objective"] == "cross_entropy"
    assert plain.as_dict()["params"]["objective"] == "binary"
    features = np.column_stack([labels[:, 0], np.random.default_rng(2).random(len(labels))])
    booster = fit_endpoint(imputing, features[rows], targets, seed=0)
    assert isinstance(booster, lgb.Booster)
    assert booster.params["objective"] == "cross_entropy"
    predictions = booster.predict(features)
    assert ((predictions > 0) & (predictions < 1)).all()  # probabilities, as the binary objective gives
