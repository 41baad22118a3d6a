"""Molecule files in, prediction CSV out: the contract other tools build on.

Input: a CSV with a `smiles` column (comma-, semicolon- or tab-separated), a SMILES file
(.smi/.smiles: one molecule per line, first token, an optional second token as `name`, blank lines
skipped, an optional `smiles` header line), or an SDF.
Output: one row per input record, in input order. The caller's own columns come first and unchanged
(the other CSV columns; an SDF record's title as `name` and its data fields), so compound IDs travel
with their predictions; then `smiles`, `standardised_smiles` (the parent the model scored: a salt's
organic part, neutralised, canonical tautomer), the 12 endpoints, the applicability domain
(`nearest_similarity` to the training set, `in_domain`, and `domain_cv_roc_auc`: how well scaffold CV
ranked compounds that far from their training folds, empty where the card's band is too small), the
overall call (`n_active_assays`, `active_assays`, `highest_risk_assay`), one conformal prediction set per
endpoint (`<endpoint> set`), and `error`. A record that cannot be read or scored keeps its row with the reason
in `error` and the prediction columns left empty. Every cell goes through the platform's
spreadsheet-safe writer, so a name starting with = + - @ is never run as a formula.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from rdkit import Chem, rdBase

from hygeia.core.exports import write_safe_csv
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.molecules import UNPARSEABLE, MoleculeRejection
from hygeia.toxicity.predictor import RowPrediction

SET_COLUMNS = tuple(f"{e} set" for e in ENDPOINTS)
OUTPUT_COLUMNS = (
    "smiles",
    "standardised_smiles",
    *ENDPOINTS,
    "nearest_similarity",
    "in_domain",
    "domain_cv_roc_auc",
    "n_active_assays",
    "active_assays",
    "highest_risk_assay",
    *SET_COLUMNS,
    "error",
)
SMILES_SUFFIXES = {".smi", ".smiles", ".txt"}
CSV_DELIMITERS = (",", ";", "\t")
SDF_SUFFIXES = {".sdf", ".sd", ".mol"}


class InputFileError(ValueError):
    """The file as a whole cannot be read (wrong format, no smiles column); no rows to report."""


@dataclass
class InputRecord:
    smiles: str  # the text shown in the output `smiles` column
    molecule: str | Chem.Mol | MoleculeRejection  # what the predictor standardises
    passthrough: dict[str, str] = field(default_factory=dict)  # the caller's IDs, names, properties


def read_records(path: Path, first_record: int = 1) -> list[InputRecord]:
    """`first_record`: the number of the file's first record in a larger whole (a screen's chunk), so
    an error names the record of the caller's file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in SMILES_SUFFIXES:
        return _read_smiles_file(path)
    if suffix in SDF_SUFFIXES:
        return _read_sdf(path, first_record)
    raise InputFileError(f"unsupported input {path.name}: use .csv (smiles column), .smi or .sdf")


def read_upload(source: BinaryIO, filename: str) -> list[InputRecord]:
    """An uploaded file read as `read_records` reads one on disk, by the suffix of the caller's name;
    an error names the caller's file, not the temporary copy."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{Path(filename).suffix.lower()}"
        with path.open("wb") as handle:
            shutil.copyfileobj(source, handle)
        try:
            return read_records(path)
        except InputFileError as exc:
            raise InputFileError(str(exc).replace(str(path), filename)) from exc


def csv_delimiter(header: str) -> str:
    """The delimiter under which the header line names a `smiles` column: a comma, or the semicolon
    or tab that spreadsheets write in many locales; a comma when none does (the error then lists the
    columns as read)."""
    for delimiter in CSV_DELIMITERS:
        columns = next(csv.reader([header], delimiter=delimiter), [])
        if "smiles" in {c.strip().lstrip("\ufeff").lower() for c in columns}:
            return delimiter
    return ","


def _read_csv(path: Path) -> list[InputRecord]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            delimiter = csv_delimiter(handle.readline())
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read {path.name} as CSV: {exc}") from exc
    columns = {c.strip().lower(): c for c in frame.columns}
    if "smiles" not in columns:
        raise InputFileError(f"{path.name} has no 'smiles' column (columns: {list(frame.columns)})")
    smiles_column = columns["smiles"]
    others = [c for c in frame.columns if c != smiles_column]
    return [
        InputRecord(str(row[smiles_column]), str(row[smiles_column]), {c: str(row[c]) for c in others})
        for row in frame.to_dict("records")
    ]


def is_smiles_record(fields: list[str], number: int) -> bool:
    """A .smi line that holds a molecule: not blank, not a `smiles` header, not a `#` comment (the Tox21
    challenge's files open with `#SMILES`; no SMILES starts with `#`)."""
    return (
        bool(fields) and not fields[0].startswith("#") and not (number == 0 and fields[0].lower() == "smiles")
    )


def _read_smiles_file(path: Path) -> list[InputRecord]:
    records = []
    for number, line in enumerate(path.read_text().splitlines()):
        fields = line.split()
        if not is_smiles_record(fields, number):
            continue
        name = {"name": " ".join(fields[1:])} if len(fields) > 1 else {}
        records.append(InputRecord(fields[0], fields[0], name))
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


def _read_sdf(path: Path, first_record: int) -> list[InputRecord]:
    """Record by record, so one broken molecule block becomes one error row, not a lost file."""
    records = []
    for number, block in enumerate(_sdf_blocks(path.read_text()), start=first_record):
        with rdBase.BlockLogs():
            mol = Chem.MolFromMolBlock(block, sanitize=False)
            error = None if mol is not None else "RDKit cannot read this molecule block"
            if mol is not None:
                try:
                    Chem.SanitizeMol(mol)
                except Exception as exc:  # valence / aromaticity errors come as several types
                    error = f"invalid molecule: {exc}"
        passthrough = _sdf_fields(block)
        if error is not None:
            rejection = MoleculeRejection(UNPARSEABLE, f"SDF record {number}: {error}")
            records.append(InputRecord("", rejection, passthrough))
        else:
            records.append(InputRecord(Chem.MolToSmiles(mol), mol, passthrough))
    return records


def _sdf_fields(block: str) -> dict[str, str]:
    """Title line as `name`, then the record's data fields (`>  <FIELD>` then value lines up to a blank
    line). Read from the text, so a record RDKit cannot parse still keeps its identifiers."""
    lines = block.splitlines()
    fields = {"name": lines[0].strip() if lines else ""}
    key: str | None = None
    values: list[str] = []
    for line in lines:
        header = re.match(r"^>.*<([^>]+)>", line)
        if header:
            key, values = header.group(1), []
        elif key is not None and line.strip():
            values.append(line.strip())
            fields[key] = "\n".join(values)
        elif key is not None:
            key = None
    return fields


def passthrough_columns(records: list[InputRecord]) -> list[str]:
    """The caller's columns in first-seen order; one clashing with an output column gets `input_`."""
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record.passthrough))
    return [_renamed(c) for c in seen]


def _renamed(column: str) -> str:
    return f"input_{column}" if column in OUTPUT_COLUMNS else column


def read_error(record: InputRecord) -> str | None:
    """Why the record could not be read from its file (an SDF block RDKit cannot parse), else None."""
    return record.molecule.message if isinstance(record.molecule, MoleculeRejection) else None


def passthrough_values(record: InputRecord) -> dict[str, str]:
    """One record's own columns, named as `passthrough_columns` names them."""
    return {_renamed(k): v for k, v in record.passthrough.items()}


def output_row(record: InputRecord, result: RowPrediction) -> dict[str, str]:
    row = passthrough_values(record)
    row.update(dict.fromkeys(OUTPUT_COLUMNS, ""))
    row["smiles"] = record.smiles
    row["standardised_smiles"] = result.standardised_smiles or ""
    if result.probabilities is not None:
        row.update({e: f"{result.probabilities[e]:.4f}" for e in ENDPOINTS})
        row["nearest_similarity"] = f"{result.nearest_similarity:.3f}"
        row["in_domain"] = "true" if result.in_domain else "false"
        if result.domain_cv_roc_auc is not None:
            row["domain_cv_roc_auc"] = f"{result.domain_cv_roc_auc:.3f}"
    else:
        row["error"] = f"{result.error_code}: {result.error}"
    if result.overall is not None:
        row["n_active_assays"] = str(result.overall.n_active)
        row["active_assays"] = ";".join(result.overall.active_assays)
        row["highest_risk_assay"] = result.overall.highest_risk_assay
    if result.prediction_sets is not None:
        row.update({f"{e} set": result.prediction_sets[e] for e in ENDPOINTS})
    return row


def write_predictions(path: Path, records: list[InputRecord], results: list[RowPrediction]) -> None:
    """CSV, or SDF when the output ends in .sdf (the same fields as data items on each record)."""
    if len(records) != len(results):
        raise ValueError("one result per input record is required")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in SDF_SUFFIXES:
        _write_sdf(path, records, results)
        return
    columns = [*passthrough_columns(records), *OUTPUT_COLUMNS]
    with path.open("w", newline="") as handle:
        write_safe_csv(handle, columns, (output_row(r, x) for r, x in zip(records, results, strict=True)))


def _write_sdf(path: Path, records: list[InputRecord], results: list[RowPrediction]) -> None:
    """One SDF record per input record, in order. The structure is the caller's molecule (or the
    parsed SMILES); a record that could not be read is written as an empty molecule carrying its error,
    so record N of the output always answers record N of the input."""
    writer = Chem.SDWriter(str(path))
    try:
        for record, result in zip(records, results, strict=True):
            mol = _output_molecule(record)
            row = output_row(record, result)
            mol.SetProp("_Name", row.get("name", "") or record.smiles)
            for key, value in row.items():
                if value != "":
                    mol.SetProp(key, str(value))
            writer.write(mol)
    finally:
        writer.close()


def _output_molecule(record: InputRecord) -> Chem.Mol:
    if isinstance(record.molecule, Chem.Mol):
        return Chem.Mol(record.molecule)
    if isinstance(record.molecule, str) and record.molecule:
        with rdBase.BlockLogs():
            mol = Chem.MolFromSmiles(record.molecule)
        if mol is not None:
            return mol
    return Chem.Mol()
