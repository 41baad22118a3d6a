"""Retrained candidates waiting in staging, read from their cards, and promotion from that comparison.

A domain's retraining (core.retraining) writes a `retraining` block into the candidate's hashed card:
`held_out_split` (production and candidate on the same held-out split) and `outcome_set` (both on
held-out outcomes, per label as live performance reports it). The shapes of the split metrics differ
by domain (mean ROC-AUC over assays, AUROC per answer key), so the console reads them generically:
every mapping with a numeric `production` and `candidate` is one row, named by its path. Promotion is
the admin API's own (registry promote, audited as `model.promote`) with the card's headline attached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core import audit
from hygeia.core.auth import Principal
from hygeia.core.errors import Conflict, NotFound
from hygeia.core.registry import STAGING, get_registry
from hygeia.core.tables import ModelVersion


def comparison_rows(split: Mapping[str, Any], path: str = "") -> list[dict[str, Any]]:
    """[{metric, production, candidate, difference}] for every production/candidate number pair."""
    rows: list[dict[str, Any]] = []
    for key, value in split.items():
        if not isinstance(value, Mapping):
            continue
        name = f"{path} · {key}" if path else str(key)
        before, after = value.get("production"), value.get("candidate")
        if isinstance(before, int | float) and isinstance(after, int | float):
            rows.append(
                {
                    "metric": name,
                    "production": before,
                    "candidate": after,
                    "difference": round(after - before, 4),
                }
            )
        else:
            rows += comparison_rows(value, name)
    return rows


def _candidate(row: ModelVersion, production: str | None) -> dict[str, Any]:
    info = (row.card or {})["retraining"]
    split, scored = info.get("held_out_split", {}), info.get("outcome_set", {})
    given = info.get("accepted_outcomes", {})
    return {
        "name": row.name,
        "version": row.version,
        "production_version": production,
        "trained_beside": info.get("production", {}).get("version"),
        "requested_because": info.get("requested_because", []),
        "outcomes": given.get("outcomes"),
        "tenants": given.get("tenants", {}),
        "same_split": split.get("same_split", False),
        "split": split.get("split") if isinstance(split.get("split"), str) else None,
        "why_not": split.get("why_not", []),
        "split_rows": comparison_rows(split),
        "outcome_counts": {k: v for k, v in scored.items() if isinstance(v, int)},
        "on_outcomes": {name: list(scored.get(name, {}).values()) for name in ("production", "candidate")},
    }


def staged_candidates() -> list[dict[str, Any]]:
    """Every staging version whose card carries a retraining comparison, newest first per model."""
    registry = get_registry()
    rows = [r for r in registry.versions() if r.stage == STAGING and (r.card or {}).get("retraining")]
    out = []
    for row in sorted(rows, key=lambda r: (r.name, r.created_at), reverse=True):
        current = registry.current(row.name)
        out.append(_candidate(row, current[0] if current else None))
    return out


def promote_staged(principal: Principal, name: str, version: str) -> dict[str, Any]:
    """Promote a staged candidate as `POST /api/v1/admin/models/{name}/{version}/promote` does, the
    audit row carrying the comparison it was promoted from."""
    found = [c for c in staged_candidates() if c["name"] == name and c["version"] == version]
    if not found:
        if any(r.version == version for r in get_registry().versions(name)):
            raise Conflict(f"{name} {version} is not a retrained candidate in staging")
        raise NotFound(f"no model {name} {version}")
    candidate = found[0]
    get_registry().promote(name, version)
    headline = {k: candidate[k] for k in ("production_version", "same_split", "outcome_counts")}
    audit.record(
        principal,
        "model.promote",
        detail={"name": name, "version": version, "from_retraining_card": headline},
    )
    return candidate
