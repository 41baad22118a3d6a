"""MODEL_CARD.md's section for a candidate retrained with accepted outcomes (toxicity.retraining):
provenance of the outcomes and both comparisons with production, every number read from card.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core.card_markdown import table
from hygeia.toxicity import ENDPOINTS


def _counts(count: dict[str, int]) -> str:
    return f"{count['active']} / {count['tested']}"


def _cell(performance: dict[str, Any]) -> str:
    if performance["status"] != "ok":
        return performance["status"]
    roc = performance["metrics"]["roc_auc"]
    interval = f" ({roc['ci_low']}-{roc['ci_high']})" if roc["ci_low"] is not None else ""
    return f"{roc['value']}{interval}, Brier {performance['metrics']['brier']['value']}"


def retraining_lines(card: Mapping[str, Any]) -> list[str]:
    """The comparison for a reviewer, read from card.json; nothing for a model not retrained this way."""
    info = card.get("retraining")
    if not info:
        return []
    given = info["accepted_outcomes"]
    split = info["held_out_split"]
    lines = [
        "## Retrained with accepted outcomes (candidate)",
        f"{info['status']}. Production at training time: {info['production']['name']} "
        f"{info['production']['version']} (sha256 {info['production']['sha256']}).",
        f"Requested because: {'; '.join(info['requested_because']) or 'by hand'}.",
        "",
        f"Outcomes: {given['outcomes']} accepted (newest per molecule and assay) from "
        + ", ".join(f"{t}: {n}" for t, n in given["tenants"].items())
        + f"; outcome ids sha256 `{given['outcome_ids_sha256'][:16]}…`; not usable: {given['not_usable']}. "
        f"{given['molecules']['training']} molecules trained on, {given['molecules']['held_out']} held out "
        f"({given['holdout']['fraction']:.0%} of {given['holdout']['grouping']} groups, seed "
        f"{given['holdout']['seed']}; held-out outcomes are never trained on). Added to Tox21: "
        f"{card['training_data'].get('accepted_outcomes_added')}.",
        "",
        *table(
            ["assay", "trained on (active / tested)", "held out (active / tested)"],
            [[e, _counts(c["training"]), _counts(c["held_out"])] for e, c in given["per_endpoint"].items()],
        ),
        "",
    ]
    if split["same_split"]:
        lines += [
            f"Same held-out scaffold folds as production ({split['split']}), Tox21 compounds and labels: "
            f"mean ROC-AUC production {split['mean_roc_auc']['production']} vs candidate "
            f"{split['mean_roc_auc']['candidate']}; mean PR-AUC {split['mean_pr_auc']['production']} vs "
            f"{split['mean_pr_auc']['candidate']}.",
        ]
    else:
        lines += ["Not comparable with production's scaffold CV: " + "; ".join(split["why_not"]) + "."]
    scored = info["outcome_set"]
    lines += [
        "",
        f"Held-out outcomes: {scored['scored_molecules']} of {scored['molecules']} molecules scored "
        f"({scored['left_out_as_trained_on']} left out: a training compound of either model has the same "
        "fingerprint). ROC-AUC (95 % CI), Brier:",
        "",
        *table(
            ["assay", "production", "candidate"],
            [[e, _cell(scored["production"][e]), _cell(scored["candidate"][e])] for e in ENDPOINTS],
        ),
        "",
    ]
    return lines
