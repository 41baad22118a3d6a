"""The forest-member and graph-member-with-ErG research scripts' paired reports, on made-up
out-of-fold predictions, and the forest's LightGBM settings on a small fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from benchmarks.toxicity import forest_member, graph_erg

from hygeia.toxicity.members import SHIPPED_MEMBERS, fit_endpoint


def test_the_forest_report_pairs_each_placement_with_its_reference(tmp_path: Path, made_up) -> None:  # type: ignore[no-untyped-def]
    labels, folds, scores = made_up
    boosters = {m.name: scores(0.3) for m in SHIPPED_MEMBERS}
    forests = {c.name: scores(s) for c, s in zip(forest_member.FORESTS, (0.9, 0.0), strict=True)}
    np.savez(tmp_path / "members.npz", labels=labels, folds=folds, **boosters, **forests)
    np.save(tmp_path / "graph.npy", scores(0.2))
    result = forest_member.report(tmp_path / "members.npz", tmp_path / "graph.npy", tmp_path / "networks")
    rows = result["rows"]
    strong, useless = (c.name for c in forest_member.FORESTS)
    assert rows["2.10.0's recipe"]["roc_auc_diff"] == 0.0
    assert rows[f"{strong} alone, against the boosters"]["roc_auc_diff"] > 0.05
    assert rows[f"{strong} at its own weight 0.2"]["roc_auc_diff"] > 0
    assert rows[f"{useless} as a fourth tree member: in the blend"]["roc_auc_diff"] < 0
    correlation = result["rank_correlation"]
    assert (
        correlation[f"{strong} with the boosters' average"]
        > correlation[f"{useless} with the boosters' average"]
    )


def test_the_forest_settings_grow_a_random_forest(made_up) -> None:  # type: ignore[no-untyped-def]
    """LightGBM's rf mode refuses settings without bagging; these train, average their trees and rank."""
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    x = rng.random((400, 20)) + y[:, None] * np.r_[1.0, np.zeros(19)]
    config = forest_member.FORESTS[0]
    forest = fit_endpoint(config, x, y.astype(float), seed=0)
    assert forest.num_trees() == config.rounds
    predictions = forest.predict(x)
    assert ((predictions > 0) & (predictions < 1)).all()
    assert predictions[y].mean() > predictions[~y].mean() + 0.2


def test_the_graph_erg_report_reads_the_second_seed_when_it_is_there(tmp_path: Path, made_up) -> None:  # type: ignore[no-untyped-def]
    labels, folds, scores = made_up
    np.savez(
        tmp_path / "members.npz", labels=labels, folds=folds, **{m.name: scores(0.3) for m in SHIPPED_MEMBERS}
    )
    for name, signal in (("graph", 0.1), ("graph-erg", 0.4)):
        np.save(tmp_path / f"{name}.npy", scores(signal))
    paths = (
        tmp_path / "members.npz",
        tmp_path / "graph.npy",
        tmp_path / "graph-erg.npy",
        tmp_path / "networks",
    )
    rows = graph_erg.report(*paths)["rows"]
    assert rows["graph member + ErG alone"]["roc_auc_diff"] > 0.05
    assert rows["graph member + ErG in 2.10.0's blend"]["roc_auc_diff"] > 0
    assert not any(name.startswith("seed 1") for name in rows)
    for name, signal in (("graph-seed1", 0.1), ("graph-erg-seed1", 0.0)):
        np.save(tmp_path / f"{name}.npy", scores(signal))
    rows = graph_erg.report(*paths)["rows"]
    assert rows["seed 1: graph member + ErG alone"]["roc_auc_diff"] < 0  # the second seed's made-up loss
    assert rows["seed 1: graph member + ErG in the blend, against seed 1's recipe"]["roc_auc_diff"] < 0
