"""Large batches fanned out over worker processes give exactly the sequential answer, in order."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hygeia.toxicity import parallel, predictor
from hygeia.toxicity.featurize import MACCSFeaturizer, MorganCountFeaturizer, RDKitDescriptorFeaturizer
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule

SMILES = ["CCO", "C1CC", "[Na+].CC(=O)[O-]", "c1ccccc1O", "", "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1", "CCN"] * 3


def test_small_batches_and_daemons_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.worker_count(10) == 0
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 5)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 1)
    assert parallel.worker_count(10) == 0  # one core: nothing to gain


def _collect(
    chunks: list[parallel.Chunk],
) -> tuple[list[int], list[parallel.Prepared], dict[str, np.ndarray]]:
    starts = [start for start, _, _ in chunks]
    rows = [row for _, prepared, _ in chunks for row in prepared]
    keys = chunks[0][2].keys()
    return starts, rows, {k: np.vstack([features[k] for _, _, features in chunks]) for k in keys}


def test_workers_match_this_process_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 4)  # several chunks, more than the in-flight window
    parts = {
        "morgan": MorganCountFeaturizer(),
        "maccs": MACCSFeaturizer(),
        "desc": RDKitDescriptorFeaturizer(),
    }
    here = _collect(list(parallel.prepare_and_featurize(parts, SMILES, workers=0)))
    fanned = _collect(list(parallel.prepare_and_featurize(parts, SMILES, workers=2)))
    assert here[0] == fanned[0] == list(range(0, len(SMILES), 4))
    for a, b in zip(fanned[1], here[1], strict=True):
        if isinstance(a, StandardisedMolecule):
            assert isinstance(b, StandardisedMolecule) and a.smiles == b.smiles
        else:
            assert isinstance(a, MoleculeRejection) and isinstance(b, MoleculeRejection) and a.code == b.code
    n_valid = sum(isinstance(row, StandardisedMolecule) for row in here[1])
    for key in parts:
        assert fanned[2][key].shape[0] == n_valid
        assert np.array_equal(fanned[2][key], here[2][key], equal_nan=True)


def test_fanned_out_batch_predictions_equal_in_process_ones(
    shipped_model: ToxicityModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole batch path (standardise, featurise, score, rows back in order) through worker processes."""
    sequential = predictor.predict_items(shipped_model, SMILES, SMILES)
    monkeypatch.setattr(predictor, "worker_count", lambda n: 2)
    monkeypatch.setattr(parallel, "CHUNK", 5)
    ticks: list[tuple[int, int]] = []
    fanned = predictor.predict_items(
        shipped_model, SMILES, SMILES, lambda done, total: ticks.append((done, total))
    )
    assert fanned == sequential
    assert [r.smiles for r in fanned] == SMILES
    assert ticks[-1] == (len(SMILES), len(SMILES)) and len(ticks) == 5


def test_batches_just_over_the_threshold_are_cut_finer() -> None:
    """Four tasks per worker for a batch of a few thousand; long inputs keep CHUNK (bounded memory)."""
    assert parallel.task_size(2_000, 2) == 250
    assert parallel.task_size(2_000, 4) == 125
    assert parallel.task_size(500, 4) == parallel.MIN_TASK
    assert parallel.task_size(1_000_000, 2) == parallel.CHUNK


def test_worker_rows_come_back_without_descriptor_caches() -> None:
    """Featurising leaves RDKit's cached terms on each molecule; they must not travel back."""
    parts = {"desc": RDKitDescriptorFeaturizer()}
    specs = {key: json.dumps(f.spec.as_dict(), sort_keys=True) for key, f in parts.items()}
    prepared, features = parallel._prepare_and_featurize((specs, SMILES))
    valid = [row for row in prepared if isinstance(row, StandardisedMolecule)]
    assert valid and all(not row.mol.__dict__ for row in valid)
    in_process = [parallel.prepare_one(s) for s in SMILES]
    here = parallel.featurize_prepared(parts, in_process)
    assert np.array_equal(features["desc"], here["desc"], equal_nan=True)
    # the caches exist after featurising, so the first assertion has something to catch
    assert all(row.mol.__dict__ for row in in_process if isinstance(row, StandardisedMolecule))
