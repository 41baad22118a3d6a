"""The report a platform admin promotes from: production and candidate on the same inputs.

Cases are inputs (per tenant) that both versions answered, by shadow or because a canary and
production each saw them. For those: how often the versions agree, how their scores are spread, and,
where outcomes exist, both versions' live metrics on exactly the same cases.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
from sqlalchemy import select

from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.db import system_session
from hygeia.core.errors import Conflict, NotFound
from hygeia.core.live_performance import Pair, score
from hygeia.core.outcomes import LifecycleSettings, OutcomeKind, kind_for_model
from hygeia.core.registry import get_registry
from hygeia.core.releases import current_release, end_release, flush
from hygeia.core.tables import Outcome, PredictionRecord

CALL_THRESHOLD = 0.5  # a binary score at or above this is a call of "active"
HISTOGRAM_EDGES = np.linspace(0.0, 1.0, 11)
Answer = tuple[dict[str, float], str | None]  # scores, class answered


def comparison(model_name: str, candidate: str | None = None) -> dict[str, Any]:
    release = current_release(model_name)
    candidate = candidate or (release.candidate_version if release else None)
    if candidate is None:
        raise NotFound(f"{model_name} has no release running; name a candidate version")
    current = get_registry().current(model_name)
    if current is None:
        raise NotFound(f"{model_name} has no production version")
    production = current[0]
    kind = kind_for_model(model_name)
    flush()
    answers = _latest_answers(model_name, (production, candidate))
    both = sorted(set(answers[production]) & set(answers[candidate]))
    prod = [answers[production][k] for k in both]
    cand = [answers[candidate][k] for k in both]
    return {
        "model": model_name,
        "production_version": production,
        "candidate_version": candidate,
        "release": None
        if release is None
        else {**asdict(release), "updated_at": release.updated_at.isoformat()},
        "answered": {production: len(answers[production]), candidate: len(answers[candidate])},
        "paired_cases": len(both),
        "agreement": _agreement(kind, prod, cand),
        "score_distributions": _distributions(kind, prod, cand, production, candidate),
        "on_outcomes": _on_outcomes(kind, both, prod, cand, production, candidate),
    }


def _latest_answers(model_name: str, versions: tuple[str, str]) -> dict[str, dict[tuple[str, str], Answer]]:
    """version -> (tenant, input key) -> newest answer of that version, served or shadow."""
    answers: dict[str, dict[tuple[str, str], Answer]] = {version: {} for version in versions}
    query = (
        select(PredictionRecord)
        .where(PredictionRecord.model_name == model_name, PredictionRecord.model_version.in_(versions))
        .order_by(PredictionRecord.created_at)
    )
    with system_session() as session:
        for record in session.scalars(query):
            answers[record.model_version][(record.tenant_id, record.input_key)] = (
                record.scores,
                record.predicted,
            )
    return answers


def _agreement(kind: OutcomeKind, prod: list[Answer], cand: list[Answer]) -> dict[str, Any]:
    if not prod:
        return {"status": "no case answered by both versions yet"}
    if kind.family == "multiclass":
        same = [p[1] == c[1] for p, c in zip(prod, cand, strict=True)]
        return {"answered_class_agreement": round(float(np.mean(same)), 4)}
    per_label = {}
    for label in kind.labels:
        p, c = _scores(prod, label), _scores(cand, label)
        per_label[label] = {
            "call_agreement": round(float(np.mean((p >= CALL_THRESHOLD) == (c >= CALL_THRESHOLD))), 4),
            "mean_abs_difference": round(float(np.mean(np.abs(p - c))), 4),
            "correlation": round(float(np.corrcoef(p, c)[0, 1]), 4) if p.std() > 0 and c.std() > 0 else None,
        }
    overall = float(np.mean([v["call_agreement"] for v in per_label.values()]))
    return {"call_threshold": CALL_THRESHOLD, "call_agreement": round(overall, 4), "by_label": per_label}


def _scores(answers: list[Answer], label: str) -> np.ndarray:
    return np.asarray([scores.get(label, np.nan) for scores, _ in answers], dtype=float)


def _distributions(
    kind: OutcomeKind, prod: list[Answer], cand: list[Answer], production: str, candidate: str
) -> dict[str, Any]:
    """Binary: a 10-bin histogram of each label's scores per version; multiclass: classes answered."""
    if kind.family == "multiclass":
        return {
            version: {c: sum(a[1] == c for a in answers) for c in kind.classes}
            for version, answers in ((production, prod), (candidate, cand))
        }
    distributions: dict[str, Any] = {"edges": HISTOGRAM_EDGES.round(2).tolist()}
    for label in kind.labels:
        distributions[label] = {
            version: np.histogram(np.clip(_scores(answers, label), 0, 1), HISTOGRAM_EDGES)[0].tolist()
            for version, answers in ((production, prod), (candidate, cand))
        }
    return distributions


def _on_outcomes(
    kind: OutcomeKind,
    cases: list[tuple[str, str]],
    prod: list[Answer],
    cand: list[Answer],
    production: str,
    candidate: str,
) -> dict[str, Any]:
    truth = _truth(kind, {tenant for tenant, _ in cases})
    settings = LifecycleSettings()
    result: dict[str, Any] = {}
    for version, answers in ((production, prod), (candidate, cand)):
        pairs = [
            Pair(key, label, truth[(tenant, key, label)], scores, predicted)
            for (tenant, key), (scores, predicted) in zip(cases, answers, strict=True)
            for label in kind.labels
            if (tenant, key, label) in truth
        ]
        result[version] = [asdict(performance) for performance in score(kind, pairs, settings)]
    result["n_outcomes"] = sum(
        1 for (tenant, key) in cases for label in kind.labels if (tenant, key, label) in truth
    )
    return result


def _truth(kind: OutcomeKind, tenants: set[str]) -> dict[tuple[str, str, str], str]:
    query = (
        select(Outcome)
        .where(Outcome.capability == kind.capability, Outcome.tenant_id.in_(sorted(tenants)))
        .order_by(Outcome.created_at, Outcome.id)
    )
    with system_session() as session:
        return {(o.tenant_id, o.input_key, o.label): o.observed for o in session.scalars(query)}


def promote_candidate(principal: Principal, model_name: str) -> tuple[str, dict[str, Any]]:
    """Promote the running release's candidate through the registry, end the release, and audit
    both with the report's headline numbers; returns the version promoted and the report."""
    release = current_release(model_name)
    if release is None:
        raise Conflict(f"{model_name} has no release running to promote from")
    report = comparison(model_name, release.candidate_version)
    get_registry().promote(model_name, release.candidate_version)
    headline = {k: report[k] for k in ("production_version", "candidate_version", "paired_cases")}
    headline["agreement"] = {k: v for k, v in report["agreement"].items() if k != "by_label"}
    audit.record(
        principal,
        "model.promote",
        detail={
            "name": model_name,
            "version": release.candidate_version,
            "from_release": release.mode,
            "report": headline,
        },
    )
    end_release(principal, model_name, reason="promoted")
    return release.candidate_version, report
