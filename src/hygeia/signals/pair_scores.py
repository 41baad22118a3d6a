"""Scores for one drug-event pair, or a small table of them, from counts and marginals alone.

The answer a safety scientist wants while reading a case ("is 12 reports of X with Y a lot?")
without an upload and a job: N, the drug's and the event's report totals and the database total
give E = n_drug * n_event / n_total, PRR with chi2, ROR with its CI, IC with its credibility
interval, and — with a prior (stated, or the tenant's latest run's) — EBGM / EB05 / EB95. Alert
level and priority use the same rules as a run (priority.py); seriousness and trend need case
rows, so here they are 1 and said to be so. A row that cannot be scored gets its own error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hygeia.signals import disproportionality as dp
from hygeia.signals.mgps import Hyperparameters
from hygeia.signals.posterior import ebgm, posterior_quantile, posterior_weight
from hygeia.signals.priority import prioritise

INT64_MAX = 2**63 - 1
MAX_PAIRS = 1_000
NOT_FROM_COUNTS = "seriousness and trend need case rows: both are 1 in a scoring from counts"


@dataclass(frozen=True)
class PairCount:
    drug: str
    event: str
    n: int
    n_drug: int
    n_event: int
    n_total: int
    labelled: bool = False  # a known (labelled) reaction: novelty 0.25 instead of 1


def count_error(pair: PairCount) -> str | None:
    """Why a row cannot be scored, in the row's own terms; None when it can."""
    counts = {"n": pair.n, "n_drug": pair.n_drug, "n_event": pair.n_event, "n_total": pair.n_total}
    for name, value in counts.items():
        if value > INT64_MAX:
            return f"{name} = {value} is larger than the largest count supported (2^63 - 1)"
        if value < 0:
            return f"{name} must not be negative, got {value}"
    if pair.n < 1:
        return "n must be at least 1: a pair without reports has nothing to score"
    if pair.n > min(pair.n_drug, pair.n_event):
        return f"n = {pair.n} exceeds the drug's ({pair.n_drug}) or the event's ({pair.n_event}) reports"
    if pair.n_drug + pair.n_event - pair.n > pair.n_total:
        return (
            f"n_drug + n_event - n = {pair.n_drug + pair.n_event - pair.n} reports exceed "
            f"n_total = {pair.n_total}: the margins do not belong to one database"
        )
    return None


def score_pairs(
    pairs: Sequence[PairCount], prior: Hyperparameters | None, digits: int | None = 2
) -> list[dict[str, Any]]:
    """One result per input pair, in input order: the scores, or {"error": ...}."""
    errors = [count_error(p) for p in pairs]
    valid = [i for i, e in enumerate(errors) if e is None]
    results: list[dict[str, Any]] = [
        {"drug": p.drug, "event": p.event, "error": e} for p, e in zip(pairs, errors, strict=True)
    ]
    if valid:
        scored = _scored_table([pairs[i] for i in valid], prior, digits)
        for row in scored.to_dict("records"):
            results[valid[int(row.pop("row"))]] = row
    return results


def _scored_table(pairs: list[PairCount], prior: Hyperparameters | None, digits: int | None) -> pd.DataFrame:
    n = np.array([p.n for p in pairs], np.int64)
    n_drug = np.array([p.n_drug for p in pairs], np.int64)
    n_event = np.array([p.n_event for p in pairs], np.int64)
    n_total = np.array([p.n_total for p in pairs], np.int64)
    expected = n_drug * (n_event / n_total)
    table = pd.DataFrame({"row": np.arange(len(pairs)), "drug": [p.drug for p in pairs]})
    table["event"] = [p.event for p in pairs]
    table["n"], table["expected"] = n, expected
    two_by_two = dp.TwoByTwo.from_margins(n, n_drug, n_event, n_total)
    table["prr"], table["chi2"] = dp.prr(two_by_two), dp.chi_square_yates(two_by_two)
    table["ror"], table["ror_lower"], table["ror_upper"] = dp.ror_with_ci(two_by_two)
    table["ic"], table["ic025"], table["ic975"] = dp.information_component(n, expected)
    table["ebgm"] = table["eb05"] = table["eb95"] = np.nan
    if prior is not None:
        qn = posterior_weight(prior, n, expected)
        table["ebgm"] = ebgm(prior, n, expected, qn, digits)
        table["eb05"] = posterior_quantile(prior, n, expected, qn, 5, digits)
        table["eb95"] = posterior_quantile(prior, n, expected, qn, 95, digits)
    known = {(p.drug.upper(), p.event.upper()) for p in pairs if p.labelled}
    ranked = prioritise(table, None, known)
    ranked["error"] = None
    return ranked.drop(columns=["share_serious", "share_death", "burst", "ic025_change"])


def _finite(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def pair_response(row: dict[str, Any]) -> dict[str, Any]:
    """A scored row as JSON-ready values: NaN/inf as null, the priority factors as `components`."""
    if row.get("error"):
        return row
    out = {k: _finite(v) for k, v in row.items() if not k.startswith("c_") and k != "novel"}
    out["components"] = {
        name: float(row[f"c_{name}"]) for name in ("disproportionality", "seriousness", "trend", "novelty")
    }
    out["criteria_met"] = out["criteria_met"] or ""
    return out
