"""How firm is the applicability domain's threshold? The card's rule, re-run on scaffold-bootstrap resamples.

    python -m benchmarks.toxicity.domain_threshold models/toxicity/2.6.0 models/toxicity/2.10.0 \
        [--resamples 500] [--json OUT]

The card's rule (`applicability.choose_threshold`) takes the upper edge of the highest similarity band
whose out-of-fold ROC-AUC is at least 0.05 below the pooled one. 2.6.0 and 2.10.0 got 0.4 and 0.35 from
it because one band's AUC sits within 0.001 of the cut-off (§24). This re-runs the rule on the model's
stored out-of-fold scores and nearest-neighbour similarities (the conformal calibration file) after
resampling whole Bemis-Murcko scaffold groups with replacement: compounds that share a scaffold share
their errors, so resampling compounds alone would understate the spread. It reports how often each
threshold comes out, and each band's AUC with its bootstrap standard error.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.scope_diff import stored_scores
from hygeia.settings import get_settings
from hygeia.toxicity.applicability import cv_domain
from hygeia.toxicity.splits import scaffold_groups

RESAMPLES = 500


def bootstrap(
    similarity: np.ndarray, scores: np.ndarray, labels: np.ndarray, groups: list[list[int]], resamples: int
) -> dict[str, Any]:
    """Threshold frequencies and per-band AUC spread over scaffold-group resamples (seeded)."""
    rng = np.random.default_rng(0)
    members = [np.asarray(g) for g in groups]
    thresholds: Counter[float] = Counter()
    band_aucs: list[list[float | None]] = []
    for _ in range(resamples):
        rows = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        resampled = cv_domain(similarity[rows], scores[rows], labels[rows])
        thresholds[resampled.threshold] += 1
        band_aucs.append([row["roc_auc"] for row in resampled.bands])
    aucs = np.array(band_aucs, dtype=float)
    return {
        "threshold_frequency": {str(t): round(n / resamples, 3) for t, n in sorted(thresholds.items())},
        "band_roc_auc_se": [round(float(np.nanstd(column, ddof=1)), 4) for column in aucs.T],
    }


def measure(folder: Path, data: Path, resamples: int) -> dict[str, Any]:
    card, dataset, scores, labels = stored_scores(folder, data)
    similarity = np.load(folder / card["conformal"]["file"], allow_pickle=False)[2][:, 0]
    threshold, _, _, table = cv_domain(similarity, scores, labels)
    if threshold != card["applicability_domain"]["threshold"]:
        raise SystemExit(f"{folder.name}: the rule gives {threshold}, the card says otherwise")
    groups = scaffold_groups(dataset.mols)
    spread = bootstrap(similarity, scores, labels, groups, resamples)
    bands = [
        {"band": row["band"], "compounds": row["compounds"], "roc_auc": row["roc_auc"], "bootstrap_se": se}
        for row, se in zip(table, spread["band_roc_auc_se"], strict=True)
    ]
    return {
        "card_threshold": threshold,
        "scaffold_groups": len(groups),
        "resamples": resamples,
        "threshold_frequency": spread["threshold_frequency"],
        "bands": bands,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = {}
    for folder in args.models:
        result[folder.name] = measure(folder, args.data, args.resamples)
        print(folder.name, json.dumps(result[folder.name]["threshold_frequency"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
