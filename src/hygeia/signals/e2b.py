"""FAERS XML quarterly files (ICH E2B(R2) `ichicsr` messages) to the same case-level rows as the ASCII
extracts: one row per (report, drug, event) with caseid, quarter, sex, age group and seriousness flags.

Parsed with defusedxml, so entity expansion and external references are refused rather than followed,
one <safetyreport> at a time (a quarterly file of hundreds of MB is never held whole). Mapping:
* id = caseid + version, as FAERS builds `primaryid`; caseid = <safetyreportid>; only the latest
  version of each case is kept, by the same rule as the ASCII path;
* drug role from <drugcharacterization>: 1 suspect (kept when PS or SS is asked for, E2B does not
  tell primary from secondary), 2 concomitant (C), 3 interacting (I); the name is normalised from
  <medicinalproduct> and <activesubstancename> like DRUG's drugname and prod_ai;
* event = <reactionmeddrapt>, upper-cased; seriousness from <serious>, <seriousnessdeath>,
  <seriousnesshospitalization> (1 = yes); sex from <patientsex>; age from <patientonsetage> and
  its unit code (800 decade ... 805 hour).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from hygeia.signals.drug_names import normalise_drug_name
from hygeia.signals.errors import SignalDataError
from hygeia.signals.faers import DEFAULT_ROLES, ROLES, IngestReport, age_group, latest_versions
from hygeia.signals.faers_source import FaersLimits

SUSPECT_ROLES = {"PS", "SS"}
ROLE_OF_CHARACTERIZATION = {"1": "S", "2": "C", "3": "I"}
AGE_UNIT = {"800": "DEC", "801": "YR", "802": "MON", "803": "WK", "804": "DY", "805": "HR"}
SEX = {"1": "M", "2": "F"}
_QUARTER_IN_NAME = re.compile(r"(\d{2})Q([1-4])", re.IGNORECASE)
COLUMNS = ["id", "drug", "event", "caseid", "quarter", "fda_dt", "sex", "age_group"]
FLAGS = {"serious": "serious", "death": "seriousnessdeath", "hospitalisation": "seriousnesshospitalization"}


def _text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def is_e2b(path: Path) -> bool:
    """An .xml file, or a folder of .xml files without ASCII (.txt) tables."""
    if path.is_dir():
        return any(path.rglob("*.xml")) and not any(path.rglob("*.[tT][xX][tT]"))
    return path.suffix.lower() == ".xml"


def _files(path: Path, limits: FaersLimits) -> list[Path]:
    files = sorted(path.rglob("*.xml")) if path.is_dir() else [path]
    if not files or any(f.suffix.lower() != ".xml" for f in files):
        raise SignalDataError(f"{path}: expected FAERS XML (.xml) files")
    for file in files:
        if file.stat().st_size > limits.max_member_bytes:
            raise SignalDataError(f"{file.name}: larger than {limits.max_member_bytes:,} bytes")
    return files


def _quarter(file: Path, receipt_date: str) -> str:
    """The file's quarter as the ASCII path writes it (2022Q1), from its name, else the receipt date."""
    named = _QUARTER_IN_NAME.search(file.name)
    if named:
        return f"20{named.group(1)}Q{named.group(2)}"
    if len(receipt_date) >= 6 and receipt_date[:6].isdigit():
        return f"{receipt_date[:4]}Q{(int(receipt_date[4:6]) - 1) // 3 + 1}"
    return ""


def _safety_reports(file: Path) -> Iterator[Element]:
    """Each <safetyreport> once parsed, then dropped from the tree to keep memory flat."""
    try:
        for _, element in iterparse(str(file), events=("end",)):
            if element.tag == "safetyreport":
                yield element
                element.clear()
    except ParseError as exc:
        line, column = exc.position
        raise SignalDataError(f"{file.name}: malformed XML at line {line}, column {column}") from exc
    except DefusedXmlException as exc:
        raise SignalDataError(
            f"{file.name}: refused ({type(exc).__name__}: entities are not allowed)"
        ) from exc


def _wanted(characterization: str, roles: Sequence[str]) -> bool:
    role = ROLE_OF_CHARACTERIZATION.get(characterization, "")
    return bool(SUSPECT_ROLES & set(roles)) if role == "S" else role in roles


def _read_report(
    element: Element, file: Path, roles: Sequence[str], strip_salts: bool, report: IngestReport
) -> tuple[dict[str, Any], list[str], list[str]]:
    caseid, version = _text(element, "safetyreportid"), _text(element, "safetyreportversion") or "1"
    if not caseid:
        raise SignalDataError(f"{file.name}: a <safetyreport> without <safetyreportid>")
    receipt = _text(element, "receiptdate")
    demo = {
        "primaryid": caseid + version,
        "caseid": caseid,
        "caseversion": version,
        "fda_dt": receipt,
        "quarter": _quarter(file, receipt),
        "sex": SEX.get(_text(element, "patient/patientsex"), "UNK"),
        "age": _text(element, "patient/patientonsetage"),
        "age_cod": AGE_UNIT.get(_text(element, "patient/patientonsetageunit"), ""),
        **{flag: _text(element, tag) == "1" for flag, tag in FLAGS.items()},
    }
    drugs = []
    for drug in element.iterfind("patient/drug"):
        if not _wanted(_text(drug, "drugcharacterization"), roles):
            report.drug_rows_other_roles += 1
            continue
        name = normalise_drug_name(
            _text(drug, "medicinalproduct"), _text(drug, "activesubstance/activesubstancename"), strip_salts
        )
        if name:
            drugs.append(name)
        else:
            report.drug_rows_unnamed += 1
    events = [_text(r, "reactionmeddrapt").upper() for r in element.iterfind("patient/reaction")]
    return demo, drugs, [e for e in events if e]


def ingest_e2b(
    path: Path | str,
    roles: Sequence[str] = DEFAULT_ROLES,
    *,
    strip_salts: bool = True,
    limits: FaersLimits | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    """Case-level rows with the columns `ingest_faers` writes, and the ingest report."""
    bad_roles = sorted(set(roles) - set(ROLES))
    if bad_roles:
        raise SignalDataError(f"unknown drug role(s) {bad_roles}; choose from {list(ROLES)}")
    report = IngestReport()
    demos, pairs, with_drug, with_event = [], [], set(), set()
    for file in _files(Path(path), limits or FaersLimits()):
        count = 0
        for element in _safety_reports(file):
            demo, drugs, events = _read_report(element, file, roles, strip_salts, report)
            demos.append(demo)
            pairs += [(demo["primaryid"], d, e) for d in dict.fromkeys(drugs) for e in dict.fromkeys(events)]
            with_drug.update([demo["primaryid"]] if drugs else [])
            with_event.update([demo["primaryid"]] if events else [])
            count += 1
        report.files[file.name] = count
    if not demos:
        raise SignalDataError(f"{path}: no <safetyreport> found")
    report.demo_rows = len(demos)
    current = latest_versions(pd.DataFrame(demos), report).set_index("primaryid")
    report.cases = len(current)
    report.reports_without_drug = int((~current.index.isin(list(with_drug))).sum())
    report.reports_without_event = int((~current.index.isin(list(with_event))).sum())
    rows = pd.DataFrame(pairs, columns=["primaryid", "drug", "event"])
    rows = rows[rows["primaryid"].isin(current.index)]
    current["age_group"] = age_group(current["age"], current["age_cod"])
    merged = rows.join(current[COLUMNS[3:] + list(FLAGS)], on="primaryid").rename(columns={"primaryid": "id"})
    report.pairs = len(merged)
    ordered = merged[COLUMNS + list(FLAGS)].sort_values(["id", "drug", "event"], kind="stable")
    return ordered.reset_index(drop=True), report
