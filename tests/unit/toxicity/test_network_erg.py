"""The networks-reading-ErG research script's paired report, on made-up out-of-fold predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from benchmarks.toxicity.network_erg import OTHER_WEIGHTS, RELU, SNN, report


def test_the_report_pairs_networks_alone_and_in_the_blend_with_their_own_references(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, endpoints = 500, 12
    labels = rng.integers(0, 2, (n, endpoints)).astype(float)
    folds = np.arange(n) % 5

    def scores(signal: float) -> np.ndarray:
        return np.clip(labels * signal + rng.random((n, endpoints)), 1e-3, 1 - 1e-3) / 2

    np.savez(
        tmp_path / "members.npz",
        labels=labels,
        folds=folds,
        **{"2.10.0 boosters": scores(0.3), "2.6.0 boosters": scores(0.1)},
    )
    np.save(tmp_path / "graph.npy", scores(0.2))
    (tmp_path / "networks").mkdir()
    for name, signal in ((RELU, 0.1), (f"{RELU}_erg", 0.5), (SNN, 0.1), (f"{SNN}_erg", 0.1)):
        np.save(tmp_path / "networks" / f"{name}.npy", scores(signal))
    rows = report(tmp_path / "members.npz", tmp_path / "graph.npy", tmp_path / "networks")["rows"]
    assert rows[f"{RELU} alone"]["roc_auc_diff"] == 0.0
    assert rows[f"{RELU} + ErG alone"]["roc_auc_diff"] > 0.05  # the made-up better network wins alone
    assert rows["networks as shipped: in 2.10.0's blend"]["roc_auc_diff"] == 0.0
    assert rows["ReLU network reads ErG: in 2.10.0's blend"]["roc_auc_diff"] > 0
    assert rows["2.6.0 boosters alone, against 2.10.0's"]["roc_auc_diff"] < 0
    assert len([r for r in rows if "network weight" in r]) == len(OTHER_WEIGHTS) == 8
