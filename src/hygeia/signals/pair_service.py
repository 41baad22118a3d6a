"""Synchronous scoring of a pair or a small count table: the use case behind POST /signals/score.

The prior is stated in the request, or taken from a run of the tenant (a named one, else the latest
that succeeded with a prior), and always named in the answer. Answers are cached per tenant, prior
and request, so a console re-asking the same question costs a cache read.
"""

from __future__ import annotations

import json
from typing import Any

from hygeia.core.cache import cache_key, get_cache
from hygeia.core.errors import InputError
from hygeia.core.jobs import SUCCEEDED, list_jobs
from hygeia.signals.mgps import Hyperparameters
from hygeia.signals.pair_scores import MAX_PAIRS, NOT_FROM_COUNTS, PairCount, pair_response, score_pairs
from hygeia.signals.schemas import PairScoreResponse
from hygeia.signals.service import QUERIES, RUN_KIND, run_status

NO_PRIOR = (
    "no prior: none was stated and this tenant has no finished run with a consistent MGPS prior, "
    "so EBGM/EB05/EB95 are not reported"
)


def _run_prior(tenant_id: str, run_id: str | None) -> tuple[Hyperparameters | None, dict[str, Any]]:
    """The prior of the named run, or of the tenant's latest succeeded run that has one."""
    if run_id is not None:
        summary = run_status(tenant_id, run_id).summary or {}  # 404 for another tenant's run
        hyper = summary.get("hyperparameters")
        if not hyper:
            raise InputError(f"run {run_id!r} has no MGPS prior (it is unfinished or had no consistent fit)")
        return Hyperparameters(**hyper), {"source": "run", "run_id": run_id}
    for job in list_jobs(tenant_id, 200):
        if job.kind == RUN_KIND and job.status == SUCCEEDED and (job.result or {}).get("hyperparameters"):
            hyper = job.result["hyperparameters"]  # type: ignore[index]
            return Hyperparameters(**hyper), {"source": "latest run", "run_id": job.id}
    return None, {"source": "none", "run_id": None, "note": NO_PRIOR}


def resolve_prior(
    tenant_id: str, stated: dict[str, float] | None, run_id: str | None
) -> tuple[Hyperparameters | None, dict[str, Any]]:
    if stated is not None and run_id is not None:
        raise InputError("give a stated prior or a run_id, not both")
    if stated is not None:
        return Hyperparameters(**stated), {"source": "stated", "run_id": None}
    return _run_prior(tenant_id, run_id)


def score_pair_counts(
    tenant_id: str,
    pairs: list[dict[str, Any]],
    *,
    n_total: int | None = None,
    prior: dict[str, float] | None = None,
    run_id: str | None = None,
    digits: int | None = 2,
) -> PairScoreResponse:
    """One result per pair (scores or an error), with the prior used and where it came from."""
    if not 1 <= len(pairs) <= MAX_PAIRS:
        raise InputError(f"give between 1 and {MAX_PAIRS} pairs; larger tables go through a run")
    hyper, source = resolve_prior(tenant_id, prior, run_id)
    body = json.dumps([pairs, n_total, digits, None if hyper is None else hyper.__dict__], sort_keys=True)
    key = cache_key("signals.pair_scores", tenant_id, body)
    cached = get_cache().get_json(key)
    QUERIES.labels("score", "hit" if cached is not None else "miss").inc()
    if cached is not None:
        return PairScoreResponse(**cached, cached=True)
    counts = [_pair_count(p, n_total) for p in pairs]
    items = [
        pair_response(r)
        if c is not None
        else {"drug": p.get("drug"), "event": p.get("event"), "error": _NO_TOTAL}
        for p, c, r in zip(pairs, counts, _scored(counts, hyper, digits), strict=True)
    ]
    result = {
        "prior": {**source, "hyperparameters": None if hyper is None else hyper.__dict__},
        "note": NOT_FROM_COUNTS,
        "items": items,
    }
    get_cache().set_json(key, result)
    return PairScoreResponse(**result, cached=False)


_NO_TOTAL = "n_total is missing: give it on the row or once for the request"


def _pair_count(pair: dict[str, Any], n_total: int | None) -> PairCount | None:
    total = pair.get("n_total") if pair.get("n_total") is not None else n_total
    if total is None:
        return None
    return PairCount(
        str(pair["drug"]),
        str(pair["event"]),
        int(pair["n"]),
        int(pair["n_drug"]),
        int(pair["n_event"]),
        int(total),
        bool(pair.get("labelled", False)),
    )


def _scored(counts: list[PairCount | None], hyper: Hyperparameters | None, digits: int | None) -> list[dict]:
    present = [c for c in counts if c is not None]
    scored = iter(score_pairs(present, hyper, digits))
    return [next(scored) if c is not None else {} for c in counts]
