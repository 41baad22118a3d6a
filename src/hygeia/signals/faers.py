"""FAERS quarterly ASCII extracts to case-level rows: one row per (report, drug, event).

Rules (FDA's FAERS README and common practice, e.g. the faersquarterlydata R package):
* the '$'-delimited tables are read with their header; a row with too few or too many fields is an
  error naming the file and line (or, with on_bad_lines="skip", counted and reported — never silent);
* de-duplication: per caseid only the latest caseversion is kept (ties: later fda_dt, then larger
  primaryid), across all quarters given;
* cases on any DELETE list are removed;
* drugs are filtered by role (PS primary suspect, SS secondary suspect, C concomitant, I interacting;
  default PS + SS, the usual choice for disproportionality) and named by `normalise_drug_name`;
* events are MedDRA preferred terms, upper-cased; outcomes (OUTC) become seriousness flags.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from hygeia.signals.drug_names import normalise_drug_name
from hygeia.signals.errors import SignalDataError
from hygeia.signals.faers_source import FaersFile, FaersLimits, FaersSource, open_source

ROLES = ("PS", "SS", "C", "I")
DEFAULT_ROLES = ("PS", "SS")
SERIOUS_OUTCOMES = ("DE", "LT", "HO", "DS", "CA", "RI", "OT")
REQUIRED = {
    "DEMO": ("primaryid", "caseid", "caseversion"),
    "DRUG": ("primaryid", "role_cod", "drugname"),
    "REAC": ("primaryid", "pt"),
    "OUTC": ("primaryid", "outc_cod"),
}
_YEARS_PER_UNIT = {"YR": 1.0, "DEC": 10.0, "MON": 1 / 12, "WK": 1 / 52.18, "DY": 1 / 365.25, "HR": 1 / 8766}
BadLines = Literal["error", "skip"]


@dataclass
class IngestReport:
    """What happened to every row, so nothing disappears without a number next to it."""

    files: dict[str, int] = field(default_factory=dict)  # rows read per file
    skipped_bad_lines: dict[str, list[int]] = field(default_factory=dict)
    demo_rows: int = 0
    cases: int = 0
    superseded_versions: int = 0
    deleted_cases: int = 0
    drug_rows_other_roles: int = 0
    drug_rows_unnamed: int = 0
    drug_rows_not_current: int = 0  # primaryid not a kept (latest, undeleted) report version
    reac_rows_not_current: int = 0
    reports_without_drug: int = 0
    reports_without_event: int = 0
    pairs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _read_table(
    file: FaersFile, table: str, on_bad: BadLines, report: IngestReport, columns: Sequence[str] = ()
) -> pd.DataFrame:
    """One table file as strings; with `columns`, only those (that exist) are kept, so a quarter of
    the full history holds a few columns in memory, not all twenty-odd."""
    with file.open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        header, trailing = checked_header(text.readline(), table, file.name)
        kept = [i for i, name in enumerate(header) if not columns or name in columns]
        rows, bad = _split_rows(text, len(header) + int(trailing), kept, file.name, on_bad)
    if bad:
        report.skipped_bad_lines[file.name] = bad
    report.files[file.name] = len(rows)
    frame = pd.DataFrame(rows, columns=[header[i] for i in kept], dtype=object)
    frame["quarter"] = file.quarter
    return frame


def checked_header(line: str, table: str, source: str) -> tuple[list[str], bool]:
    """Column names of a table file (lower case) and whether lines end with a '$' (an empty field)."""
    header = [h.strip().lower() for h in line.rstrip("\r\n").split("$")]
    trailing = header[-1] == ""
    if trailing:
        header = header[:-1]
    missing = [c for c in REQUIRED.get(table, ("primaryid",)) if c not in header]
    if missing:
        hint = " (legacy LAERS files with ISR ids are not supported)" if "isr" in header else ""
        raise SignalDataError(f"header lacks {missing}{hint}", source=source, line=1)
    return header, trailing


def _split_rows(
    text: Iterable[str], width: int, kept: list[int], name: str, on_bad: BadLines
) -> tuple[list[list[str]], list[int]]:
    rows: list[list[str]] = []
    bad: list[int] = []
    reader = csv.reader(text, delimiter="$", quoting=csv.QUOTE_NONE, strict=False)
    prefix = len(kept) if kept == list(range(len(kept))) else 0  # the leading columns: one slice
    for line_no, fields in enumerate(reader, start=2):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != width:
            if on_bad == "skip":
                bad.append(line_no)
                continue
            raise SignalDataError(
                f"expected {width} '$'-separated fields, found {len(fields)}", source=name, line=line_no
            )
        rows.append(fields[:prefix] if prefix else [fields[i] for i in kept])
    return rows, bad


def _read_all(
    source: FaersSource, table: str, on_bad: BadLines, report: IngestReport, columns: Sequence[str] = ()
) -> pd.DataFrame | None:
    frames = [_read_table(f, table, on_bad, report, columns) for f in source.of(table)]
    return pd.concat(frames, ignore_index=True) if frames else None


def _deleted_caseids(source: FaersSource, report: IngestReport) -> set[str]:
    deleted: set[str] = set()
    for file in source.of("DELETE"):
        with file.open() as raw:
            lines = io.TextIOWrapper(raw, encoding="utf-8", errors="replace").read().splitlines()
        ids = [line.strip().split("$")[0] for line in lines if line.strip()]
        for line_no, value in enumerate(ids, start=1):
            if not value.isdigit():
                raise SignalDataError(f"case id {value!r} is not a number", source=file.name, line=line_no)
        report.files[file.name] = len(ids)
        deleted.update(ids)
    return deleted


def latest_versions(demo: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """One DEMO row per caseid: the highest caseversion (ties: later fda_dt, then larger primaryid)."""
    demo = demo.copy()
    demo["_version"] = pd.to_numeric(demo["caseversion"], errors="coerce").fillna(-1)
    demo["_fda_dt"] = demo["fda_dt"] if "fda_dt" in demo.columns else ""
    demo["_pid"] = pd.to_numeric(demo["primaryid"], errors="coerce").fillna(-1)
    demo = demo.sort_values(["caseid", "_version", "_fda_dt", "_pid"], kind="stable")
    latest = demo.drop_duplicates("caseid", keep="last")
    latest = latest.drop_duplicates("primaryid", keep="last")
    report.superseded_versions = len(demo) - len(latest)
    return latest.drop(columns=["_version", "_fda_dt", "_pid"])


def age_group(age: pd.Series, unit: pd.Series) -> pd.Series:
    """Age in years from FAERS age + age_cod, binned into the groups used as strata."""
    years = pd.to_numeric(age, errors="coerce") * unit.str.upper().map(_YEARS_PER_UNIT)
    bins = [-np.inf, 18, 45, 65, 75, np.inf]
    labels = ["0-17", "18-44", "45-64", "65-74", "75+"]
    groups = pd.cut(years, bins=bins, labels=labels, right=False).astype(object)
    return groups.where(years.notna() & (years >= 0) & (years < 130), "unknown")


def _outcome_flags(outc: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    flags = pd.DataFrame(index=ids)
    codes = pd.Series(dtype=object) if outc is None else outc.set_index("primaryid")["outc_cod"].str.strip()
    for column, wanted in (("serious", SERIOUS_OUTCOMES), ("death", ("DE",)), ("hospitalisation", ("HO",))):
        hit = codes[codes.isin(wanted)].index.unique()
        flags[column] = flags.index.isin(hit)
    return flags


def _current_drugs(
    drug: pd.DataFrame, current: pd.Index, roles: Sequence[str], strip_salts: bool, report: IngestReport
) -> pd.DataFrame:
    in_current = drug["primaryid"].isin(current)
    report.drug_rows_not_current = int((~in_current).sum())
    drug = drug[in_current]
    role_ok = drug["role_cod"].str.strip().str.upper().isin(roles)
    report.drug_rows_other_roles = int((~role_ok).sum())
    drug = drug[role_ok]
    prod_ai = drug["prod_ai"] if "prod_ai" in drug.columns else pd.Series("", index=drug.index)
    names = [normalise_drug_name(d, p, strip_salts) for d, p in zip(drug["drugname"], prod_ai, strict=True)]
    drug = drug.assign(drug=names)
    report.drug_rows_unnamed = int((drug["drug"] == "").sum())
    keep = ["primaryid", "drug", *(["drug_seq"] if "drug_seq" in drug.columns else [])]
    return drug[drug["drug"] != ""][keep].drop_duplicates()


def _therapy_starts(drugs: pd.DataFrame, ther: pd.DataFrame | None) -> pd.Series:
    """THER start_dt per (primaryid, drug), for time to onset: the earliest full YYYYMMDD date of the
    drug's therapies in the report, else a partial one (kept as given, so it is counted as partial)."""
    if ther is None or not {"primaryid", "dsg_drug_seq", "start_dt"} <= set(ther.columns):
        return pd.Series(dtype=object, name="start_dt")
    if "drug_seq" not in drugs.columns:
        return pd.Series(dtype=object, name="start_dt")
    starts = ther[["primaryid", "dsg_drug_seq", "start_dt"]].rename(columns={"dsg_drug_seq": "drug_seq"})
    merged = drugs.merge(starts, on=["primaryid", "drug_seq"])
    merged["start_dt"] = merged["start_dt"].fillna("").astype(str).str.strip()
    merged = merged[merged["start_dt"] != ""]
    merged["partial"] = ~merged["start_dt"].str.fullmatch(r"\d{8}")
    merged = merged.sort_values(["partial", "start_dt"], kind="stable")
    return merged.groupby(["primaryid", "drug"])["start_dt"].first()


def ingest_faers(
    path: Path | str,
    roles: Sequence[str] = DEFAULT_ROLES,
    *,
    strip_salts: bool = True,
    on_bad_lines: BadLines = "error",
    limits: FaersLimits | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    """Case-level rows (id, drug, event + caseid, quarter, flags, strata) and the ingest report."""
    bad_roles = sorted(set(roles) - set(ROLES))
    if bad_roles:
        raise SignalDataError(f"unknown drug role(s) {bad_roles}; choose from {list(ROLES)}")
    source = open_source(path, limits)
    report = IngestReport()
    demo = _read_all(source, "DEMO", on_bad_lines, report)
    assert demo is not None  # open_source guarantees a DEMO file
    report.demo_rows = len(demo)
    demo = latest_versions(demo, report)
    deleted = _deleted_caseids(source, report)
    report.deleted_cases = int(demo["caseid"].isin(deleted).sum())
    demo = demo[~demo["caseid"].isin(deleted)].set_index("primaryid")
    report.cases = len(demo)
    for table in ("INDI", "RPSR"):  # validated and counted; not needed for the pair table
        _read_all(source, table, on_bad_lines, report)
    ther = _read_all(source, "THER", on_bad_lines, report)  # therapy start dates: time to onset
    drugs = _current_drugs(
        _read_all(source, "DRUG", on_bad_lines, report), demo.index, roles, strip_salts, report
    )
    reac = _read_all(source, "REAC", on_bad_lines, report)
    assert reac is not None
    current_reac = reac["primaryid"].isin(demo.index)
    report.reac_rows_not_current = int((~current_reac).sum())
    events = reac[current_reac].assign(event=lambda r: r["pt"].str.strip().str.upper())
    events = events[events["event"] != ""][["primaryid", "event"]].drop_duplicates()
    report.reports_without_drug = int((~demo.index.isin(drugs["primaryid"])).sum())
    report.reports_without_event = int((~demo.index.isin(events["primaryid"])).sum())
    starts = _therapy_starts(drugs, ther)
    drugs = drugs[["primaryid", "drug"]].drop_duplicates()
    pairs = drugs.merge(events, on="primaryid").drop_duplicates()
    pairs = pairs.join(starts, on=["primaryid", "drug"]) if len(starts) else pairs.assign(start_dt="")
    pairs["start_dt"] = pairs["start_dt"].fillna("")
    cases = _attach_report_fields(pairs, demo, _read_all(source, "OUTC", on_bad_lines, report))
    report.pairs = len(cases)
    return cases, report


def _attach_report_fields(pairs: pd.DataFrame, demo: pd.DataFrame, outc: pd.DataFrame | None) -> pd.DataFrame:
    fields = pd.DataFrame(index=demo.index)
    fields["caseid"] = demo["caseid"]
    fields["quarter"] = demo["quarter"]
    fields["fda_dt"] = demo.get("fda_dt", pd.Series("", index=demo.index))
    fields["event_dt"] = demo.get("event_dt", pd.Series("", index=demo.index)).fillna("")
    fields["sex"] = demo.get("sex", pd.Series("", index=demo.index)).fillna("").replace("", "UNK")
    age = demo.get("age", pd.Series("", index=demo.index))
    unit = demo.get("age_cod", pd.Series("", index=demo.index)).fillna("")
    fields["age_group"] = age_group(age, unit)
    fields = fields.join(_outcome_flags(outc, demo.index))
    merged = pairs.join(fields, on="primaryid").rename(columns={"primaryid": "id"})
    ordered = [
        "id",
        "drug",
        "event",
        "caseid",
        "quarter",
        "fda_dt",
        "sex",
        "age_group",
        "serious",
        "death",
        "hospitalisation",
        "start_dt",
        "event_dt",
    ]
    return merged[ordered].sort_values(["id", "drug", "event"], kind="stable").reset_index(drop=True)
