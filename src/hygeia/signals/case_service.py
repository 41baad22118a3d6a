"""Use cases behind a ranked signal: its case series, its time to onset, what changed since the
previous run of the same source (the alert history), and in how many sources it alerts (consensus).
Tenant-scoped like every run query: the run is found through core.jobs with the caller's tenant, so
another tenant's run is a 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.cache import cache_key, get_cache
from hygeia.core.errors import Conflict, InputError
from hygeia.core.jobs import SUCCEEDED, JobInfo, get_job, list_jobs
from hygeia.signals import storage
from hygeia.signals.cases import (
    CASE_FIELDS,
    EVENT_COLUMNS,
    START_COLUMNS,
    case_rows,
    pair_reports,
    time_to_onset,
)
from hygeia.signals.columnar import write_table
from hygeia.signals.priority import LEVELS
from hygeia.signals.reports import read_case_rows
from hygeia.signals.schemas import (
    AlertChange,
    AlertChanges,
    CasePage,
    CaseReport,
    Consensus,
    ConsensusPair,
    ConsensusRun,
    TimeToOnsetOut,
)
from hygeia.signals.service import QUERIES, RUN_KIND, run_status

RUNS_SEARCHED = 500  # the previous run of a source is among the tenant's newest runs
CHANGES = ("new", "escalated", "de-escalated", "ended")


def _run_job(tenant_id: str, run_id: str) -> JobInfo:
    """The finished run's job: 404 for another tenant's run or another kind, 409 while it runs."""
    status = run_status(tenant_id, run_id).status
    if status != SUCCEEDED:
        raise Conflict(
            f"run {run_id!r} is {status}; its cases are read once it succeeds", title="Run not finished"
        )
    return get_job(tenant_id, run_id)


def _case_table(tenant_id: str, run_id: str) -> pd.DataFrame:
    job = _run_job(tenant_id, run_id)
    if job.payload.get("format") == "counts":
        raise Conflict(f"run {run_id!r} was scored from a count table: it has no case reports to show")
    with storage.upload_file(tenant_id, str(job.payload["upload_id"])) as path:
        return read_case_rows(Path(path), (*CASE_FIELDS, *START_COLUMNS, *EVENT_COLUMNS))


def _pair_cases(tenant_id: str, run_id: str, drug: str, event: str) -> dict[str, Any]:
    """The pair's case series and onset, computed once per run and pair, then cached."""
    key = cache_key("signals.cases", tenant_id, run_id, drug.strip().upper(), event.strip().upper())
    cached = get_cache().get_json(key)
    QUERIES.labels("cases", "hit" if cached is not None else "miss").inc()
    if cached is not None:
        return dict(cached)
    cases = _case_table(tenant_id, run_id)
    reports = pair_reports(cases, drug, event)
    rows = case_rows(cases, drug, event, reports.tolist())
    onset = time_to_onset(cases, drug, event)
    body = {
        "items": [CaseReport(**row.__dict__).model_dump() for row in rows],
        "onset": None if onset is None else onset.as_dict(),
    }
    get_cache().set_json(key, body)
    return body


def case_page(
    tenant_id: str, run_id: str, drug: str, event: str, *, limit: int = 50, offset: int = 0
) -> CasePage:
    """The reports behind a drug-event pair, one per report, in report-id order, a page at a time."""
    items = _pair_cases(tenant_id, run_id, drug, event)["items"]
    page = [CaseReport(**item) for item in items[offset : offset + limit]]
    return CasePage(
        run_id=run_id, drug=drug, event=event, total=len(items), limit=limit, offset=offset, items=page
    )


def export_cases(tenant_id: str, run_id: str, drug: str, event: str, path: Path) -> Path:
    """The whole case series as a spreadsheet-safe CSV: what a reviewer attaches to an escalation."""
    items = _pair_cases(tenant_id, run_id, drug, event)["items"]
    fields = sorted({name for item in items for name in item["fields"]}, key=_field_order)
    table = pd.DataFrame(
        [
            {
                "id": item["id"],
                **{name: item["fields"].get(name, "") for name in fields},
                "co_drugs": "; ".join(item["co_drugs"]),
                "co_events": "; ".join(item["co_events"]),
            }
            for item in items
        ],
        columns=["id", *fields, "co_drugs", "co_events"],
    )
    return write_table(table, path)


def _field_order(name: str) -> int:
    return CASE_FIELDS.index(name) if name in CASE_FIELDS else len(CASE_FIELDS)


def onset(tenant_id: str, run_id: str, drug: str, event: str) -> TimeToOnsetOut:
    """Time to onset of the pair, or available=False with the reason when the upload has no dates."""
    summary = _pair_cases(tenant_id, run_id, drug, event)["onset"]
    if summary is None:
        note = (
            "the upload has no start and event dates (start_dt/event_dt as FAERS THER/DEMO give them, "
            "or start_date/event_date), so no time to onset"
        )
        return TimeToOnsetOut(run_id=run_id, drug=drug, event=event, available=False, note=note)
    return TimeToOnsetOut(run_id=run_id, drug=drug, event=event, available=True, **summary)


def previous_run(tenant_id: str, job: JobInfo) -> JobInfo | None:
    """The same source's succeeded run created before this one, newest first."""
    source = job.payload.get("source")
    if not source:
        return None
    for other in list_jobs(tenant_id, RUNS_SEARCHED):
        if (
            other.kind == RUN_KIND
            and other.id != job.id
            and other.status == SUCCEEDED
            and other.payload.get("source") == source
            and (other.created_at, other.id) < (job.created_at, job.id)
        ):
            return other
    return None


def alert_changes(
    tenant_id: str, run_id: str, *, change: str | None = None, limit: int = 50, offset: int = 0
) -> AlertChanges:
    """What is new or changed in this run's alerts since the previous run of the same source."""
    job = _run_job(tenant_id, run_id)
    source = job.payload.get("source")
    before_job = previous_run(tenant_id, job)
    if before_job is None:
        note = "no earlier run of this source: every alert is new" if source else "this run names no source"
        before = pd.DataFrame(columns=["drug", "event", "alert_level", "n", "eb05", "ic025", "priority"])
    else:
        note, before = None, storage.load_ranked(tenant_id, before_job.id)
    table = _compared(before, storage.load_ranked(tenant_id, run_id))
    counts = {kind: int((table["change"] == kind).sum()) for kind in CHANGES}
    unchanged = int(((table["change"] == "same") & (table["level_now"] != "none")).sum())
    selected = table[table["change"] == change] if change else table[table["change"] != "same"]
    page = selected.iloc[offset : offset + limit]
    return AlertChanges(
        run_id=run_id,
        source=source,
        previous_run_id=None if before_job is None else before_job.id,
        counts=counts,
        unchanged_alerts=unchanged,
        total=len(selected),
        limit=limit,
        offset=offset,
        items=[AlertChange(**_clean(row)) for row in page.to_dict("records")],
        note=note,
    )


def _compared(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Both runs' pairs side by side with the kind of change; changes ranked by this run's priority."""
    columns = ["drug", "event", "alert_level", "n", "eb05", "ic025", "priority"]
    merged = before[columns[:-1]].merge(
        now[columns], on=["drug", "event"], how="outer", suffixes=("_before", "_now")
    )
    merged = merged.rename(columns={"alert_level_before": "level_before", "alert_level_now": "level_now"})
    merged = merged.rename(columns={"priority": "priority_now"})
    rank = {level: i for i, level in enumerate(LEVELS)}
    was = merged["level_before"].map(rank).fillna(0).to_numpy()
    is_ = merged["level_now"].map(rank).fillna(0).to_numpy()
    merged["change"] = np.select(
        [(was == 0) & (is_ > 0), (was > 0) & (is_ == 0), is_ > was, is_ < was],
        ["new", "ended", "escalated", "de-escalated"],
        "same",
    )
    return merged.sort_values(
        ["priority_now", "drug", "event"], ascending=[False, True, True], na_position="last"
    )


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """NaN (a pair absent from one run, an undefined score) as null."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in row.items()}


MAX_CONSENSUS_RUNS = 10


def consensus(
    tenant_id: str, run_ids: list[str], *, min_sources: int = 2, limit: int = 50, offset: int = 0
) -> Consensus:
    """Pairs by how many of several runs (e.g. FAERS and an internal safety database) flag them.

    A signal seen in independent sources is stronger evidence than one seen twice in the same data;
    names are matched case-blind. Pairs are ranked by the number of sources alerting, then by the best
    priority any source gives them.
    """
    distinct = list(dict.fromkeys(run_ids))
    if not 2 <= len(distinct) <= MAX_CONSENSUS_RUNS:
        raise InputError(f"give between 2 and {MAX_CONSENSUS_RUNS} different runs")
    if not 1 <= min_sources <= len(distinct):
        raise InputError(f"min_sources must be between 1 and the number of runs ({len(distinct)})")
    runs, tables = [], []
    for run_id in distinct:
        job = _run_job(tenant_id, run_id)
        table = storage.load_ranked(tenant_id, run_id)[["drug", "event", "alert_level", "priority"]].copy()
        table["key_drug"], table["key_event"] = table["drug"].str.upper(), table["event"].str.upper()
        alerts = int((table["alert_level"] != "none").sum())
        runs.append(
            ConsensusRun(run_id=run_id, source=job.payload.get("source"), pairs=len(table), alerts=alerts)
        )
        tables.append(table.assign(run_id=run_id))
    stacked = pd.concat(tables, ignore_index=True)
    grouped = stacked.groupby(["key_drug", "key_event"], sort=False)
    summary = grouped.agg(
        drug=("drug", "first"),
        event=("event", "first"),
        sources_with_pair=("run_id", "nunique"),
        best_priority=("priority", "max"),
    )
    summary["sources_alerting"] = grouped["alert_level"].agg(lambda levels: int((levels != "none").sum()))
    chosen = summary[summary["sources_alerting"] >= min_sources].sort_values(
        ["sources_alerting", "best_priority", "drug", "event"], ascending=[False, False, True, True]
    )
    page = chosen.iloc[offset : offset + limit]
    levels = stacked.set_index(["key_drug", "key_event", "run_id"])["alert_level"]
    items = [
        ConsensusPair(
            drug=row.drug,
            event=row.event,
            sources_alerting=int(row.sources_alerting),
            sources_with_pair=int(row.sources_with_pair),
            levels={run: levels.get((key[0], key[1], run)) for run in distinct},
            best_priority=float(row.best_priority),
        )
        for key, row in zip(page.index, page.itertuples(), strict=True)
    ]
    return Consensus(runs=runs, total=len(chosen), limit=limit, offset=offset, items=items)
