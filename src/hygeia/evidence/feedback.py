"""Tenant feedback: store votes, replay them into the tenant's evidence weights.

Weights are re-fitted from all of a tenant's votes whenever a vote arrives (hundreds of rows fit in
milliseconds), and cached per process keyed by the tenant's vote count and newest vote id, so a vote
cast through another API worker is seen on the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from hygeia.core.db import tenant_session
from hygeia.evidence.ranking import FeedbackExample, fit_weights
from hygeia.evidence.tables import EvidenceFeedback

_lock = threading.Lock()
_fitted: dict[tuple[str, int, str, str], dict[str, float]] = {}


def store_vote(
    tenant_id: str,
    subject: str,
    *,
    vote: str,
    target: str,
    features: Mapping[str, float],
    index_built_at: str,
    drug_id: str | None = None,
    disease_id: str | None = None,
    doc_id: str | None = None,
    comment: str | None = None,
) -> str:
    with tenant_session(tenant_id) as session:
        row = EvidenceFeedback(
            created_by=subject,
            vote=vote,
            target=target,
            drug_id=drug_id,
            disease_id=disease_id,
            doc_id=doc_id,
            features={k: float(v) for k, v in features.items()},
            comment=comment,
            index_built_at=index_built_at,
        )
        session.add(row)
        session.flush()
        return row.id


def _signature(tenant_id: str) -> tuple[int, str]:
    with tenant_session(tenant_id) as session:
        count = session.scalar(select(func.count()).select_from(EvidenceFeedback)) or 0
        newest = session.scalar(
            select(EvidenceFeedback.id).order_by(
                EvidenceFeedback.created_at.desc(), EvidenceFeedback.id.desc()
            )
        )
    return int(count), newest or ""


def _examples(tenant_id: str) -> list[FeedbackExample]:
    with tenant_session(tenant_id) as session:
        rows = session.execute(select(EvidenceFeedback.features, EvidenceFeedback.vote)).all()
    return [FeedbackExample(features, vote) for features, vote in rows]


def tenant_weights(
    tenant_id: str, prior: Mapping[str, float], prior_key: str
) -> tuple[dict[str, float], int]:
    """(weights, number of votes) for this tenant; the prior alone when it has cast none."""
    count, newest = _signature(tenant_id)
    if count == 0:
        return dict(prior), 0
    key = (tenant_id, count, newest, prior_key)
    with _lock:
        cached = _fitted.get(key)
    if cached is None:
        cached = fit_weights(_examples(tenant_id), prior)
        with _lock:
            _fitted[key] = cached
    return dict(cached), count


def refit(tenant_id: str, prior: Mapping[str, float]) -> tuple[dict[str, float], int]:
    """Fit this tenant's weights from all its votes now, bypassing the per-process cache."""
    examples = _examples(tenant_id)
    return fit_weights(examples, prior), len(examples)


def weight_shift(prior: Mapping[str, float], weights: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """{prior, weights, shift} over the union of names, rounded: what a tenant's votes changed."""
    names = sorted(set(prior) | set(weights))
    return {
        "prior": {k: round(prior.get(k, 0.0), 4) for k in names},
        "weights": {k: round(weights.get(k, 0.0), 4) for k in names},
        "shift": {k: round(weights.get(k, 0.0) - prior.get(k, 0.0), 4) for k in names},
    }


def flagged_pairs(tenant_id: str) -> set[tuple[str, str]]:
    with tenant_session(tenant_id) as session:
        rows = session.execute(
            select(EvidenceFeedback.drug_id, EvidenceFeedback.disease_id).where(
                EvidenceFeedback.vote == "flag", EvidenceFeedback.target == "candidate"
            )
        ).all()
    return {(drug, disease) for drug, disease in rows if drug and disease}


def vote_counts(tenant_id: str) -> dict[str, dict[str, int]]:
    """target -> vote -> number of votes, for the feedback statistics."""
    with tenant_session(tenant_id) as session:
        rows = session.execute(
            select(EvidenceFeedback.target, EvidenceFeedback.vote, func.count()).group_by(
                EvidenceFeedback.target, EvidenceFeedback.vote
            )
        ).all()
    out: dict[str, dict[str, int]] = {}
    for target, vote, count in rows:
        out.setdefault(target, {})[vote] = int(count)
    return out


def feedback_rows(tenant_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with tenant_session(tenant_id) as session:
        rows = session.scalars(
            select(EvidenceFeedback).order_by(EvidenceFeedback.created_at.desc()).limit(limit)
        )
        return [
            {
                "id": r.id,
                "vote": r.vote,
                "target": r.target,
                "drug_id": r.drug_id,
                "disease_id": r.disease_id,
                "doc_id": r.doc_id,
                "comment": r.comment,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
