"""The descriptor-family research script: its feature blocks and its paired report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from benchmarks.toxicity.extra_descriptors import FAMILIES, VARIANTS, family_matrix, report, without_part
from rdkit import Chem

from hygeia.toxicity.members import SHIPPED_MEMBERS


def test_each_family_gives_its_fixed_width_for_every_molecule() -> None:
    mols = [Chem.MolFromSmiles(s) for s in ("c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCO")]
    widths = {family: family_matrix(mols, family).shape for family in FAMILIES}
    assert widths == {"autocorr2d": (3, 192), "mqn": (3, 42), "erg": (3, 315)}


def test_the_report_pairs_every_variant_with_the_reference_fold_by_fold(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, endpoints = 400, 12
    labels = rng.integers(0, 2, (n, endpoints)).astype(float)
    folds = np.arange(n) % 5
    noise = rng.random((len(VARIANTS), n, endpoints))
    stored = {name: labels * (0.1 * k) + noise[k] for k, name in enumerate(VARIANTS)}  # later: better
    np.savez(tmp_path / "members.npz", labels=labels, folds=folds, **stored)
    for name in ("graph", "network"):
        np.save(tmp_path / f"{name}.npy", rng.random((n, endpoints)))
    rows = report(tmp_path / "members.npz", tmp_path / "graph.npy", tmp_path / "network.npy")["rows"]
    reference, best = next(iter(VARIANTS)), list(VARIANTS)[-1]
    assert rows[f"{reference}: boosters alone"]["roc_auc_diff"] == 0.0
    assert rows[f"{reference}: in 2.6.0's blend"]["roc_auc_diff"] == 0.0
    assert rows[f"{best}: boosters alone"]["roc_auc_diff"] > 0.1
    alone, blended = rows[f"{best}: boosters alone"], rows[f"{best}: in 2.6.0's blend"]
    assert 0 < blended["roc_auc_diff"] < alone["roc_auc_diff"]


def test_the_reference_boosters_are_2_6_0s_whatever_the_shipped_ones_read_now() -> None:
    """Since 2.10.0 the shipped members read ErG; the reference must not, or '+ ErG' reads it twice."""
    reference = [without_part(m, "erg") for m in SHIPPED_MEMBERS]
    assert [m.features for m in reference] == [
        ("morgan_count", "maccs", "rdkit_2d"),
        ("morgan_count", "maccs", "rdkit_2d"),
        ("atompair_count", "rdkit_2d"),
    ]
    shipped = {m.name: m for m in SHIPPED_MEMBERS}
    assert all(m.params == shipped[m.name].params and m.rounds == shipped[m.name].rounds for m in reference)
