"""Blend weights chosen per side of the applicability domain, by nested CV on the other folds."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.toxicity import domain_blend
from benchmarks.toxicity.domain_blend import blend, mean_fold_auc, nested


def test_the_pair_weights_the_network_inside_the_trees_and_then_the_graph() -> None:
    trees, network, graph = np.full((2, 1), 0.1), np.full((2, 1), 0.5), np.full((2, 1), 0.9)
    assert np.allclose(blend(trees, network, graph, (0.0, 0.0)), 0.1)
    assert np.allclose(blend(trees, network, graph, (1.0, 0.0)), 0.5)
    assert np.allclose(blend(trees, network, graph, (0.25, 0.5)), 0.5 * (0.75 * 0.1 + 0.25 * 0.5) + 0.45)


def test_each_side_gets_the_member_that_ranks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domain_blend, "WEIGHTS", (0.0, 1.0))
    rng = np.random.default_rng(0)
    n = 600
    labels = rng.integers(0, 2, (n, 1)).astype(float)
    folds, inside = rng.integers(0, 5, n), rng.random(n) < 0.5
    noise = rng.normal(size=(3, n, 1))
    trees = noise[0]
    network = np.where(inside[:, None], labels + 0.3 * noise[1], noise[1])  # ranks only the near side
    graph = np.where(inside[:, None], noise[2], labels + 0.3 * noise[2])  # ranks only the far side
    one, _ = nested((trees, network, graph), labels, folds, np.zeros(n, dtype=int))
    per_side, chosen = nested((trees, network, graph), labels, folds, inside.astype(int))
    for far, near in chosen:  # sides in sorted order: 0 (out of the domain), 1
        assert far[1] == 1.0 and near == (1.0, 0.0)  # far: the graph member; near: the network
    assert mean_fold_auc(per_side, labels, folds) > 0.95 > mean_fold_auc(one, labels, folds)
