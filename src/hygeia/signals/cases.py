"""The case series behind one drug-event pair, and its time to onset where the reports carry dates.

A disproportionality score says a pair is reported more than expected; before escalating, a safety
scientist reads the reports themselves: who (sex, age group), when (quarter), how bad (serious,
death, hospitalisation) and with what else (the other drugs and events of the same report). This
module answers that from the run's own case rows, one row per report, in a stable order (report id).

Time to onset (days from the drug's start to the event) is the other thing a case series is read
for: reactions cluster early (hypersensitivity), late (cumulative toxicity) or nowhere. Where the
rows carry both dates (FAERS THER start_dt and DEMO event_dt, or start_date / event_date columns) it
is summarised as counts per window, quartiles and a Weibull shape (Cornelius et al. 2012: shape < 1,
risk falling after the start; about 1, constant; > 1, rising). Dates that cannot give a day count
(missing, partial like 2019 or 201903, or an event before the start) are counted, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

# Report-level fields shown per case, where the upload has them (FAERS ingest writes all of them).
CASE_FIELDS = ("caseid", "quarter", "fda_dt", "sex", "age_group", "serious", "death", "hospitalisation")
START_COLUMNS = ("start_dt", "start_date")
EVENT_COLUMNS = ("event_dt", "event_date")
ONSET_WINDOWS = ((0, 1, "0-1 days"), (2, 7, "2-7 days"), (8, 30, "8-30 days"), (31, 90, "31-90 days"))
ONSET_WINDOWS_LATE = ((91, 365, "91-365 days"), (366, None, "over a year"))
MIN_WEIBULL_CASES = 5  # fewer day counts than this say nothing about the shape of the hazard


def _matching(values: pd.Series, name: str) -> pd.Series:
    return values.astype(str).str.strip().str.upper() == name.strip().upper()


def pair_reports(cases: pd.DataFrame, drug: str, event: str) -> np.ndarray:
    """Ids of the reports naming both the drug and the event (names compared as the ranked list does)."""
    with_drug = set(cases.loc[_matching(cases["drug"], drug), "id"].astype(str))
    with_event = set(cases.loc[_matching(cases["event"], event), "id"].astype(str))
    return np.array(sorted(with_drug & with_event, key=_report_order), dtype=object)


def _report_order(report: str) -> tuple[bool, int, str]:
    """Numeric ids in number order (2 before 10), then the rest as text."""
    return (not report.isdigit(), int(report) if report.isdigit() else 0, report)


@dataclass(frozen=True)
class CaseRow:
    id: str
    fields: dict[str, str]
    co_drugs: list[str]
    co_events: list[str]


def case_rows(cases: pd.DataFrame, drug: str, event: str, reports: Sequence[str]) -> list[CaseRow]:
    """One row per report: its report-level fields and the other drugs and events it names."""
    if not len(reports):
        return []
    rows = cases[cases["id"].astype(str).isin(set(reports))].copy()
    rows["id"] = rows["id"].astype(str)
    present = [c for c in CASE_FIELDS if c in rows.columns]
    out = []
    for report, group in rows.groupby("id", sort=False):
        first = group.iloc[0]
        out.append(
            CaseRow(
                id=str(report),
                fields={c: "" if pd.isna(first[c]) else str(first[c]) for c in present},
                co_drugs=_others(group["drug"], drug),
                co_events=_others(group["event"], event),
            )
        )
    order = {report: i for i, report in enumerate(reports)}
    return sorted(out, key=lambda row: order[row.id])


def _others(values: pd.Series, name: str) -> list[str]:
    distinct = values.dropna().astype(str).str.strip().unique()
    return sorted(v for v in distinct if v and v.upper() != name.strip().upper())


@dataclass(frozen=True)
class TimeToOnset:
    """Days from the drug's start to the event over the pair's reports with both dates."""

    reports: int  # reports of the pair
    with_days: int  # reports that gave a day count
    missing_dates: int  # a date absent
    partial_dates: int  # a date without its day (2019, 201903): no day count can be had
    event_before_start: int  # event dated before the start: a data error or a pre-existing event
    median: float | None = None
    quartiles: tuple[float, float] | None = None
    minimum: int | None = None
    maximum: int | None = None
    windows: dict[str, int] = field(default_factory=dict)
    weibull_shape: float | None = None
    weibull_scale: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        body = dict(self.__dict__)
        body["quartiles"] = list(self.quartiles) if self.quartiles else None
        return body


def date_columns(columns: Sequence[str]) -> tuple[str, str] | None:
    """The (start, event) date columns of an upload, or None when it lacks either."""
    start = next((c for c in START_COLUMNS if c in columns), None)
    end = next((c for c in EVENT_COLUMNS if c in columns), None)
    return (start, end) if start and end else None


def _parse_days(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as days since the epoch (NaN where unusable) and which cells held a partial date."""
    text = values.fillna("").astype(str).str.strip()
    compact = text.str.fullmatch(r"\d{8}")
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    partial = text.str.fullmatch(r"\d{4}|\d{6}|\d{4}-\d{2}")
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if compact.any():
        parsed[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    if iso.any():
        parsed[iso] = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
    days = (parsed - pd.Timestamp(0)).dt.days.astype("float64")
    return days, partial


def time_to_onset(cases: pd.DataFrame, drug: str, event: str) -> TimeToOnset | None:
    """The pair's onset summary, or None when the rows carry no start and event dates."""
    columns = date_columns(list(cases.columns))
    if columns is None:
        return None
    start_column, event_column = columns
    reports = pair_reports(cases, drug, event)
    rows = cases[cases["id"].astype(str).isin(set(reports)) & _matching(cases["drug"], drug)]
    start, start_partial = _parse_days(rows[start_column])
    end, end_partial = _parse_days(rows[event_column])
    frame = pd.DataFrame(
        {"id": rows["id"].astype(str), "start": start, "end": end, "partial": start_partial | end_partial}
    )
    # several therapy rows of the drug in one report: the earliest start is when exposure began
    per_report = frame.groupby("id").agg(
        start=("start", "min"), end=("end", "min"), partial=("partial", "any")
    )
    per_report = per_report.reindex(reports)
    days = per_report["end"] - per_report["start"]
    missing = days.isna() & ~per_report["partial"].fillna(False).astype(bool)
    partial = days.isna() & per_report["partial"].fillna(False).astype(bool)
    negative = days < 0
    usable = days[days >= 0].to_numpy(dtype=float)
    summary = TimeToOnset(
        reports=len(reports),
        with_days=int(usable.size),
        missing_dates=int(missing.sum()),
        partial_dates=int(partial.sum()),
        event_before_start=int(negative.sum()),
    )
    return _summarised(summary, usable) if usable.size else summary


def _summarised(base: TimeToOnset, days: np.ndarray) -> TimeToOnset:
    q1, median, q3 = (float(v) for v in np.percentile(days, [25, 50, 75]))
    windows = {}
    for low, high, label in (*ONSET_WINDOWS, *ONSET_WINDOWS_LATE):
        inside = days >= low if high is None else (days >= low) & (days <= high)
        windows[label] = int(inside.sum())
    shape, scale, note = _weibull(days)
    return replace(
        base,
        median=median,
        quartiles=(q1, q3),
        minimum=int(days.min()),
        maximum=int(days.max()),
        windows=windows,
        weibull_shape=shape,
        weibull_scale=scale,
        note=note,
    )


def _weibull(days: np.ndarray) -> tuple[float | None, float | None, str]:
    """Weibull shape and scale by maximum likelihood (location 0); same-day onsets count as half a day."""
    if days.size < MIN_WEIBULL_CASES:
        return None, None, f"Weibull shape needs at least {MIN_WEIBULL_CASES} day counts"
    if np.unique(days).size < 2:
        return None, None, "every onset is the same day count: no Weibull shape"
    from scipy import stats

    shape, _, scale = stats.weibull_min.fit(np.maximum(days, 0.5), floc=0)
    if not (math.isfinite(shape) and math.isfinite(scale)):
        return None, None, "the Weibull fit did not converge"
    return (
        float(shape),
        float(scale),
        f"Weibull shape {shape:.2f} (point estimate, no interval): below 1 the risk falls after the "
        "start (early reactions), near 1 it is constant, above 1 it rises (cumulative exposure)",
    )
