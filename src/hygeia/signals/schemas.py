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
