"""Live performance: each model version's answers paired with the outcomes of the same inputs, per
tenant, scored by the metric family of the domain's outcome kind and exported as Prometheus gauges.

Pairs are each version's newest answer for an input against the newest outcome for each label of
that input, so a corrected lab result replaces the old one in every metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select

from hygeia.core.db import tenant_session
from hygeia.core.live_metrics import LabelPerformance, binary_performance, multiclass_performance
from hygeia.core.outcomes import LifecycleSettings, OutcomeKind, outcome_kind, records
from hygeia.core.tables import Outcome, PredictionRecord

LIVE_PERFORMANCE = Gauge(
    "hygeia_live_performance",
    "Live metric of a served model version on a tenant's outcomes (last computed report)",
    ["tenant", "model", "version", "label", "metric"],
)
LIVE_OUTCOMES = Gauge(
    "hygeia_live_outcomes",
    "Outcomes paired with a model version's predictions",
    ["tenant", "model", "version"],
)


@dataclass
class Pair:
    """A version's latest answer for an input, beside the latest outcome for one label of that input."""

    input_key: str
    label: str
    observed: str
    scores: dict[str, float]
    predicted: str | None


def latest_outcomes(session: Any, capability: str) -> dict[tuple[str, str], str]:
    """(input key, label) -> observed, the newest outcome winning (a corrected result replaces the old)."""
    query = select(Outcome).where(Outcome.capability == capability).order_by(Outcome.created_at, Outcome.id)
    return {(o.input_key, o.label): o.observed for o in session.scalars(query)}


def latest_answers(
    session: Any, model_name: str, keys: set[str], served_only: bool
) -> dict[str, dict[str, PredictionRecord]]:
    """version -> input key -> that version's newest record of the key (served, or shadow too)."""
    query = select(PredictionRecord).where(PredictionRecord.model_name == model_name)
    if served_only:
        query = query.where(PredictionRecord.served.is_(True))
    answers: dict[str, dict[str, PredictionRecord]] = {}
    for record in session.scalars(query.order_by(PredictionRecord.created_at)):
        if record.input_key in keys:
            answers.setdefault(record.model_version, {})[record.input_key] = record
    return answers


def pairs_for(records: dict[str, PredictionRecord], truth: dict[tuple[str, str], str]) -> list[Pair]:
    return [
        Pair(key, label, observed, records[key].scores, records[key].predicted)
        for (key, label), observed in truth.items()
        if key in records
    ]


def score(kind: OutcomeKind, pairs: Sequence[Pair], settings: LifecycleSettings) -> list[LabelPerformance]:
    """One performance per label of the kind, from the pairs of one model version."""
    minimum, resamples = settings.min_outcomes, settings.bootstrap_resamples
    pairs = sorted(pairs, key=lambda pair: (pair.input_key, pair.label))  # CIs independent of row order
    if kind.family == "multiclass":
        label = kind.labels[0]
        mine = [p for p in pairs if p.label == label]
        answered = [p.predicted or max(p.scores, key=p.scores.__getitem__) for p in mine]
        observed = [p.observed for p in mine]
        return [
            multiclass_performance(label, observed, answered, [p.scores for p in mine], minimum, resamples)
        ]
    performances = []
    for label in kind.labels:
        for ranker in kind.rank_by or (label,):  # a probability per label, or the kind's ranking scores
            mine = [p for p in pairs if p.label == label and ranker in p.scores]
            active = [int(p.observed) for p in mine]
            name = f"{label} by {ranker}" if kind.rank_by else label
            scores = [p.scores[ranker] for p in mine]
            performances.append(
                binary_performance(name, active, scores, minimum, resamples, calibrated=not kind.rank_by)
            )
    return performances


@dataclass
class VersionPerformance:
    model: str
    version: str
    n_outcomes: int
    labels: list[LabelPerformance]


def performance(tenant_id: str, capability: str) -> tuple[OutcomeKind, list[VersionPerformance]]:
    """Live performance of every version that served this tenant, on the tenant's outcomes."""
    kind = outcome_kind(capability)
    records.flush()
    settings = LifecycleSettings()
    with tenant_session(tenant_id) as session:
        truth = latest_outcomes(session, capability)
        answers = latest_answers(session, kind.model_name, {key for key, _ in truth}, served_only=True)
    report = []
    for version in sorted(answers):
        pairs = pairs_for(answers[version], truth)
        labels = score(kind, pairs, settings)
        report.append(VersionPerformance(kind.model_name, version, len(pairs), labels))
        _export(tenant_id, kind.model_name, version, len(pairs), labels)
    return kind, report


def _export(tenant: str, model: str, version: str, n: int, labels: list[LabelPerformance]) -> None:
    LIVE_OUTCOMES.labels(tenant, model, version).set(n)
    for label in labels:
        for metric, estimate in label.metrics.items():
            LIVE_PERFORMANCE.labels(tenant, model, version, label.label, metric).set(estimate.value)
