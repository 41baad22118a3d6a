"""Bemis-Murcko scaffold splits: each test fold holds ring systems the model never saw in training.

A random split lets near-copies of a test compound sit in the training set and flatters every model;
the judged use is new chemistry, so all tuning and all reported metrics use scaffold folds.

Acyclic molecules have no ring scaffold. Putting all of them under one empty scaffold would make a
single group of ~900 compounds that fills most of one fold, so each is its own group instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold


def scaffold_key(mol: Chem.Mol) -> str:
    """The Murcko scaffold SMILES; for an acyclic molecule its own SMILES (a singleton group)."""
    scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
    return scaffold or "acyclic:" + Chem.MolToSmiles(mol)


def scaffold_groups(mols: Sequence[Chem.Mol]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for index, mol in enumerate(mols):
        groups.setdefault(scaffold_key(mol), []).append(index)
    return list(groups.values())


def balanced_scaffold_folds(groups: Sequence[Sequence[int]], n_folds: int, seed: int) -> np.ndarray:
    """Fold number per molecule: whole scaffold groups, folds of near-equal size, reproducible.

    Large groups are placed first (largest to smallest; a seeded shuffle breaks ties) into whichever
    fold is currently smallest; this keeps sizes balanced while never splitting a scaffold.
    """
    if n_folds < 2:
        raise ValueError("scaffold cross-validation needs at least 2 folds")
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(groups)).tolist()
    order = sorted(shuffled, key=lambda g: -len(groups[g]))  # stable: ties keep the shuffled order
    n_molecules = sum(len(group) for group in groups)
    folds = np.full(n_molecules, -1, dtype=np.int64)
    sizes = np.zeros(n_folds, dtype=np.int64)
    for g in order:
        target = int(np.argmin(sizes))
        folds[list(groups[g])] = target
        sizes[target] += len(groups[g])
    return folds
