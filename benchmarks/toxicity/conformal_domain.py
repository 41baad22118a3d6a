"""Do the conformal sets keep their error rate out of the applicability domain? (model 2.5.0)

    python -m benchmarks.toxicity.conformal_domain models/toxicity/2.5.0 \
        --json benchmarks/toxicity/conformal_domain.json

Reads the model's stored calibration set (out-of-fold scores, labels and out-of-fold nearest-neighbour
similarities, written by `hygeia toxicity train`), rebuilds the card's scaffold folds from the Tox21
file, and judges each fold's sets with a calibration set from the other folds, two ways: Mondrian
over the class only (2.0.0-2.4.0) and over class and domain side (2.5.0). For each, per class and
side, the observed error minus ε, and the share of single-label sets on each side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import SIGNIFICANCE_LEVELS, cross_conformal_sets, inside_domain
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

ROOT = Path(__file__).resolve().parents[2]
SIDES = {"in_domain": True, "out_of_domain": False}


def side_errors(sets: np.ndarray, y: np.ndarray, inside: np.ndarray, level: float) -> list[dict[str, Any]]:
    rows = []
    for side, flag in SIDES.items():
        on_side = inside == flag
        for cls, name in ((0, "inactive"), (1, "active")):
            chosen = on_side & (y == cls)
            error = float(1 - sets[chosen, cls].mean())
            rows.append(
                {"side": side, "class": name, "n": int(chosen.sum()), "excess": round(error - level, 4)}
            )
    return rows


def judge(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, inside: np.ndarray) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for taxonomy, categories in (("class", None), ("class x domain", inside)):
        for level in SIGNIFICANCE_LEVELS:
            cells, single = [], {side: [] for side in SIDES}
            for j, endpoint in enumerate(ENDPOINTS):
                tested = ~np.isnan(labels[:, j])
                sets = cross_conformal_sets(scores, labels, folds, j, level, categories)[tested]
                y, side = labels[tested, j].astype(int), inside[tested]
                cells += [{"endpoint": endpoint, **c} for c in side_errors(sets, y, side, level)]
                for name, flag in SIDES.items():
                    single[name].append(float((sets[side == flag].sum(axis=1) == 1).mean()))
            excess = sorted(cells, key=lambda c: c["excess"])
            report[f"{taxonomy} @{level}"] = {
                "largest_excess": excess[-3:][::-1],
                "most_conservative": excess[:2],
                "mean_single_label": {k: round(float(np.mean(v)), 4) for k, v in single.items()},
                "cells": cells,
            }
    return report


def _cells(cells: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{c['endpoint']} {c['class']} {c['side']} {c['excess']:+.3f} (n {c['n']})" for c in cells
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    card = json.loads((args.model / "card.json").read_text())
    stored = np.load(args.model / card["conformal"]["file"], allow_pickle=False)
    if stored.shape[0] != 3:
        raise SystemExit(f"{args.model} stores no similarities (models before 2.5.0)")
    data = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data")) / "tox21" / "tox21.csv"
    dataset = load_tox21(data)
    if len(dataset) != stored.shape[1]:
        raise SystemExit("the calibration set does not match this Tox21 file")
    # "5-fold balanced Bemis-Murcko scaffold CV, fold seed 2026"
    evaluation = re.fullmatch(r"(\d+)-fold .*, fold seed (\d+)", card["metrics"]["evaluation"])
    if evaluation is None:
        raise SystemExit(f"unexpected evaluation {card['metrics']['evaluation']!r}")
    n_folds, seed = int(evaluation[1]), int(evaluation[2])
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), n_folds, seed)
    inside = inside_domain(stored[2][:, 0], float(card["applicability_domain"]["threshold"]))
    report = judge(stored[0].astype(float), stored[1].astype(float), folds, inside)
    report = {"model": card["version"], "in_domain_share": round(float(inside.mean()), 4), **report}
    for name, result in report.items():
        if isinstance(result, dict):
            print(name, "largest excess over ε:", _cells(result["largest_excess"]))
            print("   most conservative:", _cells(result["most_conservative"]))
            print("   single-label sets:", result["mean_single_label"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
