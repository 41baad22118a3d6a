"""Large batches use every core: standardisation and featurisation fanned out over worker processes.

Per molecule, canonical-tautomer standardisation and the RDKit descriptors cost milliseconds of
pure-Python-bound RDKit work, and one process uses one core. Above PARALLEL_MIN molecules the
batch is cut into chunks and run in spawned workers (not threads: the GIL; not fork: libgomp and
RDKit state in a forked child). Below it, and inside daemonic processes (Celery's prefork workers
may not have children), the work stays in this process: starting workers costs seconds.
The results are identical to the sequential path, in input order (tested).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from rdkit import Chem

from hygeia.toxicity.featurize import Featurizer, featurizer_from_spec
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule, prepare, standardise_mol

PARALLEL_MIN = 2_000
MAX_WORKERS = 4
Prepared = StandardisedMolecule | MoleculeRejection

_FEATURIZERS: dict[str, Featurizer] = {}  # per worker process, rebuilt from the spec once


def worker_count(n_items: int) -> int:
    """0 means: do it here. Small batches, one core, or a daemonic process run sequentially."""
    cores = min(os.cpu_count() or 1, MAX_WORKERS)
    if n_items < PARALLEL_MIN or cores < 2 or multiprocessing.current_process().daemon:
        return 0
    return cores


def _chunks(n: int, workers: int) -> list[slice]:
    size = max(1, -(-n // (workers * 4)))  # a few chunks per worker evens out slow molecules
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _prepare_chunk(items: list[str | Chem.Mol | MoleculeRejection]) -> list[Prepared]:
    out: list[Prepared] = []
    for item in items:
        if isinstance(item, MoleculeRejection):
            out.append(item)
        else:
            out.append(prepare(item) if isinstance(item, str) else standardise_mol(item))
    return out


def _featurize_chunk(task: tuple[list[str], list[Chem.Mol]]) -> list[np.ndarray]:
    specs, mols = task
    matrices = []
    for spec in specs:
        featurizer = _FEATURIZERS.get(spec)
        if featurizer is None:
            featurizer = _FEATURIZERS[spec] = featurizer_from_spec(json.loads(spec))
        matrix = np.zeros((len(mols), featurizer.spec.dimension), dtype=np.float32)
        for i, mol in enumerate(mols):
            matrix[i] = featurizer(mol)
        matrices.append(matrix)
    return matrices


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def prepare_parallel(items: Sequence[str | Chem.Mol | MoleculeRejection], workers: int) -> list[Prepared]:
    parts = [list(items[s]) for s in _chunks(len(items), workers)]
    with _pool(workers) as pool:
        return [row for chunk in pool.map(_prepare_chunk, parts) for row in chunk]


def featurize_parallel(
    parts: dict[str, Featurizer], mols: Sequence[Chem.Mol], workers: int
) -> dict[str, Any]:
    """Same matrices as featurising in this process; `parts` keys are the parts' JSON specs."""
    keys = list(parts)
    specs = [json.dumps(parts[k].spec.as_dict(), sort_keys=True) for k in keys]
    tasks = [(specs, list(mols[s])) for s in _chunks(len(mols), workers)]
    with _pool(workers) as pool:
        results = list(pool.map(_featurize_chunk, tasks))
    return {key: np.vstack([chunk[k] for chunk in results]) for k, key in enumerate(keys)}
