"""Loading report data that is not FAERS: case-level CSV and pre-aggregated count tables.

Case-level CSV: one row per (report, drug, event) with columns `id`, `drug`, `event` and optional
strata columns. Count tables: long (`drug`, `event`, `n`) or the wide matrix used by MDDC (first
column = adverse event, one column per drug, cells = counts). Every value is read as text first so
that ids like "007" and drugs called "NA" survive, and every rejection names the file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hygeia.signals.columnar import csv_delimiter, csv_header, read_text_csv, read_text_table
from hygeia.signals.errors import SignalDataError

CASE_COLUMNS = ("id", "drug", "event")
INT64_LIMIT = 2**63  # counts from here on do not fit a 64-bit integer
COUNT_COLUMNS = ("drug", "event", "n")
# Other tools' names for the same columns (openEBGM: var1/var2; pvda: report_id; FAERS: primaryid, pt).
ALIASES = {
    "id": ("report_id", "primaryid", "caseid", "safetyreportid"),
    "drug": ("var1", "drugname", "product"),
    "event": ("var2", "pt", "ae", "reaction"),
    "n": ("count", "n11", "freq"),
}


@dataclass(frozen=True)
class InputLimits:
    """Refuse inputs that would exhaust memory before any parsing starts (overridable per call)."""

    max_bytes: int = 4 * 1024**3
    max_rows: int = 200_000_000


def check_size(path: Path, limits: InputLimits) -> None:
    if not path.exists():
        raise SignalDataError("file not found", source=str(path))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise SignalDataError(
            f"file is {size:,} bytes, above the configured limit of {limits.max_bytes:,}", source=str(path)
        )


def _read_text_table(path: Path, limits: InputLimits) -> pd.DataFrame:
    """Arrow's reader first (4x less CPU); pandas' when Arrow refuses, for its located message."""
    check_size(path, limits)
    try:
        frame = read_text_csv(path)
    except (pa.ArrowInvalid, StopIteration):
        frame = _read_text_table_pandas(path)
    if len(frame) > limits.max_rows:
        raise SignalDataError(
            f"{len(frame):,} rows, above the limit of {limits.max_rows:,}", source=str(path)
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_text_table_pandas(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path,
            sep=csv_delimiter(path),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=False,
            encoding_errors="strict",
        )
    except pd.errors.ParserError as exc:
        raise SignalDataError(f"malformed CSV: {exc}", source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise SignalDataError(f"not UTF-8 text (byte offset {exc.start})", source=str(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise SignalDataError("the file is empty", source=str(path)) from exc


def _normalise_header(frame: pd.DataFrame, required: Sequence[str], path: Path) -> pd.DataFrame:
    found = _column_map(list(frame.columns), required, path)
    return frame.rename(columns={column: name for name, column in found.items()})


def _column_map(columns: Sequence[str], required: Sequence[str], path: Path) -> dict[str, str]:
    """Which header column holds each required column: its own name in any case, or an alias."""
    lower = {c.lower(): c for c in columns}
    for name in required:
        alias = next((a for a in ALIASES.get(name, ()) if name not in lower and a in lower), None)
        if alias is not None:
            lower[name] = lower[alias]
    missing = [c for c in required if c not in lower]
    if missing:
        hint = ""
        if len(columns) == 1 and any(sep in columns[0] for sep in "$;\t|"):
            hint = " (the file does not look comma-separated)"
        raise SignalDataError(
            f"missing column(s) {missing}; the header has {list(columns)}{hint}",
            source=str(path),
            line=1,
        )
    return {name: lower[name] for name in required}


def _first_blank(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    for column in columns:
        blank = frame[column].isna() | (frame[column].str.strip() == "")
        if blank.any():
            row = int(np.flatnonzero(blank.to_numpy())[0])
            raise SignalDataError(
                f"empty {column!r} ({int(blank.sum())} such row(s) in the file)",
                source=str(path),
                line=row + 2,
            )


def read_cases(
    path: Path | str, strata: Sequence[str] = (), limits: InputLimits | None = None
) -> pd.DataFrame:
    """Case-level rows with `id`, `drug`, `event` and the requested strata columns, all text."""
    path = Path(path)
    table = read_case_table(path, strata, limits)
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    _first_blank(frame, list(table.column_names), path)
    return frame


def read_case_rows(path: Path | str, extra: Sequence[str] = ()) -> pd.DataFrame:
    """The case columns (aliases applied) and whichever of `extra` the file has, all text: the rows a
    drill-down shows, read from a run's stored upload."""
    path = Path(path)
    header = [c.strip() for c in csv_header(path)]
    found = _column_map(header, CASE_COLUMNS, path)
    present = [c for c in extra if c in header and c not in found.values()]
    frame = pd.read_csv(
        path,
        sep=csv_delimiter(path),
        dtype=str,
        keep_default_na=False,
        usecols=lambda c: c.strip() in {*found.values(), *present},
    )
    frame.columns = [c.strip() for c in frame.columns]
    return frame.rename(columns={column: name for name, column in found.items()})


def read_case_table(
    path: Path | str, strata: Sequence[str] = (), limits: InputLimits | None = None
) -> pa.Table:
    """The case columns (`id`, `drug`, `event`, strata) as an Arrow table of text, nothing else read.

    What scoring reads: counting works on Arrow's dictionary codes, so no Python string is made per
    row (blank cells are refused there, with their line).
    """
    path = Path(path)
    limits = limits or InputLimits()
    check_size(path, limits)
    raw = csv_header(path)
    header = [c.strip() for c in raw]
    found = _column_map(header, CASE_COLUMNS, path)
    unknown = [s for s in strata if s not in header]
    if unknown:
        raise SignalDataError(
            f"strata column(s) {unknown} not in the header {header}", source=str(path), line=1
        )
    names = [*CASE_COLUMNS, *strata]
    wanted = [raw[header.index(found.get(name, name))] for name in names]
    try:
        table = read_text_table(path, wanted)
    except (pa.ArrowInvalid, StopIteration):
        frame = _read_text_table_pandas(path)
        frame.columns = [str(c).strip() for c in frame.columns]
        table = pa.Table.from_pandas(frame[[found.get(n, n) for n in names]], preserve_index=False)
    if table.num_rows > limits.max_rows:
        raise SignalDataError(
            f"{table.num_rows:,} rows, above the limit of {limits.max_rows:,}", source=str(path)
        )
    return table.rename_columns(names)


def read_counts(path: Path | str, limits: InputLimits | None = None) -> pd.DataFrame:
    """A count table as long rows (`drug`, `event`, `n` as int64), from long or MDDC-wide layout."""
    path = Path(path)
    frame = _read_text_table(path, limits or InputLimits())
    if {c.lower() for c in frame.columns} >= set(COUNT_COLUMNS):
        long = _normalise_header(frame, COUNT_COLUMNS, path)
        _first_blank(long, COUNT_COLUMNS, path)
        cols = [*COUNT_COLUMNS, *(["stratum"] if "stratum" in long.columns else [])]
        long = long[cols].copy()
        long["n"] = _whole_numbers(long["n"], path, "n", offset=0)
        return long
    return _wide_to_long(frame, path)


def _whole_numbers(values: pd.Series, path: Path, column: str, offset: int) -> pd.Series:
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    too_large = [i for i in np.flatnonzero(numbers.to_numpy() >= 2.0**62) if _exceeds_int64(text.iloc[i])]
    if too_large:
        row = int(too_large[0])
        raise SignalDataError(
            f"column {column!r}: count {text.iloc[row]} is larger than the largest count supported "
            "(2^63 - 1)",
            source=str(path),
            line=row + 2 + offset,
        )
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SignalDataError(
            f"column {column!r} must hold non-negative whole counts, got {values.iloc[row]!r}",
            source=str(path),
            line=row + 2 + offset,
        )
    as_float = numbers.to_numpy(np.float64)
    counts = np.where(as_float < 2.0**62, as_float, 0).astype(np.int64)
    beyond_float = np.flatnonzero(numbers.to_numpy() >= 2.0**53)  # float64 is exact below 2^53 only
    counts[beyond_float] = [int(text.iloc[i]) for i in beyond_float]
    return pd.Series(counts, index=values.index)


def _exceeds_int64(text: str) -> bool:
    """Exactly, not through float64 (which rounds 2^63 - 1 up to 2^63)."""
    try:
        return int(text) >= INT64_LIMIT
    except ValueError:
        return float(text) >= INT64_LIMIT


def _wide_to_long(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """MDDC layout: rows are adverse events (first column), columns are drugs, cells are counts."""
    if frame.shape[1] < 2:
        raise SignalDataError(
            "neither a long table (drug,event,n) nor a wide matrix (event column + drug columns)",
            source=str(path),
            line=1,
        )
    event_column = frame.columns[0]
    _first_blank(frame, [event_column], path)
    drugs = [c for c in frame.columns[1:] if c.lower() != "cluster_idx"]
    parts = []
    for drug in drugs:
        counts = _whole_numbers(frame[drug].fillna(""), path, drug, offset=0)
        parts.append(pd.DataFrame({"drug": drug, "event": frame[event_column].str.strip(), "n": counts}))
    return pd.concat(parts, ignore_index=True)
