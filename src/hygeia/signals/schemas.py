"""Request and response models of the signals API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

AlertLevel = Literal["none", "low", "medium", "high"]


class RunSubmitted(BaseModel):
    run_id: str = Field(description="also the job id: poll /api/v1/jobs/{run_id} or this run's URL")
    status: str
    model_config = {"json_schema_extra": {"examples": [{"run_id": "3f2a…", "status": "queued"}]}}


class RunStatus(BaseModel):
    run_id: str
    status: str
    progress: float
    message: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    summary: dict[str, Any] | None = Field(
        None, description="hyperparameters, fit diagnostics, counts and alert totals once finished"
    )


class Signal(BaseModel):
    drug: str
    event: str
    n: int
    expected: float
    prr: float | None
    chi2: float | None
    ror: float | None
    ror_lower: float | None
    ror_upper: float | None
    ic: float
    ic025: float
    ic975: float
    ebgm: float | None = Field(description="null when the run has no consistent MGPS prior (see summary.fit)")
    eb05: float | None
    eb95: float | None
    alert_level: AlertLevel
    criteria_met: str
    priority: float
    components: dict[str, float] = Field(
        description="disproportionality (bits), seriousness, trend and novelty factors; "
        "priority is their product"
    )
    explanation: str
    prediction_id: str | None = Field(
        None,
        description="follow this pair up: POST /api/v1/signals/outcomes with it (or the pair) once "
        "the signal is confirmed or refuted; stable per tenant, run and pair",
    )
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "drug": "ATORVASTATIN",
                    "event": "RHABDOMYOLYSIS",
                    "n": 2041,
                    "expected": 310.2,
                    "prr": 7.1,
                    "chi2": 9120.0,
                    "ror": 7.4,
                    "ror_lower": 7.0,
                    "ror_upper": 7.8,
                    "ic": 2.71,
                    "ic025": 2.64,
                    "ic975": 2.77,
                    "ebgm": 6.5,
                    "eb05": 6.3,
                    "eb95": 6.8,
                    "alert_level": "high",
                    "criteria_met": "mgps,bcpnn,evans",
                    "priority": 2.9,
                    "components": {
                        "disproportionality": 2.65,
                        "seriousness": 1.1,
                        "trend": 1.0,
                        "novelty": 1.0,
                    },
                    "explanation": "EB05 6.30, IC025 2.64 -> 2.65 bits; ...",
                }
            ]
        }
    }


class SignalPage(BaseModel):
    run_id: str
    total: int = Field(description="signals matching the filters")
    limit: int
    offset: int
    items: list[Signal]


class PeriodPoint(BaseModel):
    period: str
    n: int = Field(description="new reports of the pair in this period")
    cum_n: int
    cum_expected: float
    ic: float
    ic025: float


class PairDetail(BaseModel):
    run_id: str
    signal: Signal
    trend: list[PeriodPoint]
    trend_note: str | None = Field(None, description="why there is no trend, when there is none")


class PairCountIn(BaseModel):
    drug: str = Field(min_length=1, max_length=300)
    event: str = Field(min_length=1, max_length=300)
    n: int = Field(description="reports naming both the drug and the event")
    n_drug: int = Field(description="reports naming the drug")
    n_event: int = Field(description="reports naming the event")
    n_total: int | None = Field(None, description="reports in the database; or once for the request")
    labelled: bool = Field(False, description="a known (labelled) reaction: novelty 0.25 instead of 1")


class PriorIn(BaseModel):
    alpha1: float = Field(gt=0)
    beta1: float = Field(gt=0)
    alpha2: float = Field(gt=0)
    beta2: float = Field(gt=0)
    p: float = Field(gt=0, lt=1)


class PairScoreRequest(BaseModel):
    pairs: list[PairCountIn] = Field(min_length=1, max_length=1000)
    n_total: int | None = Field(None, description="database total for rows that do not give their own")
    prior: PriorIn | None = Field(
        None, description="a stated MGPS prior; else run_id's, else the latest run's"
    )
    run_id: str | None = Field(None, max_length=64, description="take the MGPS prior of this run")
    digits: int | None = Field(2, ge=0, le=12, description="EBGM/EB05/EB95 rounding (openEBGM's 2)")
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "pairs": [
                        {
                            "drug": "ATORVASTATIN",
                            "event": "RHABDOMYOLYSIS",
                            "n": 40,
                            "n_drug": 900,
                            "n_event": 120,
                        }
                    ],
                    "n_total": 250000,
                    "prior": {"alpha1": 3.256, "beta1": 0.4, "alpha2": 2.0238, "beta2": 1.9061, "p": 0.0653},
                }
            ]
        }
    }


class PairScore(BaseModel):
    drug: str | None
    event: str | None
    error: str | None = Field(
        None, description="why this row was not scored; the other fields are then absent"
    )
    n: int | None = None
    expected: float | None = None
    prr: float | None = None
    chi2: float | None = None
    ror: float | None = None
    ror_lower: float | None = None
    ror_upper: float | None = None
    ic: float | None = None
    ic025: float | None = None
    ic975: float | None = None
    ebgm: float | None = None
    eb05: float | None = None
    eb95: float | None = None
    alert_level: AlertLevel | None = None
    criteria_met: str | None = None
    priority: float | None = None
    components: dict[str, float] | None = None
    explanation: str | None = None


class PriorUsed(BaseModel):
    source: Literal["stated", "run", "latest run", "none"]
    run_id: str | None
    hyperparameters: dict[str, float] | None
    note: str | None = None


class PairScoreResponse(BaseModel):
    prior: PriorUsed
    note: str
    cached: bool
    items: list[PairScore] = Field(description="one per input pair, in input order")


class CaseReport(BaseModel):
    id: str = Field(description="the report id of the upload (FAERS: primaryid)")
    fields: dict[str, str] = Field(
        description="report-level fields the upload has: caseid, quarter, fda_dt, sex, age_group, "
        "serious, death, hospitalisation"
    )
    co_drugs: list[str] = Field(description="the report's other drugs")
    co_events: list[str] = Field(description="the report's other events")


class CasePage(BaseModel):
    run_id: str
    drug: str
    event: str
    total: int = Field(description="reports naming both the drug and the event")
    limit: int
    offset: int
    items: list[CaseReport]


class TimeToOnsetOut(BaseModel):
    run_id: str
    drug: str
    event: str
    available: bool = Field(description="false when the upload has no start and event dates")
    reports: int = 0
    with_days: int = Field(0, description="reports that gave a day count (start and event dated to the day)")
    missing_dates: int = 0
    partial_dates: int = Field(0, description="a date without its day (2019, 201903): not counted in days")
    event_before_start: int = 0
    median: float | None = None
    quartiles: list[float] | None = None
    minimum: int | None = None
    maximum: int | None = None
    windows: dict[str, int] = Field(default_factory=dict, description="reports per onset window")
    weibull_shape: float | None = None
    weibull_scale: float | None = None
    note: str = ""


ChangeKind = Literal["new", "escalated", "de-escalated", "ended"]


class AlertChange(BaseModel):
    drug: str
    event: str
    change: ChangeKind
    level_before: AlertLevel | None = Field(description="null: the pair was not in the previous run")
    level_now: AlertLevel | None = Field(description="null: the pair is not in this run")
    n_before: int | None
    n_now: int | None
    eb05_before: float | None
    eb05_now: float | None
    ic025_before: float | None
    ic025_now: float | None
    priority_now: float | None


class AlertChanges(BaseModel):
    run_id: str
    source: str | None = Field(description="the data's name; runs of one source form the history")
    previous_run_id: str | None = Field(description="the same source's run before this one; null: first run")
    counts: dict[str, int] = Field(description="pairs per change: new, escalated, de-escalated, ended")
    unchanged_alerts: int = Field(description="pairs alerting at the same level in both runs")
    total: int = Field(description="changes matching the filter")
    limit: int
    offset: int
    items: list[AlertChange]
    note: str | None = None


class ConsensusRun(BaseModel):
    run_id: str
    source: str | None
    pairs: int
    alerts: int = Field(description="pairs alerting (low, medium or high) in this run")


class ConsensusPair(BaseModel):
    drug: str
    event: str
    sources_alerting: int = Field(description="runs in which the pair alerts (low or above)")
    sources_with_pair: int = Field(description="runs in which the pair was reported at all")
    levels: dict[str, AlertLevel | None] = Field(
        description="alert level per run id; null: not reported there"
    )
    best_priority: float = Field(description="the highest priority any of the runs gives the pair")


class Consensus(BaseModel):
    runs: list[ConsensusRun]
    total: int = Field(description="pairs alerting in at least min_sources runs")
    limit: int
    offset: int
    items: list[ConsensusPair]
