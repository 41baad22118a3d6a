"""Paired scaffold-CV difference between two trained toxicity models, read from their cards.

    python -m benchmarks.toxicity.card_diff models/toxicity/2.5.0 models/toxicity/2.6.0 [--json OUT]

Both cards must come from `hygeia toxicity train` runs on the same folds (same data, fold count and
seed): the folds differ in chemistry far more than the models do, so only the per-fold difference of
the shipped blends (mean over the 12 endpoints within each fold) says whether one model ranks better.
The card stores each endpoint's per-fold ROC-AUC and PR-AUC to 4 decimals; that rounding is the
resolution of the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.toxicity.dataset import trained_scope

METRICS = ("roc_auc", "pr_auc")


def _shipped(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    card = json.loads((folder / "card.json").read_text())
    return card["metrics"]["scaffold_cv"]["shipped"]["endpoints"], card


def _fold_setup(card: dict[str, Any]) -> tuple[str, str, str]:
    """The evaluation line names the fold count and seed; the data hash and the chemistry scope pin the
    compounds (models of different scopes compare with `scope_diff`)."""
    return card["metrics"]["evaluation"], card["training_data"]["sha256"], trained_scope(card)


def paired_difference(reference: Path, candidate: Path) -> dict[str, Any]:
    """Per metric: both means, the mean per-fold difference and its standard error, folds higher, and the
    per-endpoint differences of the fold means."""
    (ref, ref_card), (new, new_card) = _shipped(reference), _shipped(candidate)
    if _fold_setup(ref_card) != _fold_setup(new_card) or list(ref) != list(new):
        raise SystemExit("the two cards were not trained on the same data, scope, folds and endpoints")
    result: dict[str, Any] = {"reference": reference.name, "candidate": candidate.name}
    for metric in METRICS:
        ref_folds = np.array([ref[e][metric]["folds"] for e in ref])  # endpoints x folds
        new_folds = np.array([new[e][metric]["folds"] for e in ref])
        diff = new_folds.mean(axis=0) - ref_folds.mean(axis=0)
        endpoint_diffs = new_folds.mean(axis=1) - ref_folds.mean(axis=1)
        result[metric] = {
            "reference": round(float(ref_folds.mean()), 4),
            "candidate": round(float(new_folds.mean()), 4),
            "diff": round(float(diff.mean()), 4),
            "diff_se": round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4),
            "fold_diffs": [round(float(d), 4) for d in diff],
            "endpoint_diffs": dict(zip(ref, np.round(endpoint_diffs, 4).tolist(), strict=True)),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = paired_difference(args.reference, args.candidate)
    for metric in METRICS:
        r = result[metric]
        higher = sum(d > 0 for d in r["fold_diffs"])
        print(
            f"{metric}: {r['reference']:.4f} -> {r['candidate']:.4f}, paired {r['diff']:+.4f} "
            f"(SE {r['diff_se']:.4f}), higher in {higher} of {len(r['fold_diffs'])} folds; "
            f"endpoints: {', '.join(f'{e} {d:+.4f}' for e, d in r['endpoint_diffs'].items())}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
