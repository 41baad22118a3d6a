"""The "Retrained with outcome images" section of a candidate's MODEL_CARD.md, from its
retraining.json (the renderer reads no file; `card.card_sources` hands the data over)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core.card_markdown import bullets, number, table


def _cells(scored: Mapping[str, Any]) -> list[str]:
    [scored] = scored.values()  # the one label, "diagnosis"
    estimate = scored["metrics"].get("balanced_accuracy")
    if not estimate:
        return [scored["status"], "", str(scored["n"])]
    ci = (
        f"[{number(estimate['ci_low'])}, {number(estimate['ci_high'])}]"
        if estimate["ci_low"] is not None
        else "-"
    )
    return [number(estimate["value"]), ci, str(scored["n"])]


def _comparison(title: str, block: Mapping[str, Any]) -> list[str]:
    rows = [[name, *_cells(block[name])] for name in ("production", "candidate")]
    left = block["left_out_as_trained_on"]
    return [
        f"### {title}",
        f"{block['images']} images, {left} left out as trained on; balanced accuracy of the served "
        "decision with a 95 % bootstrap CI (at least "
        f"{block['minimum_cases']} cases needed).",
        "",
        *table(["model", "balanced accuracy", "95 % CI", "cases"], rows),
        "",
    ]


def _same_split(split: Mapping[str, Any]) -> list[str]:
    if split["same_split"]:
        return []
    return ["**Not the same labels as production's split:** " + "; ".join(split["why_not"]), ""]


def retraining_lines(info: Mapping[str, Any] | None) -> list[str]:
    """Nothing for a model that was not retrained with outcomes."""
    if not info:
        return []
    given, start = info["accepted_outcomes"], info["production"]
    recipe = info["recipe"]
    return [
        "## Retrained with outcome images",
        f"Status: {info['status']}. Fine-tuned from {start['name']} {start['version']} "
        f"(sha256 {start['sha256']}) on its own lesion split plus consented outcome images; "
        f"recipe {'tiny (pipeline check, not a model to ship)' if recipe['tiny'] else 'full'}: "
        f"{recipe['epochs']} epochs, lr {recipe['lr']}, batch {recipe['batch_size']}.",
        "",
        *bullets(
            [
                f"requested because: {'; '.join(info['requested_because']) or 'by hand'}",
                f"outcomes: {given['outcomes']} from tenants {given['tenants']}, ids sha256 "
                f"`{given['outcome_ids_sha256'][:16]}…`; not usable {given['not_usable']}",
                f"images trained on {given['images']['training']} {given['per_class']['training']}, "
                f"held out {given['images']['held_out']} {given['per_class']['held_out']} "
                f"(share {given['holdout']['fraction']}, by {given['holdout']['grouping']})",
                "no input gate or drift reference of its own yet (production's belong to production's "
                "features): `hygeia dermatology add-gate` and `drift-reference` before a canary",
            ]
        ),
        "",
        *_same_split(info["held_out_split"]),
        *_comparison("Same held-out lesions as production (test split)", info["held_out_split"]),
        *_comparison("Held-out outcome images", info["outcome_set"]),
    ]
