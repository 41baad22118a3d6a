"""Large batches use every core: standardisation and featurisation fanned out over worker processes.

Per molecule, canonical-tautomer standardisation and the RDKit descriptors cost milliseconds of
pure-Python-bound RDKit work, and one process uses one core. Above PARALLEL_MIN molecules the
input is cut into chunks that each worker standardises *and* featurises in one task, so molecules
cross the process boundary once, as feature rows; the caller scores each chunk as it arrives (the
trees and networks take well under a millisecond per molecule). Workers are spawned (not threads: the
GIL; not fork: libgomp and RDKit state in a forked child). Below PARALLEL_MIN, and inside daemonic
processes (Celery's prefork workers may not have children), the work stays in this process:
starting workers costs seconds. Results are identical to the sequential path, in input order (tested).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
from rdkit import Chem

from hygeia.toxicity.featurize import Featurizer, featurize_many, featurizer_from_spec
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule, prepare, standardise_mol

PARALLEL_MIN = 2_000
MAX_WORKERS = 4
CHUNK = 500  # molecules per worker task: ~24 MB of feature rows for 2.1.0, a few seconds of work
# A batch just over PARALLEL_MIN is cut finer (but not below MIN_TASK): the first rows come back
# sooner for scoring, and the last task, which the other worker no longer shares, is shorter.
TASKS_PER_WORKER, MIN_TASK = 4, 100
IN_FLIGHT_PER_WORKER = 2  # queued tasks per worker: keeps cores busy, bounds memory on any input size
Item = str | Chem.Mol | MoleculeRejection
Prepared = StandardisedMolecule | MoleculeRejection
Chunk = tuple[int, list[Prepared], dict[str, np.ndarray]]  # input offset, rows, features of valid rows

_FEATURIZERS: dict[str, Featurizer] = {}  # per worker process, rebuilt from the spec once


def worker_count(n_items: int) -> int:
    """0 means: do it here. Small batches, one core, or a daemonic process run sequentially."""
    cores = min(os.cpu_count() or 1, MAX_WORKERS)
    if n_items < PARALLEL_MIN or cores < 2 or multiprocessing.current_process().daemon:
        return 0
    return cores


def task_size(n_items: int, workers: int) -> int:
    """Molecules per worker task: CHUNK for long inputs, finer for a batch of a few thousand."""
    return min(CHUNK, max(MIN_TASK, -(-n_items // (workers * TASKS_PER_WORKER))))


def prepare_one(item: Item) -> Prepared:
    """SMILES text, a parsed molecule (SDF record) or an upstream read error, standardised."""
    if isinstance(item, MoleculeRejection):
        return item
    return prepare(item) if isinstance(item, str) else standardise_mol(item)


def featurize_prepared(parts: dict[str, Featurizer], prepared: Sequence[Prepared]) -> dict[str, np.ndarray]:
    """Feature matrices (one per part key) for the valid rows of `prepared`, in order."""
    mols = [row.mol for row in prepared if isinstance(row, StandardisedMolecule)]
    return {key: featurize_many(featurizer, mols) for key, featurizer in parts.items()}


def _worker_parts(specs: dict[str, str]) -> dict[str, Featurizer]:
    parts = {}
    for key, spec in specs.items():
        if spec not in _FEATURIZERS:
            _FEATURIZERS[spec] = featurizer_from_spec(json.loads(spec))
        parts[key] = _FEATURIZERS[spec]
    return parts


def _prepare_and_featurize(
    task: tuple[dict[str, str], list[Item]],
) -> tuple[list[Prepared], dict[str, np.ndarray]]:
    specs, items = task
    prepared = [prepare_one(item) for item in items]
    features = featurize_prepared(_worker_parts(specs), prepared)
    return [without_caches(row) for row in prepared], features


def without_caches(row: Prepared) -> Prepared:
    """RDKit's descriptor functions cache their inner terms on the molecule object (distance
    matrices, sparse fingerprints, EState vectors ...). Pickled back to the caller those made a row
    ~25x larger, and unpickling them cost ~0.5 ms per molecule in the process that also scores;
    the caller needs only the molecule and its SMILES."""
    if isinstance(row, StandardisedMolecule):
        row.mol.__dict__.clear()
    return row


def prepare_and_featurize(
    parts: dict[str, Featurizer], items: Sequence[Item], workers: int
) -> Iterator[Chunk]:
    """Chunks standardised and featurised here (workers = 0) or in worker processes, in input order."""
    if not workers:
        for start in range(0, len(items), CHUNK):
            prepared = [prepare_one(item) for item in items[start : start + CHUNK]]
            yield start, prepared, featurize_prepared(parts, prepared)
        return
    specs = {key: json.dumps(f.spec.as_dict(), sort_keys=True) for key, f in parts.items()}
    size = task_size(len(items), workers)
    starts = iter(range(0, len(items), size))
    pending: deque[tuple[int, Future[tuple[list[Prepared], dict[str, np.ndarray]]]]] = deque()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:

        def submit() -> None:
            start = next(starts, None)
            if start is not None:
                task = (specs, list(items[start : start + size]))
                pending.append((start, pool.submit(_prepare_and_featurize, task)))

        for _ in range(workers * IN_FLIGHT_PER_WORKER):
            submit()
        while pending:
            start, future = pending.popleft()
            prepared, features = future.result()
            submit()
            yield start, prepared, features
