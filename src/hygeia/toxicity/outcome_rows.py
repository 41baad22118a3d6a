"""Accepted assay outcomes as Tox21-shaped training rows, with a scaffold-grouped hold-out.

An outcome is (InChIKey, assay, active/inactive) as a tenant reported it. It can become a training
row only where a structure was kept with it: the standardised parent SMILES of an outcome given as
SMILES (`Outcome.input_text`). Outcomes given only by prediction id or InChIKey, for a molecule no
outcome of the tenant ever named by SMILES, cannot be trained on; the card counts them.

Outcome molecules are grouped by Bemis-Murcko scaffold and a seeded share of the scaffolds is held
out (never trained on), so the candidate and production can be scored on the same unseen outcomes.
In cross-validation a training outcome molecule joins the fold of its scaffold where Tox21 has that
scaffold, else a fold chosen by hash; the Tox21 compounds keep exactly the folds that production's
scaffold CV was measured on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rdkit import Chem

from hygeia.core.retraining import TrainingOutcome, held_out_group, outcome_ids_sha256
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import ToxicityDataset
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.splits import scaffold_key

GROUPING = "Bemis-Murcko scaffold of the standardised parent"


@dataclass
class OutcomeMolecules:
    """Unique outcome molecules with their assay labels (1 active, 0 inactive, NaN not reported)."""

    smiles: list[str] = field(default_factory=list)
    mols: list[Chem.Mol] = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0, len(ENDPOINTS)), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.smiles)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            e: {
                "active": int(np.nansum(self.labels[:, j])),
                "tested": int((~np.isnan(self.labels[:, j])).sum()),
            }
            for j, e in enumerate(ENDPOINTS)
        }


@dataclass
class OutcomeSplit:
    training: OutcomeMolecules
    held_out: OutcomeMolecules
    provenance: dict[str, Any]


def split_outcomes(outcomes: Sequence[TrainingOutcome], holdout: float, seed: int) -> OutcomeSplit:
    """Outcomes -> unique molecules (tenants' reports of one molecule merged: majority, ties to active,
    as Tox21 duplicates are) -> training and held-out sides by scaffold."""
    votes: dict[str, dict[int, list[int]]] = {}
    mols: dict[str, Chem.Mol] = {}
    unusable = {"without_structure": 0, "unreadable_structure": 0, "unknown_assay": 0}
    for outcome in outcomes:
        if outcome.label not in ENDPOINTS:
            unusable["unknown_assay"] += 1
            continue
        if not outcome.input_text:
            unusable["without_structure"] += 1
            continue
        prepared = prepare(outcome.input_text)
        if isinstance(prepared, MoleculeRejection):
            unusable["unreadable_structure"] += 1
            continue
        mols.setdefault(prepared.smiles, prepared.mol)
        votes.setdefault(prepared.smiles, {}).setdefault(ENDPOINTS.index(outcome.label), []).append(
            int(outcome.observed)
        )
    sides: dict[bool, list[str]] = {True: [], False: []}
    scaffolds: dict[bool, set[str]] = {True: set(), False: set()}
    for smiles in votes:
        scaffold = scaffold_key(mols[smiles])
        side = held_out_group(scaffold, holdout, seed)
        sides[side].append(smiles)
        scaffolds[side].add(scaffold)
    training = _molecules(sides[False], mols, votes)
    held_out = _molecules(sides[True], mols, votes)
    tenants: dict[str, int] = {}
    for outcome in outcomes:
        tenants[outcome.tenant_id] = tenants.get(outcome.tenant_id, 0) + 1
    provenance = {
        "outcomes": len(outcomes),
        "tenants": tenants,
        "outcome_ids_sha256": outcome_ids_sha256(outcomes),
        "not_usable": unusable,
        "molecules": {"training": len(training), "held_out": len(held_out)},
        "per_endpoint": {
            e: {"training": training.counts()[e], "held_out": held_out.counts()[e]} for e in ENDPOINTS
        },
        "holdout": {
            "fraction": holdout,
            "seed": seed,
            "grouping": GROUPING,
            "scaffolds": {"training": len(scaffolds[False]), "held_out": len(scaffolds[True])},
        },
    }
    return OutcomeSplit(training, held_out, provenance)


def _molecules(
    chosen: list[str], mols: dict[str, Chem.Mol], votes: dict[str, dict[int, list[int]]]
) -> OutcomeMolecules:
    labels = np.full((len(chosen), len(ENDPOINTS)), np.nan, dtype=np.float32)
    for i, smiles in enumerate(chosen):
        for j, observed in votes[smiles].items():
            labels[i, j] = float(2 * sum(observed) >= len(observed))
    return OutcomeMolecules(list(chosen), [mols[s] for s in chosen], labels)


@dataclass
class MergedRows:
    """The Tox21 data set with the training outcome molecules added."""

    dataset: ToxicityDataset
    folds: np.ndarray
    tox21_compounds: int  # the first rows; their original labels stay in `tox21_labels`
    tox21_labels: np.ndarray
    stats: dict[str, int]


def with_outcome_rows(
    dataset: ToxicityDataset, folds: np.ndarray, extra: OutcomeMolecules, n_folds: int
) -> MergedRows:
    """Outcome labels replace Tox21's for molecules Tox21 has (the newer measurement); new molecules
    are appended, each in its scaffold's Tox21 fold or, for a new scaffold, a fold by hash."""
    index = {smiles: i for i, smiles in enumerate(dataset.smiles)}
    fold_of = {scaffold_key(mol): int(fold) for mol, fold in zip(dataset.mols, folds, strict=True)}
    labels = dataset.labels.copy()
    stats = {"labels_replaced": 0, "labels_added_to_tox21_compounds": 0, "new_compounds": 0}
    new_smiles, new_mols, new_labels, new_folds = [], [], [], []
    for smiles, mol, row in zip(extra.smiles, extra.mols, extra.labels, strict=True):
        given = ~np.isnan(row)
        if smiles in index:
            target = labels[index[smiles]]
            stats["labels_replaced"] += int((given & ~np.isnan(target)).sum())
            stats["labels_added_to_tox21_compounds"] += int((given & np.isnan(target)).sum())
            target[given] = row[given]
            continue
        scaffold = scaffold_key(mol)
        digest = int.from_bytes(hashlib.sha256(scaffold.encode()).digest()[:8], "big")
        new_smiles.append(smiles)
        new_mols.append(mol)
        new_labels.append(row)
        new_folds.append(fold_of.get(scaffold, digest % n_folds))
    stats["new_compounds"] = len(new_smiles)
    merged = ToxicityDataset(
        smiles=[*dataset.smiles, *new_smiles],
        mols=[*dataset.mols, *new_mols],
        labels=np.vstack([labels, *(np.asarray(new_labels, dtype=np.float32).reshape(-1, len(ENDPOINTS)),)]),
        source_rows=[*dataset.source_rows, *([[]] * len(new_smiles))],
        rejected=dataset.rejected,
        conflicting_labels=dataset.conflicting_labels,
        input_rows=dataset.input_rows,
        sha256=dataset.sha256,
    )
    all_folds = np.concatenate([folds, np.asarray(new_folds, dtype=np.int64)])
    return MergedRows(merged, all_folds, len(dataset), dataset.labels, stats)
