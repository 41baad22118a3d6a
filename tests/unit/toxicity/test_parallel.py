"""Large batches fanned out over worker processes give exactly the sequential answer, in order."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.toxicity import parallel
from hygeia.toxicity.featurize import MACCSFeaturizer, MorganCountFeaturizer
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule
from hygeia.toxicity.predictor import prepare_all

SMILES = ["CCO", "C1CC", "[Na+].CC(=O)[O-]", "c1ccccc1O", "", "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1", "CCN"] * 3


def test_small_batches_and_daemons_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.worker_count(10) == 0
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 5)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 1)
    assert parallel.worker_count(10) == 0  # one core: nothing to gain


def test_parallel_matches_sequential_in_order() -> None:
    sequential = prepare_all(SMILES)
    fanned = parallel.prepare_parallel(SMILES, workers=2)
    assert [type(a) for a in fanned] == [type(b) for b in sequential]
    for a, b in zip(fanned, sequential, strict=True):
        if isinstance(a, StandardisedMolecule):
            assert isinstance(b, StandardisedMolecule) and a.smiles == b.smiles
        else:
            assert isinstance(a, MoleculeRejection) and isinstance(b, MoleculeRejection) and a.code == b.code
    mols = [m.mol for m in sequential if isinstance(m, StandardisedMolecule)]
    parts = {"morgan": MorganCountFeaturizer(), "maccs": MACCSFeaturizer()}
    matrices = parallel.featurize_parallel(parts, mols, workers=2)
    for key, featurizer in parts.items():
        expected = np.vstack([featurizer(m) for m in mols])
        assert np.array_equal(matrices[key], expected)
