"""Signal-detection use cases for the API, the CLI and agents; no FastAPI here.

A run: the uploaded report file is stored for the tenant, a background job ("signals.score") counts,
scores, fits the MGPS prior and ranks; the job result is the run summary (hyperparameters included)
and the ranked table is a file (see storage.py). Queries filter the ranked table and are cached.
"""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import pandas as pd
from prometheus_client import Counter, Histogram

from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.cache import cache_key, get_cache
from hygeia.core.db import new_id
from hygeia.core.errors import Conflict, InputError, NotFound, ProblemError, without_server_paths
from hygeia.core.jobs import SUCCEEDED, JobContext, JobInfo, get_job, register_job_handler, submit_job
from hygeia.core.observability import count_decisions
from hygeia.core.retention import register_job_cleanup, register_purger
from hygeia.core.tools import register_capability, register_startup, register_tool
from hygeia.signals import lifecycle, storage
from hygeia.signals.autohyper import FIT_RULES
from hygeia.signals.columnar import csv_delimiter, write_table
from hygeia.signals.e2b import ingest_e2b, is_e2b
from hygeia.signals.faers import ingest_faers
from hygeia.signals.priority import LEVELS, load_known_pairs, prioritise
from hygeia.signals.reports import read_case_table, read_counts
from hygeia.signals.schemas import PairDetail, RunStatus, Signal, SignalPage
from hygeia.signals.scoring import SCORED_COLUMNS, ScoringOptions, score_cases, score_count_table
from hygeia.signals.trend import period_table

RUN_KIND = "signals.score"
CASE_EXTRAS = ("serious", "death", "quarter")
FORMATS = ("cases", "counts", "faers")
TOP_IN_SUMMARY = 10
RUNS = Counter("hygeia_signal_runs_total", "Signal scoring runs by final status", ["status"])
PAIRS = Counter("hygeia_signal_pairs_scored_total", "Drug-event pairs scored")
RUN_SECONDS = Histogram(
    "hygeia_signal_run_seconds",
    "Duration of succeeded signal runs (read, count, fit, score, rank, store)",
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
IC025_BANDS = (-np.inf, 0.0, 1.0, 2.0, np.inf)  # bits: not disproportionate, weak, clear, strong
IC025_LABELS = ("below 0", "0-1", "1-2", "2 or more")
PAIRS_BY_IC025 = Counter(
    "hygeia_signal_pairs_by_ic025_total",
    "Scored pairs by IC025 band (the score distribution; IC025 exists with or without an MGPS prior)",
    ["band"],
)
QUERIES = Counter(
    "hygeia_signal_queries_total", "Signal queries by endpoint and cache result", ["endpoint", "cache"]
)


def _finite(value: Any) -> Any:
    """JSON (and PostgreSQL's json) has no NaN or infinity: undefined ratios become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _faers_suffix(content: bytes) -> str:
    """A FAERS upload is a zip of a quarter's ASCII tables or one FAERS XML (E2B) message."""
    if content.startswith(b"PK\x03\x04"):
        return ".zip"
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<ichicsr")):
        return ".xml"
    raise InputError(
        "a FAERS upload is a zip of one quarter's ASCII tables (DEMO, DRUG, REAC, ...) "
        "or a FAERS XML (ICH E2B) file"
    )


def submit_run(
    principal: Principal,
    content: bytes,
    *,
    strata: list[str],
    digits: int | None,
    input_format: str,
    fit_rule: str = "consistent",
    known: bytes | None = None,
    source: str | None = None,
) -> JobInfo:
    """Store the upload and queue its scoring; `known` is a CSV of labelled drug,event pairs.

    `source` names the data (e.g. "FAERS" or the file name): runs of the same source form the alert
    history, each compared with the previous one (case_service.alert_changes).
    """
    if input_format not in FORMATS:
        raise InputError(
            "format must be 'cases' (id,drug,event rows), 'counts' (drug,event,n) "
            "or 'faers' (quarterly ASCII zip or XML)"
        )
    if not content.strip():
        raise InputError("the uploaded file is empty")
    if fit_rule not in FIT_RULES:
        raise InputError(f"fit must be one of {', '.join(FIT_RULES)}")
    suffix = _faers_suffix(content) if input_format == "faers" else ".csv"
    upload_id = new_id()
    storage.save_upload(principal.tenant_id, upload_id, suffix, content)
    payload = {
        "upload_id": upload_id,
        "strata": strata,
        "digits": digits,
        "format": input_format,
        "suffix": suffix,
        "fit": fit_rule,
        "known": _known_pairs(known),
        "source": (source or "").strip()[:200] or None,
    }
    audit.record(
        principal, "signals.submit", payload=content, detail={"strata": strata, "format": input_format}
    )
    return submit_job(principal, RUN_KIND, payload)


MAX_KNOWN_PAIRS = 200_000


def _known_pairs(content: bytes | None) -> list[list[str]]:
    """The run's labelled (known) reactions, kept on the job: novelty 0.25 instead of 1 for these."""
    if not content or not content.strip():
        return []
    pairs = load_known_pairs(io.BytesIO(content), source="labelled reactions file")
    if len(pairs) > MAX_KNOWN_PAIRS:
        raise InputError(f"{len(pairs):,} labelled pairs; at most {MAX_KNOWN_PAIRS:,} per run")
    return sorted([d, e] for d, e in pairs)


def _ingest_upload(upload: Path, cases_csv: Path, ctx: JobContext) -> dict[str, Any]:
    """FAERS files to the case-level CSV the rest of the run reads, with the ingest report."""
    ctx.progress(0.02, "reading the FAERS files")
    ingest = ingest_e2b if is_e2b(upload) else ingest_faers
    cases, report = ingest(upload)
    cases.to_csv(cases_csv, index=False)
    ctx.progress(0.1, f"{report.pairs:,} report-drug-event rows from {report.cases:,} cases")
    return report.as_dict()


def _case_extras(path: Any) -> pd.DataFrame | None:
    sep = csv_delimiter(path)
    header = pd.read_csv(path, sep=sep, nrows=0).columns
    wanted = [c for c in ("id", "drug", "event", *CASE_EXTRAS) if c in header]
    if not set(CASE_EXTRAS) & set(wanted):
        return None
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, usecols=wanted)


def run_scoring(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The background job: score, rank, store; returns the run summary stored on the job."""
    started = time.monotonic()
    upload_id, suffix = payload["upload_id"], payload.get("suffix", ".csv")
    with storage.upload_file(ctx.tenant_id, upload_id, suffix) as upload, TemporaryDirectory() as scratch:
        summary = _score_upload(payload, ctx, upload, Path(scratch) / "cases.csv")
    RUN_SECONDS.observe(time.monotonic() - started)
    return summary


def _score_upload(payload: dict[str, Any], ctx: JobContext, path: Path, cases_csv: Path) -> dict[str, Any]:
    options = ScoringOptions(
        strata=tuple(payload.get("strata") or ()),
        digits=payload.get("digits", 2),
        fit_rule=payload.get("fit", "consistent"),
    )
    ingest_report = None
    try:
        if payload.get("format") == "faers":
            ingest_report = _ingest_upload(path, cases_csv, ctx)
            storage.save_upload(ctx.tenant_id, payload["upload_id"], ".csv", cases_csv)  # for trends
            path = cases_csv
        if payload.get("format") == "counts":
            run = score_count_table(read_counts(path), options, source="upload")
            extras = None
        else:
            run = score_cases(
                read_case_table(path, options.strata),
                options,
                lambda f, m: ctx.progress(0.85 * f, m),
                source="upload",
            )
            extras = _case_extras(path)
        ctx.progress(0.9, "ranking")
        known = {(d, e) for d, e in payload.get("known") or []}
        ranked = prioritise(run.table, extras, known)
        storage.save_ranked(ctx.tenant_id, ctx.job_id, ranked)
    except Exception as exc:
        RUNS.labels("failed").inc()
        raise _without_paths(exc) from exc
    RUNS.labels("succeeded").inc()
    PAIRS.inc(len(ranked))
    _count_scores(ranked)
    summary = run.summary()
    summary["alerts"] = {level: int((ranked["alert_level"] == level).sum()) for level in LEVELS}
    summary["labelled_pairs"] = {
        "given": len(known),
        "found_in_run": int((~ranked["novel"]).sum()),
        "note": "labelled (known) reactions get novelty 0.25 instead of 1 in the priority",
    }
    if ingest_report is not None:
        summary["ingest"] = ingest_report
    summary["top"] = [_signal_dict(row) for _, row in ranked.head(TOP_IN_SUMMARY).iterrows()]
    return json.loads(json.dumps(summary, default=float), parse_constant=lambda _: None)


def _count_scores(ranked: pd.DataFrame) -> None:
    """Metrics of a finished run: pairs per alert level (the platform's decision counter) and per
    IC025 band, counted with one numpy pass each, not one call per pair."""
    count_decisions("signals", ranked["alert_level"].astype(str))
    bands = np.histogram(ranked["ic025"].to_numpy(dtype=float), IC025_BANDS)[0]
    for label, count in zip(IC025_LABELS, bands, strict=True):
        PAIRS_BY_IC025.labels(label).inc(int(count))


def _without_paths(exc: Exception) -> ProblemError:
    """The job's error as the tenant sees it: the message, never a path on the server."""
    if isinstance(exc, ProblemError):
        return ProblemError(exc.status, exc.title, without_server_paths(exc.detail or exc.title))
    return ProblemError(500, "Run failed", f"{type(exc).__name__}: {without_server_paths(str(exc))}")


def _signal_dict(row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {
        f: _finite(row[f].item() if hasattr(row[f], "item") else row[f]) for f in EXPORT_COLUMNS
    }
    out["criteria_met"] = out["criteria_met"] or ""
    out["components"] = {
        name: float(row[f"c_{name}"]) for name in ("disproportionality", "seriousness", "trend", "novelty")
    }
    return out


def run_status(tenant_id: str, run_id: str) -> RunStatus:
    job = get_job(tenant_id, run_id)  # NotFound for another tenant's run
    if job.kind != RUN_KIND:
        raise NotFound(f"job {run_id!r} is not a signal run")
    state = ("status", "progress", "message", "created_at", "finished_at", "error")
    return RunStatus(run_id=job.id, summary=job.result, **{name: getattr(job, name) for name in state})


def _finished(tenant_id: str, run_id: str) -> None:
    status = run_status(tenant_id, run_id).status
    if status != SUCCEEDED:
        raise Conflict(
            f"run {run_id!r} is {status}; results exist once it succeeds", title="Run not finished"
        )


def list_signals(
    tenant_id: str,
    run_id: str,
    *,
    drug: str | None = None,
    event: str | None = None,
    min_eb05: float | None = None,
    alert_level: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SignalPage:
    """Ranked signals of a run (highest priority first) with filters; cached per tenant and query."""
    _finished(tenant_id, run_id)
    filters = {
        "drug": drug,
        "event": event,
        "min_eb05": min_eb05,
        "alert_level": alert_level,
        "limit": limit,
        "offset": offset,
    }
    key = cache_key("signals.list", tenant_id, run_id, json.dumps(filters, sort_keys=True))
    cached = get_cache().get_json(key)
    QUERIES.labels("list", "hit" if cached is not None else "miss").inc()
    if cached is not None:
        return _followed(SignalPage.model_validate(cached))
    table = storage.load_ranked(tenant_id, run_id)
    mask = pd.Series(True, index=table.index)
    if drug:
        mask &= table["drug"].str.upper() == drug.strip().upper()
    if event:
        mask &= table["event"].str.upper() == event.strip().upper()
    if min_eb05 is not None:
        mask &= table["eb05"] >= min_eb05
    if alert_level:
        mask &= table["alert_level"] == alert_level
    selected = table[mask]
    page = selected.iloc[offset : offset + limit]
    result = SignalPage(
        run_id=run_id,
        total=len(selected),
        limit=limit,
        offset=offset,
        items=[Signal(**_signal_dict(row)) for _, row in page.iterrows()],
    )
    get_cache().set_json(key, result.model_dump(mode="json"))
    return _followed(result)


def _followed(page: SignalPage) -> SignalPage:
    """The pairs a user gets back carry prediction ids (recorded for these pairs only, see lifecycle)."""
    lifecycle.follow(page.run_id, page.items)
    return page


EXPORT_COLUMNS = [*SCORED_COLUMNS, "alert_level", "criteria_met", "priority", "explanation"]


def export_signals(tenant_id: str, run_id: str, path: Path) -> Path:
    """The run's ranked table as a spreadsheet-safe CSV (formula-like names neutralised)."""
    _finished(tenant_id, run_id)
    table = storage.load_ranked(tenant_id, run_id)
    return write_table(table, path, [c for c in EXPORT_COLUMNS if c in table.columns])


def pair_detail(tenant_id: str, run_id: str, drug: str, event: str, period: str = "quarter") -> PairDetail:
    """One pair's scores and, when the upload has a period column, its cumulative IC over time."""
    found = list_signals(tenant_id, run_id, drug=drug, event=event, limit=1)
    if not found.items:
        raise NotFound(f"no pair {drug!r} / {event!r} in run {run_id!r}")
    signal = found.items[0]
    key = cache_key("signals.trend", tenant_id, run_id, signal.drug, signal.event, period)
    trend = get_cache().get_json(key)
    QUERIES.labels("detail", "hit" if trend is not None else "miss").inc()
    if trend is None:
        trend = _trend_points(tenant_id, run_id, signal.drug, signal.event, period)
        get_cache().set_json(key, trend)
    return PairDetail(run_id=run_id, signal=signal, **trend)


def _trend_points(tenant_id: str, run_id: str, drug: str, event: str, period: str) -> dict[str, Any]:
    with storage.upload_file(tenant_id, job_payload_upload(tenant_id, run_id)) as path:
        return _upload_trend(path, drug, event, period)


def _upload_trend(path: Path, drug: str, event: str, period: str) -> dict[str, Any]:
    sep = csv_delimiter(path)
    header = pd.read_csv(path, sep=sep, nrows=0).columns
    if period not in header:
        return {"trend": [], "trend_note": f"the upload has no {period!r} column, so no trend over time"}
    columns = ["id", "drug", "event", period]
    cases = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, usecols=columns)
    table = period_table(cases, period).frame
    rows = table[(table["drug"] == drug) & (table["event"] == event)]
    points = [
        {
            k: _finite(v.item() if hasattr(v, "item") else v)
            for k, v in r.items()
            if k not in ("drug", "event")
        }
        for r in rows.to_dict("records")
    ]
    return {"trend": points, "trend_note": None}


def job_payload_upload(tenant_id: str, run_id: str) -> str:
    """The run's upload id, from its job's payload (NotFound for another tenant's run)."""
    return str(get_job(tenant_id, run_id).payload["upload_id"])


def score_rows_tool(rows: list[dict[str, str]], top: int = 10) -> dict[str, Any]:
    """Agent tool: score a small list of {id, drug, event} rows and return the top signals."""
    if not rows or len(rows) > 100_000:
        raise InputError("give between 1 and 100,000 rows of {id, drug, event}")
    cases = pd.DataFrame(rows).astype(str)
    run = score_cases(cases, ScoringOptions())
    ranked = prioritise(run.table)
    return {
        "hyperparameters": run.summary()["hyperparameters"],
        "fit": run.summary()["fit"]["statement"],
        "signals": [_signal_dict(r) for _, r in ranked.head(max(1, min(top, 100))).iterrows()],
    }


def register() -> None:
    """Everything signals offers the platform, registered once by the composition root (hygeia.app):
    the scoring job with its file cleanup and upload retention, the agents' tool and the capability check."""
    register_job_handler(RUN_KIND, run_scoring)
    register_job_cleanup(RUN_KIND, storage.remove_run_files)
    register_purger("uploads", storage.purge_uploads)
    register_startup("signals.legacy_files", storage.adopt_legacy_files)  # runs kept in var/ before blobs
    register_tool(
        "signals.score_rows",
        "Rank drug-event signals (PRR, ROR, IC, EBGM) in case rows {id, drug, event}",
        score_rows_tool,
        input_schema={
            "type": "object",
            "properties": {"rows": {"type": "array"}, "top": {"type": "integer"}},
            "required": ["rows"],
        },
    )
    register_capability("signals", storage.unavailable_reason)
    lifecycle.register()  # outcomes: confirmed or refuted signals, ranked by EB05 and IC025
    from hygeia.signals import agent_tools  # imports this module, so not at the top

    agent_tools.register()  # signals.latest_run: the caller's own latest run, tenant-scoped
