"""Retraining that proves itself: accepted outcomes as training rows, and a scheduled check that asks
for a retrained candidate when drift or live performance crosses a threshold.

A domain registers a `Retrainer` from its register(): the model it retrains and the job kind that
trains, evaluates and registers a candidate. The core never imports a domain and never promotes: the
job registers a staging candidate whose card compares it with production on the same held-out data,
and a platform admin decides (shadow, canary, promote). The check runs under Celery Beat
(`hygeia beat`) or by hand (`hygeia maintenance retrain-check`); every request it makes is audited
with its reasons, in the tenant whose outcomes and traffic crossed the threshold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select

from hygeia.core import audit, jobs
from hygeia.core.auth import Principal
from hygeia.core.db import system_session, tenant_session, utcnow
from hygeia.core.drift import drift_monitor
from hygeia.core.errors import InputError
from hygeia.core.live_performance import performance
from hygeia.core.outcomes import records
from hygeia.core.registry import get_registry
from hygeia.core.tables import Outcome, Tenant

log = structlog.get_logger("hygeia.retraining")
RETRAIN_REQUESTS = Counter(
    "hygeia_retrain_requests_total",
    "Thresholds crossed per model: retraining requested or held back",
    ["model", "fate"],
)
SCHEDULER = "system:retraining"
FLOOR_METRICS = {"roc_auc": "live_roc_auc_below", "balanced_accuracy": "live_balanced_accuracy_below"}


class RetrainSettings(BaseSettings):
    """HYGEIA_RETRAIN_*: when the scheduled check asks for a retrained candidate."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_RETRAIN_", env_file=".env", extra="ignore")

    enabled: bool = True
    drift_psi: float = Field(0.25, gt=0)  # any signal of the production version at or above this
    live_roc_auc_below: float = Field(0.65, ge=0, le=1)  # binary labels with enough outcomes
    live_balanced_accuracy_below: float = Field(0.55, ge=0, le=1)  # multiclass labels
    cooldown_hours: float = Field(168.0, ge=0)  # no second request per model and tenant within this


@dataclass(frozen=True)
class Retrainer:
    """A model a domain can retrain, and the job kind that trains and registers its candidate."""

    model_name: str
    capability: str  # whose outcomes and live performance the check reads
    job_kind: str
    # why a tenant's outcomes cannot train a candidate (dermatology: no consented image), or None;
    # the check then holds the request back and audits why instead of starting a job that would refuse
    unable: Callable[[str], str | None] | None = None


_retrainers: dict[str, Retrainer] = {}


def register_retrainer(retrainer: Retrainer) -> None:
    _retrainers[retrainer.model_name] = retrainer


def retrainers() -> list[Retrainer]:
    return [_retrainers[name] for name in sorted(_retrainers)]


@dataclass(frozen=True)
class TrainingOutcome:
    """One accepted outcome a retraining may learn from: the newest for its (input, label) in a tenant."""

    id: int
    tenant_id: str
    input_key: str
    input_text: str | None  # the domain's kept input (e.g. SMILES); None when none was ever given
    label: str
    observed: str


def training_outcomes(tenant_ids: Iterable[str], capability: str) -> list[TrainingOutcome]:
    """The tenants' newest outcome per (input, label), each with the input kept by any outcome of the
    same input in that tenant (an outcome given by prediction id or key borrows it from another)."""
    records.flush()
    chosen: list[TrainingOutcome] = []
    for tenant_id in sorted(set(tenant_ids)):
        with tenant_session(tenant_id) as session:
            query = (
                select(Outcome)
                .where(Outcome.capability == capability)
                .order_by(Outcome.created_at, Outcome.id)
            )
            rows = list(session.scalars(query))
        texts = {row.input_key: row.input_text for row in rows if row.input_text}
        newest = {(row.input_key, row.label): row for row in rows}
        chosen += [
            TrainingOutcome(row.id, tenant_id, key, texts.get(key), label, row.observed)
            for (key, label), row in sorted(newest.items())
        ]
    return chosen


def outcome_ids_sha256(outcomes: Sequence[TrainingOutcome]) -> str:
    """Provenance of a training set: the hash of its outcome ids, in order (tenant, id)."""
    text = ",".join(f"{o.tenant_id}:{o.id}" for o in sorted(outcomes, key=lambda o: (o.tenant_id, o.id)))
    return hashlib.sha256(text.encode()).hexdigest()


class RetrainRefused(InputError):
    """Nothing to retrain with (no usable outcome), said before any training starts."""


def held_out_group(group: str, fraction: float, seed: int) -> bool:
    """A stable draw per group (a scaffold, a compound): the same group is on the same side of the
    outcome hold-out in every run with this seed, so no group is both trained on and scored."""
    digest = hashlib.sha256(f"{seed}\x1f{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def candidate_version(production: str, now: datetime) -> str:
    """A PEP 440 local version: production's, marked as retrained with outcomes at a time."""
    return f"{production}+outcomes.{now:%Y%m%d%H%M%S}"


def nothing_to_train(
    what: str, tenants: Sequence[str], provenance: Mapping[str, Any], held_out: int, unit: str, advice: str
) -> RetrainRefused:
    """The refusal every domain gives, before any training, when no outcome of `tenants` is usable."""
    return RetrainRefused(
        f"no {what} of {', '.join(tenants)} can be trained on ({provenance['outcomes']} outcomes, not "
        f"usable: {provenance['not_usable']}, {held_out} {unit} held out): {advice}"
    )


def _requested_reasons(payload: Mapping[str, Any]) -> list[str]:
    reasons = payload.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise InputError("reasons must be a list of text")
    return reasons


def run_staged(
    payload: Mapping[str, Any],
    ctx: jobs.JobContext,
    train: Callable[..., dict[str, Any]],
    summarise: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """A domain's scheduled retraining job, after it built its recipe: the reasons the check put in the
    payload (checked before training), progress to the job, and the candidate registered in staging
    with its headline and comparison as the result. `train(reasons=, log=)` returns the card."""
    reasons = _requested_reasons(payload)

    def progress(message: str) -> None:
        ctx.progress(0.5, message[:200])

    card = train(reasons=reasons, log=progress)
    return {
        "model": {"name": card["name"], "version": card["version"], "sha256": card["sha256"][:12]},
        "stage": "staging",
        "summary": summarise(card),
        "retraining": card["retraining"],
    }


@dataclass
class Decision:
    """What the check concluded for one model in one tenant."""

    tenant_id: str
    model_name: str
    version: str
    reasons: list[str] = field(default_factory=list)
    job_id: str | None = None
    held_back: str | None = None  # crossed, but not requested (cooling down, or a job still running)


def live_reasons(tenant_id: str, retrainer: Retrainer, version: str, settings: RetrainSettings) -> list[str]:
    """Labels whose live ranking metric, with enough outcomes, fell below the floor."""
    _, report = performance(tenant_id, retrainer.capability)
    reasons = []
    for row in report:
        if row.version != version:
            continue
        for label in row.labels:
            for metric, setting in FLOOR_METRICS.items():
                estimate = label.metrics.get(metric)
                floor = float(getattr(settings, setting))
                if estimate is not None and estimate.value < floor:
                    reasons.append(
                        f"live {metric} {estimate.value:.3f} < {floor} on {label.label} ({label.n} outcomes)"
                    )
    return reasons


def drift_reasons(tenant_id: str, model_name: str, version: str, settings: RetrainSettings) -> list[str]:
    """Signals of the production version whose PSI over the drift window reached the threshold."""
    return [
        f"drift PSI {row['psi']:.3f} >= {settings.drift_psi} on {row['signal']} "
        f"({row['observations']} observations)"
        for row in drift_monitor.report(tenant_id)
        if row["model"] == model_name
        and row["version"] == version
        and row["psi"] is not None
        and row["psi"] >= settings.drift_psi
    ]


def _held_back(tenant_id: str, job_kind: str, now: datetime, settings: RetrainSettings) -> str | None:
    since = now - timedelta(hours=settings.cooldown_hours)
    for job in jobs.list_job_summaries(tenant_id, limit=20, kind=job_kind):
        created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=now.tzinfo)
        if job.finished_at is None:
            return f"retraining job {job.id} is still {job.status}"
        if created >= since:
            return f"retraining job {job.id} ran within the last {settings.cooldown_hours:g} h"
    return None


def check(now: datetime | None = None) -> list[Decision]:
    """For every tenant and registered retrainer: thresholds crossed by the production version? Then
    submit the retraining job in that tenant and audit why. Nothing is ever promoted here."""
    settings, now = RetrainSettings(), now or utcnow()
    if not settings.enabled:
        return []
    with system_session() as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.id)))
        session.expunge_all()
    decisions = []
    for retrainer in retrainers():
        current = get_registry().current(retrainer.model_name)
        if current is None:
            continue
        for tenant in tenants:
            decisions.append(_decide(tenant, retrainer, current[0], settings, now))
    return decisions


def _decide(
    tenant: Tenant, retrainer: Retrainer, version: str, settings: RetrainSettings, now: datetime
) -> Decision:
    decision = Decision(tenant.id, retrainer.model_name, version)
    decision.reasons = drift_reasons(tenant.id, retrainer.model_name, version, settings) + live_reasons(
        tenant.id, retrainer, version, settings
    )
    if not decision.reasons:
        return decision
    unable = retrainer.unable(tenant.id) if retrainer.unable is not None else None
    if unable:
        return _cannot(tenant, retrainer, decision, unable)
    decision.held_back = _held_back(tenant.id, retrainer.job_kind, now, settings)
    if decision.held_back:
        RETRAIN_REQUESTS.labels(retrainer.model_name, "held_back").inc()
        log.info("retrain_held_back", tenant=tenant.id, model=retrainer.model_name, why=decision.held_back)
        return decision
    principal = Principal(tenant.id, "admin", SCHEDULER, tenant.tier)
    payload = {"production_version": version, "reasons": decision.reasons}
    job = jobs.submit_job(principal, retrainer.job_kind, payload, scheduled=True)
    decision.job_id = job.id
    RETRAIN_REQUESTS.labels(retrainer.model_name, "requested").inc()
    audit.record(
        principal,
        "retrain.requested",
        detail={
            "model": retrainer.model_name,
            "version": version,
            "job_id": job.id,
            "reasons": decision.reasons,
        },
    )
    log.info("retrain_requested", tenant=tenant.id, model=retrainer.model_name, job_id=job.id)
    return decision


def _cannot(tenant: Tenant, retrainer: Retrainer, decision: Decision, why: str) -> Decision:
    """A threshold crossed where the tenant's outcomes cannot train a candidate: audited, no job."""
    decision.held_back = f"cannot retrain: {why}"
    RETRAIN_REQUESTS.labels(retrainer.model_name, "held_back").inc()
    principal = Principal(tenant.id, "admin", SCHEDULER, tenant.tier)
    detail = {"model": retrainer.model_name, "version": decision.version, "reasons": decision.reasons}
    audit.record(principal, "retrain.not_possible", detail={**detail, "why": why})
    log.info("retrain_not_possible", tenant=tenant.id, model=retrainer.model_name, why=why)
    return decision
