"""Conformal categories by similarity band instead of domain side (not shipped).

    python -m benchmarks.toxicity.conformal_bands models/toxicity/2.12.0 \
        [--json benchmarks/toxicity/conformal_bands.json]

The served sets are Mondrian over class and domain side (similarity ≥ the card's threshold or not).
Within a side, validity holds on average only: 2.10.0-2.12.0's compounds at 0.35-0.40, just inside,
err at ~0.244 at ε = 0.2 while near-duplicates (≥ 0.6) err at ~0.16 (the card's band table). This
splits the similarity axis at more edges, each category calibrated on its own compounds, and judges
each taxonomy on the model's stored out-of-fold scores (reporting folds, cross-fitted, the served
smoothing draws): largest gap from ε per class, conformal error per similarity band of the card's table,
and the share of single-label sets. The edge sets were tried on these folds, so a choice among them
would need the selection folds before it ships.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.conformal_domain import served_draws, stored_calibration
from hygeia.toxicity.conformal import SIGNIFICANCE_LEVELS, EndpointConformal
from hygeia.toxicity.training import BAND_EDGES

TAXONOMIES = ((), (0.5,), (0.45, 0.6), (0.3, 0.4, 0.5))  # edges besides the card's threshold
MIN_BAND_LABELS = 1_000  # the worst band gap leaves out the few compounds below 0.2 (217 labels)


def category_sets(
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    category: np.ndarray,
    draws: np.ndarray,
    level: float,
) -> np.ndarray:
    """(n, endpoints, 2) sets, each fold and category calibrated on the other folds' compounds of it."""
    sets = np.zeros((*scores.shape, 2), dtype=bool)
    for j in range(scores.shape[1]):
        for fold in np.unique(folds):
            test = folds == fold
            for k in np.unique(category[test]):
                query, calibration = test & (category == k), ~test & (category == k)
                model = EndpointConformal.fit(scores[calibration, j], labels[calibration, j])
                sets[query, j] = model.prediction_sets(scores[query, j], level, draws[query, j])
    return sets


def judge(sets: np.ndarray, labels: np.ndarray, similarity: np.ndarray, level: float) -> dict[str, Any]:
    """Largest per-class gap from ε, error per similarity band (and the largest gap among bands of at
    least MIN_BAND_LABELS labels), single-label share."""
    gaps, single = [], []
    wrong = np.zeros(len(BAND_EDGES) - 1)
    counted = np.zeros(len(BAND_EDGES) - 1)
    band = np.clip(np.digitize(similarity, BAND_EDGES) - 1, 0, len(BAND_EDGES) - 2)
    for j in range(labels.shape[1]):
        tested = ~np.isnan(labels[:, j])
        y = labels[tested, j].astype(int)
        endpoint_sets = sets[tested, j]
        covered = endpoint_sets[np.arange(len(y)), y]
        gaps += [abs(float(1 - covered[y == c].mean()) - level) for c in (0, 1)]
        single.append(float((endpoint_sets.sum(axis=1) == 1).mean()))
        np.add.at(wrong, band[tested], ~covered)
        np.add.at(counted, band[tested], 1)
    errors = {
        f"{low:.2f}-{min(high, 1.0):.2f}": {"labels": int(n), "error": round(float(w / n), 4)}
        for low, high, w, n in zip(BAND_EDGES[:-1], BAND_EDGES[1:], wrong, counted, strict=True)
        if n
    }
    sizeable = [abs(band["error"] - level) for band in errors.values() if band["labels"] >= MIN_BAND_LABELS]
    return {
        "max_abs_deviation": round(max(gaps), 4),
        "error_by_band": errors,
        "worst_band_gap": round(max(sizeable), 4),
        "mean_single_label": round(float(np.mean(single)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    card, scores, labels, folds, _ = stored_calibration(args.model)
    similarity = np.load(args.model / card["conformal"]["file"], allow_pickle=False)[2][:, 0]
    draws = served_draws(args.model, card)
    threshold = float(card["applicability_domain"]["threshold"])
    report: dict[str, Any] = {"model": card["version"], "threshold": threshold}
    for extra in TAXONOMIES:
        edges = tuple(sorted({threshold, *extra}))
        category = np.digitize(similarity, np.asarray(edges, dtype=np.float32))
        for level in SIGNIFICANCE_LEVELS:
            sets = category_sets(scores, labels, folds, category, draws, level)
            result = judge(sets, labels, similarity, level)
            report[f"edges {list(edges)} @{level}"] = result
            bands = " ".join(f"{k} {v['error']}" for k, v in result["error_by_band"].items())
            print(
                f"edges {list(edges)} @ε={level}: max per-class gap {result['max_abs_deviation']}, "
                f"worst band gap {result['worst_band_gap']}, single-label {result['mean_single_label']}; "
                + bands
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
