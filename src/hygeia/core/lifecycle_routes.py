"""HTTP layer of the model lifecycle: outcomes and live performance per domain, releases for admins.

`/api/v1/{domain}/outcomes` serves every domain that registered an outcome kind (others answer 404).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, Path, UploadFile
from pydantic import BaseModel, Field

from hygeia.core import audit, live_performance, outcomes, release_report, releases
from hygeia.core.auth import Analyst, PlatformAdmin, Principal, Viewer
from hygeia.core.errors import PROBLEM_RESPONSES, InputError

MAX_CSV_BYTES = 5 * 1024 * 1024
CSV_COLUMNS = ("prediction_id", "input", "label", "observed", "source")
DOMAIN = Path(description="a domain that takes outcomes, e.g. toxicity or dermatology", examples=["toxicity"])


class OutcomeIn(BaseModel):
    """One observed result. Give the prediction's id, or the input itself (same key as predictions)."""

    prediction_id: str | None = Field(None, description="the id a prediction response carried")
    input: str | None = Field(
        None, description="toxicity: SMILES or InChIKey; dermatology: the image's sha256", examples=["CCO"]
    )
    label: str | None = Field(None, description="toxicity: the assay (e.g. NR-AR); dermatology: optional")
    observed: str | bool | int | None = Field(
        None,
        description="toxicity: active/inactive; dermatology: the histopathology class",
        examples=["active"],
    )
    source: str | None = Field(
        None, description="where the result comes from", examples=["lab assay 2026-11"]
    )


class OutcomeRowOut(BaseModel):
    row: int = Field(description="1-based position in the request (CSV: data row)")
    status: Literal["accepted", "error"]
    outcome_id: int | None = None
    input_key: str | None = None
    error: str | None = None


class OutcomesAccepted(BaseModel):
    capability: str
    accepted: int
    rejected: int
    rows: list[OutcomeRowOut]


class EstimateOut(BaseModel):
    value: float
    ci_low: float | None = Field(None, description="95 % bootstrap interval, when it can be estimated")
    ci_high: float | None = None


class LabelPerformanceOut(BaseModel):
    label: str
    n: int = Field(description="outcomes paired with this version's predictions")
    status: str = Field(examples=["ok", "not enough outcomes yet (12 of 30)"])
    counts: dict[str, int]
    metrics: dict[str, EstimateOut]


class VersionPerformanceOut(BaseModel):
    model: str
    version: str
    n_outcomes: int
    labels: list[LabelPerformanceOut]


class PerformanceOut(BaseModel):
    capability: str
    family: Literal["binary", "multiclass"]
    min_outcomes: int
    versions: list[VersionPerformanceOut]
    note: str = (
        "each version's newest prediction of an input against the newest outcome for it, in your tenant"
    )


class ReleaseIn(BaseModel):
    candidate_version: str = Field(examples=["2.0.0"])
    mode: releases.Mode
    shadow_rate: float = Field(0.0, ge=0, le=1, description="shadow: share of requests scored again")
    canary_percent: float = Field(0.0, ge=0, le=100, description="canary: percent of requests answered by it")
    sticky_by: releases.StickyBy = Field(
        "tenant", description="canary: keep a tenant, or an input, on one arm"
    )


class ReleaseOut(ReleaseIn):
    model_name: str
    updated_by: str
    updated_at: Any


class PromotedOut(BaseModel):
    model_name: str
    promoted_version: str
    report: dict[str, Any]


outcomes_api = APIRouter(tags=["outcomes"], responses=PROBLEM_RESPONSES)
releases_admin = APIRouter(prefix="/releases", tags=["releases"], responses=PROBLEM_RESPONSES)


def _accepted(
    principal: Principal, capability: str, rows: list[dict[str, Any]], after: BackgroundTasks
) -> OutcomesAccepted:
    """Store the rows; once answered, recompute the tenant's live performance, so its gauges (and the
    alerts on them) follow new outcomes without anyone opening the report."""
    if not rows or len(rows) > outcomes.MAX_OUTCOME_ROWS:
        raise InputError(f"send 1 to {outcomes.MAX_OUTCOME_ROWS} outcomes, not {len(rows)}")
    return outcomes_answer(principal, capability, outcomes.add_outcomes(principal, capability, rows), after)


def outcomes_answer(
    principal: Principal,
    capability: str,
    results: list[outcomes.RowResult],
    after: BackgroundTasks,
    **detail: Any,
) -> OutcomesAccepted:
    """Audit stored rows and answer them; a domain's own outcome route (dermatology's images) too."""
    accepted = sum(r.status == "accepted" for r in results)
    audit.record(
        principal,
        "outcomes.add",
        n_items=accepted,
        detail={"capability": capability, "rows": len(results), **detail},
    )
    if accepted:
        after.add_task(live_performance.performance, principal.tenant_id, capability)
    return OutcomesAccepted(
        capability=capability,
        accepted=accepted,
        rejected=len(results) - accepted,
        rows=[OutcomeRowOut(**asdict(r)) for r in results],
    )


@outcomes_api.post("/{domain}/outcomes", response_model=OutcomesAccepted)
def add_outcomes(
    body: list[OutcomeIn], principal: Analyst, after: BackgroundTasks, domain: str = DOMAIN
) -> OutcomesAccepted:
    """Store what turned out to be true (an assay result, a histopathology diagnosis) for predictions
    made in your tenant; each row is checked on its own and gets its own result or error."""
    return _accepted(principal, domain, [row.model_dump() for row in body], after)


@outcomes_api.post("/{domain}/outcomes/csv", response_model=OutcomesAccepted)
def add_outcomes_csv(
    principal: Analyst,
    after: BackgroundTasks,
    domain: str = DOMAIN,
    file: UploadFile = File(..., description=f"CSV with a header row: {', '.join(CSV_COLUMNS)}"),
) -> OutcomesAccepted:
    """The same as the JSON form, from a CSV file (UTF-8, header row; unknown columns are refused)."""
    data = file.file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InputError(f"the CSV is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB")
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        unknown = sorted(set(reader.fieldnames or ()) - set(CSV_COLUMNS))
        rows = [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"the file is not a UTF-8 CSV: {exc}") from exc
    if unknown or not reader.fieldnames:
        raise InputError(f"unknown or missing columns {unknown}; use {', '.join(CSV_COLUMNS)}")
    return _accepted(principal, domain, rows, after)


class OutcomeOut(BaseModel):
    label: str
    observed: str = Field(description="binary: 1 (active) or 0; multiclass: the class")
    source: str
    created_at: datetime


class PredictionRecordOut(BaseModel):
    id: str
    capability: str
    model_name: str
    model_version: str
    input_key: str = Field(description="toxicity: InChIKey of the standardised parent; dermatology: sha256")
    scores: dict[str, float]
    predicted: str | None = None
    created_at: datetime = Field(description="when this model version first gave this answer")
    outcomes: list[OutcomeOut] = Field(description="every outcome reported for the same input, oldest first")


@outcomes_api.get("/{domain}/predictions/{prediction_id}", response_model=PredictionRecordOut)
def prediction(prediction_id: str, principal: Viewer, domain: str = DOMAIN) -> PredictionRecordOut:
    """A prediction made in your tenant, by the id its answer carried, with the outcomes reported for it."""
    followed = outcomes.followed_prediction(principal.tenant_id, domain, prediction_id)
    return PredictionRecordOut.model_validate(asdict(followed))


@outcomes_api.get("/{domain}/outcomes/performance", response_model=PerformanceOut)
def performance(principal: Viewer, domain: str = DOMAIN) -> PerformanceOut:
    """Live performance of each model version that answered your tenant, on your outcomes: ROC-AUC
    and PR-AUC (binary) or balanced accuracy (multiclass) with 95 % CIs, Brier score and ECE."""
    kind, report = live_performance.performance(principal.tenant_id, domain)
    return PerformanceOut(
        capability=kind.capability,
        family=kind.family,
        min_outcomes=outcomes.LifecycleSettings().min_outcomes,
        versions=[VersionPerformanceOut.model_validate(asdict(v)) for v in report],
    )


def _release_out(release: releases.Release) -> ReleaseOut:
    return ReleaseOut(**asdict(release))


@releases_admin.get("", response_model=list[ReleaseOut])
def list_releases(_: PlatformAdmin) -> list[ReleaseOut]:
    return [_release_out(r) for r in releases.list_releases()]


@releases_admin.put("/{name}", response_model=ReleaseOut)
def set_release(name: str, body: ReleaseIn, principal: PlatformAdmin) -> ReleaseOut:
    """Run a registered candidate version beside production: in shadow (a sampled share of requests
    scored again off the request path, never returned) or as a canary (a sticky share answered by it)."""
    return _release_out(releases.set_release(principal, name, **body.model_dump()))


@releases_admin.delete("/{name}", response_model=ReleaseOut)
def end_release(name: str, principal: PlatformAdmin) -> ReleaseOut:
    return _release_out(releases.end_release(principal, name))


@releases_admin.get("/{name}/report")
def release_report_(name: str, _: PlatformAdmin, candidate: str | None = None) -> dict[str, Any]:
    """Production and candidate on the same inputs, every tenant: agreement, score distributions and
    both versions' live metrics on the cases with outcomes."""
    return release_report.comparison(name, candidate)


@releases_admin.post("/{name}/promote", response_model=PromotedOut)
def promote(name: str, principal: PlatformAdmin) -> PromotedOut:
    """Promote the release's candidate through the registry and end the release (audited with the report)."""
    version, report = release_report.promote_candidate(principal, name)
    return PromotedOut(model_name=name, promoted_version=version, report=report)
