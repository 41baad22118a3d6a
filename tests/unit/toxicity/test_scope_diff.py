"""Models of two chemistry scopes are compared only on compounds both kept with the same labels."""

from __future__ import annotations

import numpy as np
from benchmarks.toxicity.scope_diff import mean_metrics, shared_compounds

NAN = np.nan


def test_only_compounds_both_kept_with_the_same_labels_are_shared() -> None:
    reference = (
        {"CCO": 0, "CC(=O)O": 1, "c1ccccc1": 2},  # acetic acid stood for cadmium acetate's rows too
        np.zeros((3, 2)),
        np.array([[0, NAN], [1, 0], [0, 1]]),
        "largest-fragment-v1",
    )
    candidate = (
        {"c1ccccc1": 0, "CC(=O)O": 1, "CCO": 2, "CCN": 3},
        np.zeros((4, 2)),
        np.array([[0, 1], [0, 0], [0, NAN], [1, 1]]),
        "organic-v2",
    )
    ref_index, new_index = shared_compounds(reference, candidate)
    assert ref_index.tolist() == [0, 2] and new_index.tolist() == [2, 0]  # ethanol and benzene


def test_mean_metrics_read_each_endpoint_on_its_tested_compounds() -> None:
    labels = np.array([[1, NAN], [0, 1], [0, 0], [1, NAN]])
    scores = np.array([[0.9, 0.0], [0.1, 0.2], [0.3, 0.8], [0.2, 0.5]])
    roc, pr = mean_metrics(scores, labels)
    assert roc == (0.75 + 0.0) / 2  # endpoint 1: one active of two tested, ranked below the inactive
    assert pr == (((1 / 1) + (2 / 3)) / 2 + 0.5) / 2
