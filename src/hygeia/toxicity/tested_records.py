"""Tox21's own records by InChIKey: what Tox21 measured for a compound exactly as it was tested.

The model and its read-across see standardised parents; this looks up the records themselves, for what
the model cannot answer. Cisplatin is outside the model's chemistry, yet Tox21 tested it (TOX4983), and
its record has DrugBank's InChIKey. Bisphenol A is in DrugBank's vocabulary by InChIKey only, with no
structure, and Tox21's record gives it one. Rows are keyed by the standard InChIKey of the whole record
as RDKit reads it; rows sharing a key merge by the training rule (majority of tested rows, ties to
active). Only the whole key matches: an enantiomer or another protonation state is another record.
The index is built from the Tox21 file under `HYGEIA_DATA_DIR` (~3 s, once per process, at start-up:
`warm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, rdBase

from hygeia.core.errors import InputError
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import merge_labels, read_tox21
from hygeia.toxicity.molecules import DISALLOWED_ELEMENT, INORGANIC, MoleculeRejection
from hygeia.toxicity.read_across import measured_outcomes, measured_summary


@dataclass(frozen=True)
class Tox21Record:
    tox21_ids: list[str]
    smiles: str  # the first row's SMILES, as Tox21 recorded it
    measured: dict[str, str]  # endpoint -> active / inactive / not tested


@lru_cache(maxsize=2)
def _records(path: str) -> dict[str, Tox21Record]:
    frame = read_tox21(Path(path))
    rows_by_key: dict[str, list[int]] = {}
    with rdBase.BlockLogs():
        for row, smiles in enumerate(frame["smiles"]):
            mol = Chem.MolFromSmiles(smiles)
            key = Chem.MolToInchiKey(mol) if mol is not None else ""
            if key:
                rows_by_key.setdefault(key, []).append(row)
    groups = list(rows_by_key.values())
    labels, _ = merge_labels(frame[list(ENDPOINTS)].to_numpy(dtype=np.float32), groups)
    ids, smiles = frame["mol_id"].astype(str).tolist(), frame["smiles"].tolist()
    return {
        key: Tox21Record([ids[r] for r in rows], smiles[rows[0]], measured_outcomes(labels[i]))
        for i, (key, rows) in enumerate(rows_by_key.items())
    }


def find(inchikey: str) -> Tox21Record | None:
    """The Tox21 record of this InChIKey, or None (also when the file is absent)."""
    path = get_settings().data_dir / "tox21" / "tox21.csv"
    return _records(str(path)).get(inchikey) if path.is_file() else None


def refusal(smiles: str, rejection: MoleculeRejection) -> tuple[str, dict[str, Any] | None]:
    """The message for a refused input and, when the model refuses it as outside its chemistry (a metal
    complex, an inorganic) and Tox21 tested it as such (the input's own InChIKey; cisplatin: TOX4983),
    Tox21's record of it, also stated in the message: a screen's metal complexes then carry what Tox21
    measured for them instead of a bare refusal."""
    key = _inchikey(smiles) if rejection.code in (DISALLOWED_ELEMENT, INORGANIC) else ""
    if not key:  # (also an SDF record's shown text, which need not be a SMILES)
        return rejection.message, None
    found = tox21_record(inchikey=key)
    if not found.get("found"):
        return rejection.message, None
    return f"{rejection.message}; Tox21 tested it as such: {found['fact']}", found


def warm() -> None:
    """Build the index once the server is up, so the first question does not wait for it."""
    find("")


def tox21_record(inchikey: str = "", smiles: str = "") -> dict[str, Any]:
    """Agent tool: Tox21's record of one compound by InChIKey (or a SMILES's), with its measured
    outcomes."""
    key = inchikey.strip().upper().removeprefix("INCHIKEY=") or _inchikey(smiles)
    if len(key) != 27 or key[14] != "-" or key[25] != "-":
        given = inchikey or smiles
        raise InputError(f"{given!r} is neither an InChIKey (e.g. IISBACLAFKSPIT-UHFFFAOYSA-N) nor a SMILES")
    record = find(key)
    if record is None:
        return {"inchikey": key, "found": False}
    fact = measured_summary({"tox21_ids": record.tox21_ids, "measured": record.measured})
    return {"inchikey": key, "found": True, "tox21_ids": record.tox21_ids, "smiles": record.smiles,
            "measured": record.measured, "fact": fact}  # fmt: skip


def _inchikey(smiles: str) -> str:
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles) if smiles.strip() else None
        return str(Chem.MolToInchiKey(mol)) if mol is not None else ""
