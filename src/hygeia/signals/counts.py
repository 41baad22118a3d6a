"""Drug-event counts and expected counts, as openEBGM's `processRaw` defines them.

N is the number of *unique reports* naming both the drug and the event; the marginals are unique
reports per drug, per event and in total (not contingency-table sums, which double count reports
listing several drugs or events). Without strata E = (n_drug / n_total) * n_event; with strata it
is summed over strata of the same product computed within each stratum (a Mantel-Haenszel-style
standardisation), and a stratum contributes only where both the drug and the event occur in it —
exactly openEBGM's merge semantics, so a hidden comparison against it sees the same E.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hygeia.signals.errors import SignalDataError


@dataclass(frozen=True)
class PairCounts:
    """One entry per drug-event pair with N > 0; arrays are aligned by pair."""

    drug_names: np.ndarray  # object array: name of each drug code
    event_names: np.ndarray
    drug: np.ndarray  # int64 drug code per pair
    event: np.ndarray
    n: np.ndarray  # int64 unique reports with the drug and the event
    n_drug: np.ndarray  # int64 unique reports with the drug (per pair, broadcast)
    n_event: np.ndarray
    n_total: int
    expected: np.ndarray  # float64 E, stratified when strata were given
    strata: tuple[str, ...] = ()
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.n.size)

    def frame(self) -> pd.DataFrame:
        """The pairs as a DataFrame with names — for output and joins, not for the maths."""
        return pd.DataFrame(
            {
                "drug": self.drug_names[self.drug],
                "event": self.event_names[self.event],
                "n": self.n,
                "n_drug": self.n_drug,
                "n_event": self.n_event,
                "expected": self.expected,
            }
        )


CaseTable: TypeAlias = (
    pd.DataFrame | pa.Table
)  # case rows; an Arrow table straight from the CSV reader skips pandas


def _column(cases: CaseTable, column: str, source: str) -> pd.Series | pa.ChunkedArray:
    names = cases.column_names if isinstance(cases, pa.Table) else list(cases.columns)
    if column not in names:
        raise SignalDataError(f"missing column {column!r}; have {names}", source=source)
    return cases.column(column) if isinstance(cases, pa.Table) else cases[column]


def _sorted_by_name(codes: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber codes in name order (sorting the few distinct names, not the rows), so pairs sorted by
    code are pairs sorted by drug and event name: the output order, with no sort of the table."""
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes], names[order]  # codes are checked: no -1 left


def arrow_codes(values: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Arrow's dictionary encoding: one C++ hash pass, no Python string per row; -1 for a missing cell."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), encoded.dictionary


def _blank_error(column: str, rows: np.ndarray, source: str) -> SignalDataError:
    first = int(rows[0])
    return SignalDataError(
        f"empty {column!r} ({rows.size} such row(s) in the file); "
        "openEBGM-style counting needs every report to name an id, a drug and an event",
        source=source,
        line=first + 2,
    )


def _checked_codes(
    cases: CaseTable, column: str, source: str, sort: bool = True, names: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Codes for a column, refusing missing or blank values. Blankness is decided once per distinct
    value; names are materialised only when asked (report ids need a count, not 10^6 strings)."""
    values = _column(cases, column, source)
    if isinstance(values, pa.ChunkedArray) or (
        isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"
    ):
        arrow = values if isinstance(values, pa.ChunkedArray) else values.array._pa_array
        codes, dictionary = arrow_codes(arrow)
        blank = pc.equal(pc.utf8_trim_whitespace(dictionary.cast(pa.string())), "")
        distinct = dictionary.to_numpy(zero_copy_only=False) if names else np.empty(len(dictionary), object)
        blank_codes = np.flatnonzero(blank.to_numpy(zero_copy_only=False))
    else:
        codes, distinct = pd.factorize(values, sort=False)
        distinct = np.asarray(distinct, dtype=object)
        blank_codes = np.flatnonzero([not str(v).strip() for v in distinct])
    bad = codes < 0
    if blank_codes.size:
        bad |= np.isin(codes, blank_codes)
    if bad.any():
        raise _blank_error(column, np.flatnonzero(bad), source)
    codes = codes.astype(np.int64)
    if not names:
        return codes, np.empty(distinct.size, dtype=object)
    distinct = np.array([str(v) for v in distinct], dtype=object)
    return _sorted_by_name(codes, distinct) if sort and distinct.size else (codes, distinct)


def count_cases(cases: CaseTable, strata: Sequence[str] = (), source: str = "cases") -> PairCounts:
    """Counts from case-level rows (`id`, `drug`, `event`, optional strata columns).

    A report listing the same drug-event twice counts once (unique ids), which is the definition, not
    a drop; how many such duplicate rows there were is kept in `notes`. Pairs come out sorted by
    drug and event name.
    """
    ids, _ = _checked_codes(cases, "id", source, sort=False, names=False)
    drug, drug_names = _checked_codes(cases, "drug", source)
    event, event_names = _checked_codes(cases, "event", source)
    stratum = _stratum_codes(cases, strata, source) if strata else None
    return count_codes(ids, drug, event, drug_names, event_names, stratum, tuple(strata))


def count_codes(
    ids: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    drug_names: np.ndarray,
    event_names: np.ndarray,
    stratum: np.ndarray | None = None,
    strata: tuple[str, ...] = (),
    rows_distinct: bool = False,
) -> PairCounts:
    """Counts from coded case rows: int64 report ids, drug and event codes numbered in name order
    (names[code]), and one stratum code per row when stratified. The one counting routine behind
    both the in-memory table and the quarter-by-quarter FAERS history (faers_history.py), which
    passes `rows_distinct` for rows already distinct and sorted by report, drug, event: 10^8 rows
    then need no second copy."""
    n_drugs, n_events = max(int(drug_names.size), 1), max(int(event_names.size), 1)
    if rows_distinct:
        report, report_drug, report_event = ids, drug, event
    else:
        report, report_drug, report_event = _distinct_reports(ids, drug, event, n_drugs, n_events)
    pairs, n = _counted_keys(report_drug * n_events + report_event)
    pair_drug, pair_event = pairs // n_events, pairs % n_events
    drug_reports = reports_per_code(report, report_drug, n_drugs, already_sorted=True)
    event_reports = reports_per_code(report, report_event, n_events, already_sorted=False)
    n_total = distinct_count(report)
    if stratum is not None:
        expected = _stratified_expected(ids, drug, event, stratum, pair_drug, pair_event)
    else:
        expected = (drug_reports[pair_drug] / max(n_total, 1)) * event_reports[pair_event]
    notes = {"rows": int(ids.size), "duplicate_rows": int(ids.size - report.size)}
    return PairCounts(
        drug_names,
        event_names,
        pair_drug,
        pair_event,
        n.astype(np.int64),
        drug_reports[pair_drug],
        event_reports[pair_event],
        n_total,
        np.asarray(expected, dtype=np.float64),
        strata,
        notes,
    )


def _distinct_reports(
    ids: np.ndarray, drug: np.ndarray, event: np.ndarray, n_drugs: int, n_events: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (report, drug, event) rows sorted in that order, by one sort of one int64 key.

    Sorting beats hashing here: case files list a report's rows together, so the key is nearly sorted
    already, and the sorted order gives the per-drug margins for free (see reports_per_code).
    """
    span = n_drugs * n_events
    if ids.size and (int(ids.max()) + 1) * span >= 2**62:  # key would overflow: sort the columns
        order = np.lexsort((event, drug, ids))
        ids, drug, event = ids[order], drug[order], event[order]
        new = np.ones(ids.size, bool)
        new[1:] = (ids[1:] != ids[:-1]) | (drug[1:] != drug[:-1]) | (event[1:] != event[:-1])
        return ids[new], drug[new], event[new]
    keys = distinct_sorted(ids * span + drug * n_events + event)
    return keys // span, (keys % span) // n_events, keys % n_events


def _counted_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and how often each occurs, by one in-place sort (np.unique copies twice)."""
    keys.sort()
    starts = np.flatnonzero(np.append(True, keys[1:] != keys[:-1]))
    return keys[starts], np.diff(np.append(starts, keys.size))


def distinct_count(sorted_values: np.ndarray) -> int:
    """How many distinct values a sorted array holds."""
    return int(np.count_nonzero(np.diff(sorted_values))) + 1 if sorted_values.size else 0


def distinct_sorted(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    new = np.ones(keys.size, bool)
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    return keys[new]


def reports_per_code(report: np.ndarray, codes: np.ndarray, n_codes: int, already_sorted: bool) -> np.ndarray:
    """Distinct reports per code (drug or event), from the distinct (report, drug, event) rows.

    Within a report those rows are sorted by drug, so a (report, drug) repeat is always adjacent;
    events are not, so their (report, event) keys are sorted first.
    """
    if already_sorted:
        new = np.ones(report.size, bool)
        new[1:] = (report[1:] != report[:-1]) | (codes[1:] != codes[:-1])
        distinct_codes = codes[new]
    elif report.size == 0 or (int(report.max()) + 1) * n_codes < 2**62:
        distinct_codes = distinct_sorted(report * n_codes + codes) % n_codes
    else:
        pairs = pd.DataFrame({"r": report, "c": codes}).drop_duplicates()
        distinct_codes = pairs["c"].to_numpy()
    return np.bincount(distinct_codes, minlength=n_codes).astype(np.int64)


def _stratum_codes(cases: CaseTable, strata: Sequence[str], source: str) -> np.ndarray:
    """One code per combination of strata values (openEBGM pastes the strata columns together)."""
    combined = np.zeros(len(cases), dtype=np.int64)
    for column in strata:  # values in name order: the same numbers whatever the row order
        codes, names = _checked_codes(cases, column, source)
        combined = combined * max(names.size, 1) + codes
    return pd.factorize(combined, sort=True)[0].astype(np.int64)


def _stratified_expected(
    ids: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    stratum: np.ndarray,
    pair_drug: np.ndarray,
    pair_event: np.ndarray,
) -> np.ndarray:
    """E = sum over strata of (n_drug,s / n_s) * n_event,s for strata holding both drug and event."""
    n_strata = int(stratum.max()) + 1
    by_drug = _unique_matrix(ids, drug, stratum, int(drug.max()) + 1, n_strata)
    by_event = _unique_matrix(ids, event, stratum, int(event.max()) + 1, n_strata)
    per_stratum = pd.DataFrame({"id": ids, "s": stratum}).drop_duplicates()
    stratum_total = np.bincount(per_stratum["s"].to_numpy(), minlength=n_strata).astype(np.float64)
    expected = np.zeros(pair_drug.size, dtype=np.float64)
    for s in range(n_strata):
        expected += (by_drug[pair_drug, s] / stratum_total[s]) * by_event[pair_event, s]
    return expected


def _unique_matrix(
    ids: np.ndarray, codes: np.ndarray, stratum: np.ndarray, n_codes: int, n_strata: int
) -> np.ndarray:
    unique = pd.DataFrame({"id": ids, "code": codes, "s": stratum}).drop_duplicates()
    flat = unique["code"].to_numpy() * n_strata + unique["s"].to_numpy()
    counts = np.bincount(flat, minlength=n_codes * n_strata).astype(np.float64)
    return counts.reshape(n_codes, n_strata)


def count_table(table: pd.DataFrame, source: str = "counts") -> PairCounts:
    """Counts from a pre-aggregated long table (`drug`, `event`, `n`[, `stratum`]).

    With only cell counts there are no report ids, so marginals are table sums (DuMouchel 1999's
    original definition); with a `stratum` column E is summed within strata. Cells with n = 0 take
    part in the marginals (they add nothing) and are not scored: scoring covers pairs with N > 0.
    """
    if "n" not in table.columns:
        raise SignalDataError(f"missing column 'n'; have {list(table.columns)}", source=source)
    counts = pd.to_numeric(table["n"], errors="coerce")
    bad = counts.isna() | (counts < 0) | (counts != np.floor(counts))
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise SignalDataError(
            f"n must be a non-negative whole number, got {table['n'].iloc[first]!r}",
            source=source,
            line=first + 2,
        )
    drug, drug_names = _checked_codes(table, "drug", source)
    event, event_names = _checked_codes(table, "event", source)
    stratum = (
        _checked_codes(table, "stratum", source)[0] if "stratum" in table.columns else np.zeros_like(drug)
    )
    return _aggregate_cells(drug, event, stratum, counts.to_numpy(np.int64), drug_names, event_names)


def _aggregate_cells(
    drug: np.ndarray,
    event: np.ndarray,
    stratum: np.ndarray,
    cells: np.ndarray,
    drug_names: np.ndarray,
    event_names: np.ndarray,
) -> PairCounts:
    n_drugs, n_events, n_strata = drug_names.size, event_names.size, int(stratum.max()) + 1
    pair_code = drug * n_events + event
    by_drug = np.bincount(drug * n_strata + stratum, cells, n_drugs * n_strata).reshape(n_drugs, n_strata)
    by_event = np.bincount(event * n_strata + stratum, cells, n_events * n_strata).reshape(n_events, n_strata)
    stratum_total = np.bincount(stratum, cells, n_strata)
    pairs, inverse = np.unique(pair_code, return_inverse=True)
    n = np.bincount(inverse, cells).astype(np.int64)
    keep = n > 0
    pairs, n = pairs[keep], n[keep]
    pair_drug, pair_event = pairs // n_events, pairs % n_events
    expected = np.zeros(pairs.size)
    for s in range(n_strata):
        if stratum_total[s] > 0:
            expected += (by_drug[pair_drug, s] / stratum_total[s]) * by_event[pair_event, s]
    n_drug = by_drug.sum(axis=1).astype(np.int64)
    n_event = by_event.sum(axis=1).astype(np.int64)
    notes = {"cells": int(cells.size), "zero_cells": int((~keep).sum())}
    return PairCounts(
        drug_names,
        event_names,
        pair_drug,
        pair_event,
        n,
        n_drug[pair_drug],
        n_event[pair_event],
        int(stratum_total.sum()),
        expected,
        ("stratum",) if n_strata > 1 else (),
        notes,
    )
