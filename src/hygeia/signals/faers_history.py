"""The full FAERS history on one machine: quarter files read one at a time, only integer codes kept.

`faers.ingest_faers` builds the case-level table of every quarter in memory as pandas strings; for the
whole history (~10^8 report-drug-event rows) that needs far more than 24 GiB. Here each table file is
read on its own with only the columns counting needs, and what stays in memory is a few integers per
report version (pass 1: DEMO's case id, version, date and strata) and three int32 codes per distinct
report-drug-event row (pass 2: DRUG x REAC). The rules are `ingest_faers`'s — latest caseversion per
case across all quarters (ties: later fda_dt, then larger primaryid), DELETE lists, drug roles, name
normalisation — applied to the same rows, so the counts, scores and priorities are the same numbers
(tests/unit/signals/test_faers_history.py compares the two paths on a multi-quarter history).

Differences, by design: ids and dates are compared as numbers (FAERS defines them numeric; a
non-numeric primaryid or caseid is an error naming the file and line), strata are limited to the
report's own fields (quarter, sex, age_group), and INDI, RPSR and THER are not read (they add nothing
to the counts; time to onset stays with the in-memory ingest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from hygeia.signals.counts import PairCounts, arrow_codes, count_codes, distinct_count, distinct_sorted
from hygeia.signals.drug_names import normalise_drug_name
from hygeia.signals.errors import SignalDataError
from hygeia.signals.faers import (
    DEFAULT_ROLES,
    ROLES,
    SERIOUS_OUTCOMES,
    BadLines,
    IngestReport,
    _deleted_caseids,
    _read_table,
    age_group,
    checked_header,
)
from hygeia.signals.faers_source import FaersFile, FaersLimits, FaersSource, open_source
from hygeia.signals.scoring import Progress
from hygeia.signals.trend import latest_period_trend

STRATA = ("quarter", "sex", "age_group")
# A local history is tens of GB uncompressed; the upload limits are for uploads, not for this.
LIMITS = FaersLimits(max_member_bytes=64 * 1024**3, max_total_bytes=4 * 1024**4, max_members=100_000)
DEMO_COLUMNS = ("primaryid", "caseid", "caseversion", "fda_dt", "sex", "age", "age_cod")


class CodeBook:
    """Names to int codes in first-seen order, renumbered in name order once everything is read."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def encode(self, names: pd.Series | np.ndarray) -> np.ndarray:
        values, uniques = pd.factorize(np.asarray(names, dtype=object))
        mapped = np.array([self.codes.setdefault(str(u), len(self.codes)) for u in uniques], np.int32)
        return mapped[values] if values.size else np.empty(0, np.int32)

    def in_name_order(self) -> tuple[np.ndarray, np.ndarray]:
        """rank[first-seen code] and the names sorted: codes numbered in name order."""
        names = np.array(list(self.codes), dtype=object)
        order = np.argsort(names.astype(str), kind="stable")
        rank = np.empty(order.size, np.int32)
        rank[order] = np.arange(order.size, dtype=np.int32)
        return rank, names[order]


@dataclass
class Reports:
    """The kept report versions (latest per case, not deleted), sorted by primaryid."""

    primaryid: np.ndarray
    quarter: np.ndarray  # codes into `books["quarter"]`
    sex: np.ndarray
    age_group: np.ndarray
    serious: np.ndarray = field(init=False)
    death: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.serious = np.zeros(self.primaryid.size, bool)
        self.death = np.zeros(self.primaryid.size, bool)

    def index_of(self, table: pa.Table) -> np.ndarray:
        """Position of each row's report among the kept ones; -1 for a superseded, deleted or unknown id."""
        ids = _numbers(table, "primaryid")
        if not self.primaryid.size:
            return np.full(ids.size, -1)
        known = ~np.isnan(ids)
        ids = np.where(known, ids, -1).astype(np.int64)
        position = np.searchsorted(self.primaryid, ids).clip(max=self.primaryid.size - 1)
        found = known & (self.primaryid[position] == ids)
        return np.where(found, position, -1)


@dataclass
class FaersHistory:
    """What the streaming pass yields: the counts to score, per-pair context for the priority (in the
    counts' pair order), and the ingest report saying what happened to every row."""

    counts: PairCounts
    context: pd.DataFrame  # drug, event, share_serious, share_death, burst, ic025_change
    report: IngestReport
    periods: list[str]


def count_faers_history(
    path: str,
    roles: Sequence[str] = DEFAULT_ROLES,
    *,
    strip_salts: bool = True,
    strata: Sequence[str] = (),
    on_bad_lines: BadLines = "error",
    limits: FaersLimits = LIMITS,
    progress: Progress | None = None,
) -> FaersHistory:
    """Count every drug-event pair of a folder (or zip) of FAERS quarters, one file in memory at a time."""
    bad_roles = sorted(set(roles) - set(ROLES))
    if bad_roles:
        raise SignalDataError(f"unknown drug role(s) {bad_roles}; choose from {list(ROLES)}")
    unsupported = sorted(set(strata) - set(STRATA))
    if unsupported:
        raise SignalDataError(f"strata {unsupported} not available here; choose from {list(STRATA)}")
    source, report = open_source(path, limits), IngestReport()
    steps = _Steps(source, progress)
    books = {name: CodeBook() for name in ("quarter", "sex", "age_group", "drug", "event")}
    reports = _kept_reports(source, on_bad_lines, report, books, steps)
    _flag_outcomes(source, reports, on_bad_lines, report, steps)
    drug_rows = _drug_rows(source, reports, roles, strip_salts, on_bad_lines, report, books["drug"], steps)
    event_rows = _event_rows(source, reports, on_bad_lines, report, books["event"], steps)
    steps.done("files read; counting pairs")
    return _counted(reports, drug_rows, event_rows, books, tuple(strata), report)


class _Steps:
    """Progress as a share of the table files read (DEMO, OUTC, DRUG, REAC), then counting."""

    def __init__(self, source: FaersSource, progress: Progress | None) -> None:
        self.total = sum(len(source.of(t)) for t in ("DEMO", "OUTC", "DRUG", "REAC")) + 1
        self.finished, self.progress = 0, progress

    def done(self, message: str) -> None:
        self.finished += 1
        if self.progress is not None:
            self.progress(self.finished / self.total, message)


def _table(
    file: FaersFile, table: str, columns: Sequence[str], on_bad: BadLines, report: IngestReport
) -> pa.Table:
    """The wanted columns of one table file, parsed by Arrow's multithreaded CSV reader as bytes.

    A file with a malformed line is read again by `faers._read_table`, the in-memory ingest's exact
    reader, so the error (with its line number) or the skipped-line list is the same as there.
    """
    with file.open() as raw:
        header, trailing = checked_header(raw.readline().decode("utf-8", "replace"), table, file.name)
    names = [f"f{i}" for i in range(len(header) + int(trailing))]
    wanted = {f"f{i}": name for i, name in enumerate(header) if name in columns}
    malformed = False

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        nonlocal malformed
        malformed = malformed or bool(row.text.strip())  # a line of blanks is a blank line
        return "skip"

    with file.open() as raw:
        parsed = pa_csv.read_csv(
            raw,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(
                delimiter="$", quote_char=False, escape_char=False, invalid_row_handler=on_invalid
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(wanted), column_types=dict.fromkeys(wanted, pa.binary())
            ),
        )
    if malformed:
        frame = _read_table(file, table, on_bad, report, columns).drop(columns="quarter")
        return pa.Table.from_pandas(frame, preserve_index=False)
    report.files[file.name] = parsed.num_rows
    return parsed.rename_columns([wanted[n] for n in parsed.column_names])


def _strings(values: pa.Array) -> np.ndarray:
    """Python strings of an Arrow array; bytes decoded as the in-memory reader decodes its text."""
    if pa.types.is_binary(values.type):
        return np.array([b.decode("utf-8", "replace") for b in values.to_pylist()], dtype=object)
    return np.asarray(values.to_pylist(), dtype=object)


def _column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.array([""] * table.num_rows, pa.string())  # an optional column the file lacks
    return table.column(name).combine_chunks()


def _per_value(table: pa.Table, name: str, transform: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """`transform` applied once per distinct value (a quarter has ~10^6 rows, a few thousand values)."""
    codes, dictionary = arrow_codes(_column(table, name))
    return np.asarray(transform(pd.Series(_strings(dictionary), dtype=object)))[codes]


def _per_value_pair(
    table: pa.Table, names: tuple[str, str], transform: Callable[[pd.Series, pd.Series], np.ndarray]
) -> np.ndarray:
    """`transform` once per distinct pair of values of two columns (drug label + ingredient, age + unit)."""
    (first, first_names), (second, second_names) = (arrow_codes(_column(table, name)) for name in names)
    width = max(len(second_names), 1)
    combined = first * width + second
    distinct, inverse = np.unique(combined, return_inverse=True)
    left = pd.Series(_strings(first_names)[distinct // width], dtype=object)
    right = pd.Series(_strings(second_names)[distinct % width], dtype=object)
    return np.asarray(transform(left, right))[inverse]


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    """Float values with NaN where a cell is not a number (pandas' to_numeric with coerce)."""
    try:
        return pc.cast(pc.cast(_column(table, name), pa.string()), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # blanks or text: the exact, slower path
        return pd.to_numeric(pd.Series(_strings(_column(table, name))), errors="coerce").to_numpy(float)


def _whole_numbers(table: pa.Table, name: str, file: FaersFile) -> np.ndarray:
    numbers = _numbers(table, name)
    bad = np.isnan(numbers) | (numbers != np.floor(numbers))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        value = _strings(_column(table, name).slice(first, 1))[0]
        raise SignalDataError(f"{name} {value!r} is not a number", source=file.name, line=first + 2)
    return numbers.astype(np.int64)


def _as_number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").fillna(-1).to_numpy(float)


def _demo_arrays(
    file: FaersFile, on_bad: BadLines, report: IngestReport, books: dict[str, CodeBook]
) -> dict[str, np.ndarray]:
    demo = _table(file, "DEMO", DEMO_COLUMNS, on_bad, report)
    sex, ages = books["sex"], books["age_group"]
    return {
        "primaryid": _whole_numbers(demo, "primaryid", file),
        "caseid": _whole_numbers(demo, "caseid", file),
        "version": _per_value(demo, "caseversion", _as_number),
        "fda_dt": _per_value(demo, "fda_dt", _as_number),
        "quarter": books["quarter"].encode(np.full(demo.num_rows, file.quarter, dtype=object)),
        "sex": _per_value(demo, "sex", lambda s: sex.encode(s.replace("", "UNK"))),
        "age_group": _per_value_pair(demo, ("age", "age_cod"), lambda a, u: ages.encode(age_group(a, u))),
    }


def _kept_reports(
    source: FaersSource, on_bad: BadLines, report: IngestReport, books: dict[str, CodeBook], steps: _Steps
) -> Reports:
    """Pass 1: every DEMO row as numbers, then the latest version per case, minus deleted cases."""
    parts = []
    for file in source.of("DEMO"):
        parts.append(_demo_arrays(file, on_bad, report, books))
        steps.done(f"{file.name}: {len(parts[-1]['primaryid']):,} report versions")
    demo = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    report.demo_rows = int(demo["primaryid"].size)
    latest = _latest_versions(demo)
    report.superseded_versions = report.demo_rows - int(latest.size)
    deleted = np.array(sorted(int(c) for c in _deleted_caseids(source, report)), dtype=np.int64)
    gone = np.isin(demo["caseid"][latest], deleted)
    report.deleted_cases, latest = int(gone.sum()), latest[~gone]
    report.cases = int(latest.size)
    latest = latest[np.argsort(demo["primaryid"][latest], kind="stable")]
    return Reports(*(demo[key][latest] for key in ("primaryid", "quarter", "sex", "age_group")))


def _latest_versions(demo: dict[str, np.ndarray]) -> np.ndarray:
    """Row numbers of the kept versions, as `faers.latest_versions`: per case the highest version
    (ties: later fda_dt, larger primaryid, later row), then one row per primaryid (the last)."""
    rows = np.arange(demo["caseid"].size)
    order = np.lexsort((rows, demo["primaryid"], demo["fda_dt"], demo["version"], demo["caseid"]))
    case = demo["caseid"][order]
    latest = order[np.append(case[1:] != case[:-1], True)]
    reversed_ids = demo["primaryid"][latest][::-1]
    _, first_from_end = np.unique(reversed_ids, return_index=True)
    return latest[np.sort(latest.size - 1 - first_from_end)]


def _flag_outcomes(
    source: FaersSource, reports: Reports, on_bad: BadLines, report: IngestReport, steps: _Steps
) -> None:
    for file in source.of("OUTC"):
        outc = _table(file, "OUTC", ("primaryid", "outc_cod"), on_bad, report)
        index = reports.index_of(outc)
        code = _per_value(outc, "outc_cod", lambda c: c.str.strip().to_numpy(object))
        for flags, wanted in ((reports.serious, SERIOUS_OUTCOMES), (reports.death, ("DE",))):
            flags[index[(index >= 0) & np.isin(code, wanted)]] = True
        steps.done(f"{file.name}: outcomes")


def _drug_rows(
    source: FaersSource,
    reports: Reports,
    roles: Sequence[str],
    strip_salts: bool,
    on_bad: BadLines,
    report: IngestReport,
    book: CodeBook,
    steps: _Steps,
) -> tuple[np.ndarray, np.ndarray]:
    """Pass 2a: distinct (report, drug code) of the kept reports' drugs in the chosen roles."""
    names_of: dict[tuple[str, str], int] = {}  # a history repeats its drug labels millions of times

    def drug_codes(drugname: pd.Series, prod_ai: pd.Series) -> np.ndarray:
        labels = list(zip(drugname, prod_ai, strict=True))
        new = [label for label in labels if label not in names_of]
        names = np.array([normalise_drug_name(d, p, strip_salts) for d, p in new], dtype=object)
        codes = np.full(names.size, -1, np.int64)
        codes[names != ""] = book.encode(names[names != ""])
        names_of.update(zip(new, codes.tolist(), strict=True))
        return np.array([names_of[label] for label in labels], dtype=np.int64)

    parts = []
    for file in source.of("DRUG"):
        drug = _table(file, "DRUG", ("primaryid", "role_cod", "drugname", "prod_ai"), on_bad, report)
        index = reports.index_of(drug)
        current = index >= 0
        role_ok = _per_value(drug, "role_cod", lambda r: r.str.strip().str.upper().isin(roles).to_numpy())
        codes = _per_value_pair(drug, ("drugname", "prod_ai"), drug_codes)
        report.drug_rows_not_current += int((~current).sum())
        report.drug_rows_other_roles += int((current & ~role_ok).sum())
        report.drug_rows_unnamed += int((current & role_ok & (codes < 0)).sum())
        keep = current & role_ok & (codes >= 0)
        parts.append(_distinct(index[keep], codes[keep]))
        steps.done(f"{file.name}: {drug.num_rows:,} drug rows")
    return _merged(parts)


def _event_rows(
    source: FaersSource,
    reports: Reports,
    on_bad: BadLines,
    report: IngestReport,
    book: CodeBook,
    steps: _Steps,
) -> tuple[np.ndarray, np.ndarray]:
    """Pass 2b: distinct (report, event code) of the kept reports' MedDRA preferred terms."""

    def event_codes(pt: pd.Series) -> np.ndarray:
        terms = pt.str.strip().str.upper().to_numpy(object)
        codes = np.full(terms.size, -1, np.int64)
        named = terms != ""
        codes[named] = book.encode(terms[named])
        return codes

    parts = []
    for file in source.of("REAC"):
        reac = _table(file, "REAC", ("primaryid", "pt"), on_bad, report)
        index = reports.index_of(reac)
        report.reac_rows_not_current += int((index < 0).sum())
        codes = _per_value(reac, "pt", event_codes)
        keep = (index >= 0) & (codes >= 0)
        parts.append(_distinct(index[keep], codes[keep]))
        steps.done(f"{file.name}: {reac.num_rows:,} reaction rows")
    return _merged(parts)


def _distinct(report: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = distinct_sorted(report.astype(np.int64) << 32 | code.astype(np.int64))
    return (key >> 32).astype(np.int32), (key & 0xFFFFFFFF).astype(np.int32)


def _merged(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    return _distinct(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _renumbered(
    rows: tuple[np.ndarray, np.ndarray], book: CodeBook
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with codes in name order (and sorted again by report, code), plus the names."""
    rank, names = book.in_name_order()
    report, code = _distinct(rows[0], rank[rows[1]]) if rows[0].size else rows
    return report, code, names


def _joined(
    drug_report: np.ndarray, drug: np.ndarray, event_report: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (report, drug, event) of reports naming both: each drug row times its report's events,
    built with index arithmetic (no hash join), sorted by report, drug, event."""
    start = np.searchsorted(event_report, drug_report, "left")
    width = np.searchsorted(event_report, drug_report, "right") - start
    source_row = np.repeat(np.arange(drug_report.size), width)
    step = np.arange(source_row.size) - np.repeat(np.cumsum(width) - width, width)
    return drug_report[source_row], drug[source_row], event[np.repeat(start, width) + step]


def _counted(
    reports: Reports,
    drug_rows: tuple[np.ndarray, np.ndarray],
    event_rows: tuple[np.ndarray, np.ndarray],
    books: dict[str, CodeBook],
    strata: tuple[str, ...],
    report: IngestReport,
) -> FaersHistory:
    drug_report, drug, drug_names = _renumbered(drug_rows, books["drug"])
    event_report, event, event_names = _renumbered(event_rows, books["event"])
    report.reports_without_drug = report.cases - distinct_count(drug_report)
    report.reports_without_event = report.cases - distinct_count(event_report)
    row_report, row_drug, row_event = (
        codes.astype(np.int64) for codes in _joined(drug_report, drug, event_report, event)
    )
    del drug_report, drug, event_report, event
    report.pairs = int(row_report.size)
    if not row_report.size:
        raise SignalDataError("no report names both a drug (in the chosen roles) and an event")
    stratum = _strata_codes(reports, books, strata, row_report) if strata else None
    counts = count_codes(
        row_report, row_drug, row_event, drug_names, event_names, stratum, strata, rows_distinct=True
    )
    span = max(event_names.size, 1)
    pair = np.searchsorted(counts.drug * span + counts.event, row_drug * span + row_event)
    period, periods = _periods(reports.quarter[row_report], books["quarter"])
    burst, change = latest_period_trend(row_report, row_drug, row_event, pair, period, len(periods))
    context = pd.DataFrame(
        {
            "drug": counts.drug_names[counts.drug],
            "event": counts.event_names[counts.event],
            "share_serious": np.bincount(pair, reports.serious[row_report], counts.size) / counts.n,
            "share_death": np.bincount(pair, reports.death[row_report], counts.size) / counts.n,
            "burst": burst,
            "ic025_change": change,
        }
    )
    return FaersHistory(counts, context, report, periods)


def _periods(quarter: np.ndarray, book: CodeBook) -> tuple[np.ndarray, list[str]]:
    """Each row's period numbered 0.. in sorted order over the quarters that have rows."""
    present, inverse = np.unique(quarter, return_inverse=True)
    names = np.array(list(book.codes), dtype=object)[present].astype(str)
    order = np.argsort(names, kind="stable")
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    return rank[inverse], [str(n) for n in names[order]]


def _strata_codes(
    reports: Reports, books: dict[str, CodeBook], strata: tuple[str, ...], row_report: np.ndarray
) -> np.ndarray:
    """Each row's combination of strata, numbered as `counts._stratum_codes` numbers them: values in
    name order, combinations present in the rows in sorted order (so no stratum is empty)."""
    combined = np.zeros(reports.primaryid.size, np.int64)
    for column in strata:
        rank, names = books[column].in_name_order()
        combined = combined * max(names.size, 1) + rank[getattr(reports, column)]
    return pd.factorize(combined[row_report], sort=True)[0].astype(np.int64)
