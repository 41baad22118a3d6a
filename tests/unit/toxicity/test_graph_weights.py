"""The per-endpoint graph weight research: the nested search picks a weight per endpoint on the inner
folds only, and the report pairs each choice with the served weights, on made-up out-of-fold scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from benchmarks.toxicity import graph_weights
from benchmarks.toxicity.blending import nested_weights
from benchmarks.toxicity.label_imputation import seed_path

from hygeia.toxicity.graph_training import GRAPH_SEEDS
from hygeia.toxicity.members import SHIPPED_MEMBERS


def test_the_nested_search_weights_each_endpoint_by_what_ranks_it(made_up) -> None:  # type: ignore[no-untyped-def]
    labels, folds, scores = made_up
    base, added = scores(0.3), scores(0.0)
    added[:, 0] = np.nan_to_num(labels[:, 0]) * 0.9 + 0.05  # the added member ranks endpoint 0 perfectly
    blended, chosen = nested_weights(base, added, labels, folds, per_endpoint=True)
    assert chosen.shape == (5, 12)
    assert (chosen[:, 0] > 0.2).all() and (chosen[:, 1:] <= 0.2).mean() > 0.9
    np.testing.assert_allclose(
        blended[:, 0], (1 - chosen[folds, 0]) * base[:, 0] + chosen[folds, 0] * added[:, 0]
    )
    _, one = nested_weights(base, added, labels, folds, per_endpoint=False)
    assert (one == one[:, :1]).all()  # one weight per outer fold, shared by every endpoint


def test_the_report_pairs_each_weighting_with_the_served_one(tmp_path: Path, made_up) -> None:  # type: ignore[no-untyped-def]
    labels, folds, scores = made_up
    np.savez(
        tmp_path / "members.npz", labels=labels, folds=folds, **{m.name: scores(0.3) for m in SHIPPED_MEMBERS}
    )
    for seed in GRAPH_SEEDS:
        graph = scores(0.0)
        graph[:, 0] = scores(1.0)[:, 0]  # better than the blend on the first endpoint only
        np.save(seed_path(tmp_path / "graph.npy", seed), graph)
    result = graph_weights.report(tmp_path / "members.npz", tmp_path / "graph.npy", tmp_path / "networks")
    rows, first = result["rows"], result["endpoints"]["NR-AR"]
    assert rows["served"]["roc_auc_diff"] == 0.0
    assert rows["nested: one graph weight per endpoint"]["roc_auc_diff"] > 0
    assert first["graph member alone"] > first["served"] and first["graph alone minus served, roc_auc"] > 0
    assert result["endpoints"]["SR-p53"]["graph alone minus served, roc_auc"] < 0
    assert min(result["weights_per_endpoint_per_outer_fold"]["NR-AR"]) > 0.2
