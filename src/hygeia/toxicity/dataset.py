"""The Tox21 table as training data: standardised, de-duplicated, untested labels masked.

De-duplication rule (applied after standardisation, keyed on the parent's canonical SMILES): rows
that collapse to one parent (different salts, charge states or tautomers of the same compound) become
one training compound, and for each endpoint its label is the majority of the *tested* rows, ties
counted as active. Ties go to active because a missed toxicity costs more than a false alarm in a
safety screen; the number of conflicting endpoint labels is reported in the model card. Merging
before the scaffold split also keeps copies of one compound from landing in different CV folds.

Rows that cannot be standardised are kept in `rejected` with their reason, never silently dropped.
Rows outside the chemistry scope (`ORGANIC_SCOPE`: metal complexes and salts, inorganics)
are rejected the same way; `scope` rebuilds the training set of a model trained under an older rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from hygeia.core.registry import file_sha256
from hygeia.toxicity import ENDPOINTS, LARGEST_FRAGMENT_SCOPE, ORGANIC_SCOPE
from hygeia.toxicity.molecules import MoleculeRejection, prepare


@dataclass(frozen=True)
class RejectedRow:
    row: int  # 0-based data row in the source file
    mol_id: str
    smiles: str
    code: str
    message: str


@dataclass
class ToxicityDataset:
    smiles: list[str]  # standardised parent SMILES, one per unique compound
    mols: list[Chem.Mol]
    labels: np.ndarray  # (n, 12) float32: 1 active, 0 inactive, NaN untested
    source_rows: list[list[int]]  # which input rows were merged into each compound
    rejected: list[RejectedRow] = field(default_factory=list)
    conflicting_labels: int = 0  # endpoint labels where merged duplicates disagreed
    input_rows: int = 0
    sha256: str = ""
    scope: str = ORGANIC_SCOPE  # the chemistry scope its rows were standardised under

    def __len__(self) -> int:
        return len(self.smiles)


def read_tox21(path: Path) -> pd.DataFrame:
    """Read the CSV and check its columns, so a wrong file fails here and not deep inside training."""
    frame = pd.read_csv(path, dtype={"smiles": str, "mol_id": str}, keep_default_na=False, na_values=[""])
    missing = [column for column in (*ENDPOINTS, "smiles") if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}; expected the Tox21 layout")
    if "mol_id" not in frame.columns:
        frame["mol_id"] = [f"row{i}" for i in range(len(frame))]
    frame["smiles"] = frame["smiles"].fillna("")
    for endpoint in ENDPOINTS:
        frame[endpoint] = pd.to_numeric(frame[endpoint], errors="raise").astype("float32")
        bad = frame[endpoint].dropna().loc[lambda s: ~s.isin([0.0, 1.0])]
        if len(bad):
            raise ValueError(f"{path}: {endpoint} has labels other than 0/1/blank, e.g. row {bad.index[0]}")
    return frame


def trained_scope(card: dict[str, Any]) -> str:
    """The chemistry scope a model's training set was standardised under (older cards name none)."""
    return str((card.get("training_data") or {}).get("chemistry_scope") or LARGEST_FRAGMENT_SCOPE)


def load_tox21(path: Path, limit: int | None = None, scope: str = ORGANIC_SCOPE) -> ToxicityDataset:
    """Standardise every row, keep the failures with reasons, merge duplicates by the rule above."""
    frame = read_tox21(path)
    if limit is not None:
        frame = frame.iloc[:limit]
    groups: dict[str, list[int]] = {}
    mols: dict[str, Chem.Mol] = {}
    rejected: list[RejectedRow] = []
    for row, (mol_id, smiles) in enumerate(zip(frame["mol_id"], frame["smiles"], strict=True)):
        prepared = prepare(smiles, scope)
        if isinstance(prepared, MoleculeRejection):
            rejected.append(RejectedRow(row, str(mol_id), smiles, prepared.code, prepared.message))
            continue
        groups.setdefault(prepared.smiles, []).append(row)
        mols.setdefault(prepared.smiles, prepared.mol)
    raw = frame[list(ENDPOINTS)].to_numpy(dtype=np.float32)
    labels, conflicts = merge_labels(raw, list(groups.values()))
    return ToxicityDataset(
        smiles=list(groups),
        mols=[mols[key] for key in groups],
        labels=labels,
        source_rows=list(groups.values()),
        rejected=rejected,
        conflicting_labels=conflicts,
        input_rows=len(frame),
        sha256=file_sha256(path),
        scope=scope,
    )


def merge_labels(raw: np.ndarray, groups: list[list[int]]) -> tuple[np.ndarray, int]:
    """Majority of tested labels per endpoint, ties to active; counts endpoints where rows disagreed."""
    labels = np.full((len(groups), raw.shape[1]), np.nan, dtype=np.float32)
    conflicts = 0
    for i, rows in enumerate(groups):
        block = raw[rows]
        tested = ~np.isnan(block)
        n_tested = tested.sum(axis=0)
        n_active = np.nansum(block, axis=0)
        has = n_tested > 0
        labels[i, has] = (n_active[has] * 2 >= n_tested[has]).astype(np.float32)
        conflicts += int(((n_active > 0) & (n_active < n_tested)).sum())
    return labels, conflicts
