"""Smoothed against plain conformal p-values on one model's stored calibration set (model 2.12.0).

    python -m benchmarks.toxicity.conformal_smoothing models/toxicity/2.11.0 \
        [--random-draws 20] [--json benchmarks/toxicity/conformal_smoothing.json]

Judges each fold's sets with a calibration set from the other folds (the card's scaffold folds, Mondrian
over class and domain side, as served since 2.5.0) three ways: plain p-values (up to 2.11.0); smoothed
with the draws a model from 2.12.0 on serves (a hash of each compound's stored domain fingerprint); and
smoothed with uniform random draws, averaged over `--random-draws` seeds: the error the method makes in
expectation, without one draw's luck. For each and both levels: the largest |error - ε| per class (both
domain sides together, as the issue's ±0.02 is read) and per class and side, the mean signed excess,
and the share of single-label sets. For a smoothed model the served draws must reproduce its card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.conformal_domain import served_categories, served_draws, stored_calibration
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import SIGNIFICANCE_LEVELS, SMOOTHED, validity_report

CLASSES = ("error_inactive", "error_active")
Cells = dict[tuple[str, str, str, str], float]


def cell_errors(report: dict[str, Any]) -> Cells:
    """(level, endpoint, side, class) -> observed error, side 'all' for both sides together."""
    cells = {}
    for level, result in report.items():
        for endpoint, row in result["endpoints"].items():
            for side in ("all", "in_domain", "out_of_domain"):
                errors = row if side == "all" else row[side]
                for name in CLASSES:
                    if errors[name] is not None:
                        cells[(level, endpoint, side, name)] = float(errors[name])
    return cells


def summary(cells: Cells, single: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for level in map(str, SIGNIFICANCE_LEVELS):
        excess = {k: v - float(level) for k, v in cells.items() if k[0] == level}
        per_class = {k: v for k, v in excess.items() if k[2] == "all"}
        per_side = {k: v for k, v in excess.items() if k[2] != "all"}
        worst = max(per_class, key=lambda k: abs(per_class[k]))
        worst_side = max(per_side, key=lambda k: abs(per_side[k]))
        out[level] = {
            "max_abs_deviation": round(abs(per_class[worst]), 4),
            "worst_class": f"{worst[1]} {worst[3][6:]} {per_class[worst]:+.4f}",
            "max_abs_deviation_by_domain": round(abs(per_side[worst_side]), 4),
            "worst_cell": f"{worst_side[1]} {worst_side[3][6:]} {worst_side[2]} {per_side[worst_side]:+.4f}",
            "mean_excess_per_class": round(float(np.mean(list(per_class.values()))), 4),
            "mean_single_label": round(single[level], 4),
        }
    return out


def measured(report: dict[str, Any]) -> tuple[Cells, dict[str, float]]:
    return cell_errors(report), {level: r["mean_single_label"] for level, r in report.items()}


def judged(
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    inside: np.ndarray,
    draws: np.ndarray | None,
    category: np.ndarray | None = None,
) -> tuple[Cells, dict[str, float]]:
    return measured(validity_report(scores, labels, folds, ENDPOINTS, inside, draws, category))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--random-draws", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    card, scores, labels, folds, inside = stored_calibration(args.model)
    served, category = served_draws(args.model, card), served_categories(args.model, card)
    report: dict[str, Any] = {"model": card["version"], "compounds": len(scores)}
    report["plain"] = summary(*judged(scores, labels, folds, inside, None, category))
    served_report = validity_report(scores, labels, folds, ENDPOINTS, inside, served, category)
    if (
        card["conformal"].get("p_values") == SMOOTHED
        and served_report != card["conformal"]["validity_cross_fitted"]
    ):
        raise SystemExit("the served draws do not reproduce the card's validity report")
    report["smoothed, served draws"] = summary(*measured(served_report))
    runs = [
        judged(
            scores, labels, folds, inside, np.random.default_rng(seed).uniform(size=served.shape), category
        )
        for seed in range(args.random_draws)
    ]
    mean_cells = {k: float(np.mean([cells[k] for cells, _ in runs])) for k in runs[0][0]}
    mean_single = {k: float(np.mean([single[k] for _, single in runs])) for k in runs[0][1]}
    report[f"smoothed, mean of {args.random_draws} random draws"] = summary(mean_cells, mean_single)
    for name, result in report.items():
        if isinstance(result, dict):
            for level, row in result.items():
                print(f"{name} @ε={level}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
