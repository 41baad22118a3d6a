"""MODEL_CARD.md's section for an evidence candidate retrained with accepted outcomes
(evidence.retraining): provenance and both comparisons with production, every number from card.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core.card_markdown import number, table

KEY_NAMES = {
    "pharmacotherapydb_dm": "(a) PharmacotherapyDB disease-modifying",
    "drugcentral_not_in_pharmacotherapydb": "(b) DrugCentral not in PharmacotherapyDB",
    "repodb_failed_trials": "(c) repoDB terminated / withdrawn / suspended",
}


def _pair(m: Mapping[str, Any] | None) -> str:
    return f"{number(m['auroc'], 4)} / {number(m['auprc'], 4)}" if m else "n/a"


def _cell(performance: Mapping[str, Any]) -> str:
    if performance["status"] != "ok":
        return performance["status"]
    roc, pr = performance["metrics"]["roc_auc"], performance["metrics"]["pr_auc"]
    interval = f" ({roc['ci_low']}-{roc['ci_high']})" if roc["ci_low"] is not None else ""
    brier = performance["metrics"]["brier"]["value"]
    return f"ROC-AUC {roc['value']}{interval}, PR-AUC {pr['value']}, Brier {brier}"


def retraining_section(info: Mapping[str, Any] | None) -> list[str]:
    """The comparison for a reviewer; nothing for a model not retrained with outcomes."""
    if not info:
        return []
    given, split, scored = info["accepted_outcomes"], info["held_out_split"], info["outcome_set"]
    pairs = given["pairs"]
    card = split.get("production_card") or {}
    label = next(iter(scored["production"]))
    return [
        "## Retrained with accepted outcomes (candidate)",
        f"{info['status']}. Production at training time: {info['production']['name']} "
        f"{info['production']['version']} (sha256 {info['production']['sha256']}).",
        f"Requested because: {'; '.join(info['requested_because']) or 'by hand'}.",
        "",
        f"Outcomes: {given['outcomes']} accepted (newest per pair) from "
        + ", ".join(f"{t}: {n}" for t, n in given["tenants"].items())
        + f"; outcome ids sha256 `{given['outcome_ids_sha256'][:16]}…`; not usable: {given['not_usable']}. "
        f"Trained on {pairs['training']}; held out {pairs['held_out']} ({given['holdout']['fraction']:.0%} "
        f"of compounds, seed {given['holdout']['seed']}). Labels changed: {given['labels_changed']}.",
        "",
        f"Same held-out split as production ({split['split']}); variant {split['variant']}. "
        f"Production column: {split['production_column']}. AUROC / AUPRC:",
        "",
        *table(
            ["answer key", "production", "candidate", "production's card"],
            [
                [
                    KEY_NAMES.get(key, key),
                    _pair(row["production"]),
                    _pair(row["candidate"]),
                    _pair(card.get(key)),
                ]
                for key, row in split["keys"].items()
            ],
        ),
        "",
        f"Held-out outcomes: {scored['scored_pairs']} of {scored['pairs']} pairs scored "
        f"({scored['compounds']} compounds; {scored['left_out_as_curated']} left out: PharmacotherapyDB "
        "lists them, so both models are told the answer).",
        "",
        *table(
            ["", "production", "candidate"],
            [[label, _cell(scored["production"][label]), _cell(scored["candidate"][label])]],
        ),
        "",
    ]
