"""Spreadsheet-safe CSV cells (OWASP "CSV injection"): every export of every domain goes through here.

Spreadsheet programs execute a cell that starts with ``= + - @`` (or a tab/carriage return that hides
one). A SMILES such as ``-OC`` or a drug name such as ``=HYPERLINK(...)`` must come back as text, so
such cells are prefixed with a single quote, which spreadsheets show as a text marker and never run.
Numbers are left alone: ``-1.5`` written by us is a number, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet will show it, never as a formula; non-text values pass through."""
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: spreadsheet_safe(value) for key, value in row.items()}


def write_safe_csv(handle: IO[str], fieldnames: list[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows as CSV with every text cell neutralised; returns the number of rows written."""
    writer = csv.DictWriter(handle, fieldnames=fieldnames, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(safe_row(row))
        count += 1
    return count
