"""Molecule files in, prediction CSV out: the contract other tools build on.

Input: a CSV with a `smiles` column, a SMILES file (.smi/.smiles: one molecule per line, first token,
blank lines skipped, an optional `smiles` header line), or an SDF. Output: one row per input record,
in input order, columns exactly `smiles`, the 12 endpoints, `in_domain`, `error`. A record that cannot
be read or scored keeps its row with the reason in `error` and the endpoint columns left empty.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.molecules import UNPARSEABLE, MoleculeRejection
from hygeia.toxicity.predictor import RowPrediction

OUTPUT_COLUMNS = ("smiles", *ENDPOINTS, "in_domain", "error")
SMILES_SUFFIXES = {".smi", ".smiles", ".txt"}
SDF_SUFFIXES = {".sdf", ".sd", ".mol"}


class InputFileError(ValueError):
    """The file as a whole cannot be read (wrong format, no smiles column); no rows to report."""


@dataclass
class InputRecord:
    smiles: str  # the text shown in the output `smiles` column
    molecule: str | Chem.Mol | MoleculeRejection  # what the predictor standardises


def read_records(path: Path) -> list[InputRecord]:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in SMILES_SUFFIXES:
        return _read_smiles_file(path)
    if suffix in SDF_SUFFIXES:
        return _read_sdf(path)
    raise InputFileError(f"unsupported input {path.name}: use .csv (smiles column), .smi or .sdf")


def _read_csv(path: Path) -> list[InputRecord]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read {path.name} as CSV: {exc}") from exc
    columns = {c.strip().lower(): c for c in frame.columns}
    if "smiles" not in columns:
        raise InputFileError(f"{path.name} has no 'smiles' column (columns: {list(frame.columns)})")
    return [InputRecord(text, text) for text in frame[columns["smiles"]].tolist()]


def _read_smiles_file(path: Path) -> list[InputRecord]:
    records = []
    for number, line in enumerate(path.read_text().splitlines()):
        fields = line.split()
        if not fields or (number == 0 and fields[0].lower() == "smiles"):
            continue
        records.append(InputRecord(fields[0], fields[0]))
    return records


def _sdf_blocks(text: str) -> list[str]:
    """Molecule blocks between `$$$$` lines; a trailing block without terminator still counts."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == "$$$$":
            blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if any(line.strip() for line in current):
        blocks.append("\n".join(current))
    return blocks


def _read_sdf(path: Path) -> list[InputRecord]:
    """Record by record, so one broken molecule block becomes one error row, not a lost file."""
    records = []
    for number, block in enumerate(_sdf_blocks(path.read_text()), start=1):
        with rdBase.BlockLogs():
            mol = Chem.MolFromMolBlock(block, sanitize=False)
            error = None if mol is not None else "RDKit cannot read this molecule block"
            if mol is not None:
                try:
                    Chem.SanitizeMol(mol)
                except Exception as exc:  # valence / aromaticity errors come as several types
                    error = f"invalid molecule: {exc}"
        if error is not None:
            records.append(InputRecord("", MoleculeRejection(UNPARSEABLE, f"SDF record {number}: {error}")))
        else:
            records.append(InputRecord(Chem.MolToSmiles(mol), mol))
    return records


def output_row(record: InputRecord, result: RowPrediction) -> dict[str, str]:
    row = dict.fromkeys(OUTPUT_COLUMNS, "")
    row["smiles"] = record.smiles
    if result.probabilities is not None:
        row.update({e: f"{result.probabilities[e]:.4f}" for e in ENDPOINTS})
        row["in_domain"] = "true" if result.in_domain else "false"
    else:
        row["error"] = f"{result.error_code}: {result.error}"
    return row


def write_predictions(path: Path, records: list[InputRecord], results: list[RowPrediction]) -> None:
    if len(records) != len(results):
        raise ValueError("one result per input record is required")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        for record, result in zip(records, results, strict=True):
            writer.writerow(output_row(record, result))
