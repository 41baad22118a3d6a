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
from hygeia.toxicity.conformal import (
    SIGNIFICANCE_LEVELS,
    card_category_edges,
    class_errors,
    cross_conformal_sets,
    inside_domain,
    similarity_categories,
    smoothing_draws,
)
from hygeia.toxicity.dataset import load_tox21, trained_scope
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

ROOT = Path(__file__).resolve().parents[2]
SIDES = {"in_domain": True, "out_of_domain": False}


def _side_cells(
    endpoint: str, sets: np.ndarray, y: np.ndarray, on_side: np.ndarray, level: float
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Per domain side: each present class's error minus ε with its size, and the single-label share."""
    cells, single = [], {}
    for side, flag in SIDES.items():
        chosen = on_side == flag
        errors = class_errors(sets[chosen], y[chosen])
        single[side] = float(errors["single_label"] or 0.0)
        for cls, name in ((0, "inactive"), (1, "active")):
            error = errors[f"error_{name}"]
            if error is not None:
                n = int((y[chosen] == cls).sum())
                cells.append(
                    {
                        "endpoint": endpoint,
                        "side": side,
                        "class": name,
                        "n": n,
                        "excess": round(error - level, 4),
                    }
                )
    return cells, single


def judge(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, inside: np.ndarray) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for taxonomy, categories in (("class", None), ("class x domain", inside)):
        for level in SIGNIFICANCE_LEVELS:
            cells: list[dict[str, Any]] = []
            single: dict[str, list[float]] = {side: [] for side in SIDES}
            for j, endpoint in enumerate(ENDPOINTS):
                tested = ~np.isnan(labels[:, j])
                sets = cross_conformal_sets(scores, labels, folds, j, level, categories)[tested]
                found, shares = _side_cells(
                    endpoint, sets, labels[tested, j].astype(int), inside[tested], level
                )
                cells += found
                for side, share in shares.items():
                    single[side].append(share)
            ranked = sorted(cells, key=lambda c: float(c["excess"]))
            report[f"{taxonomy} @{level}"] = {
                "largest_excess": ranked[-3:][::-1],
                "most_conservative": ranked[:2],
                "mean_single_label": {k: round(float(np.mean(v)), 4) for k, v in single.items()},
                "cells": cells,
            }
    return report


def _cells(cells: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{c['endpoint']} {c['class']} {c['side']} {c['excess']:+.3f} (n {c['n']})" for c in cells
    )


def stored_calibration(model: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A model's card, its stored out-of-fold scores and labels, the card's scaffold folds rebuilt from
    the Tox21 file, and each compound's domain side read off its stored similarity."""
    card = json.loads((model / "card.json").read_text())
    stored = np.load(model / card["conformal"]["file"], allow_pickle=False)
    if stored.shape[0] != 3:
        raise SystemExit(f"{model} stores no similarities (models before 2.5.0)")
    data = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data")) / "tox21" / "tox21.csv"
    dataset = load_tox21(data, scope=trained_scope(card))
    if len(dataset) != stored.shape[1]:
        raise SystemExit("the calibration set does not match this Tox21 file")
    # "5-fold balanced Bemis-Murcko scaffold CV, fold seed 2026"
    evaluation = re.fullmatch(r"(\d+)-fold .*, fold seed (\d+)", card["metrics"]["evaluation"])
    if evaluation is None:
        raise SystemExit(f"unexpected evaluation {card['metrics']['evaluation']!r}")
    n_folds, seed = int(evaluation[1]), int(evaluation[2])
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), n_folds, seed)
    inside = inside_domain(stored[2][:, 0], float(card["applicability_domain"]["threshold"]))
    return card, stored[0].astype(float), stored[1].astype(float), folds, inside


def served_categories(model: Path, card: dict[str, Any]) -> np.ndarray | None:
    """Each training compound's Mondrian similarity category, for models with more edges than the
    domain threshold (2.13.0 on); None where the categories are the domain sides."""
    edges = card_category_edges(card)
    if len(edges) < 2:
        return None
    stored = np.load(model / card["conformal"]["file"], allow_pickle=False)
    return similarity_categories(stored[2][:, 0], edges)


def served_draws(model: Path, card: dict[str, Any]) -> np.ndarray:
    """Each training compound's smoothing draws, from the stored domain fingerprints, as a model with
    smoothed p-values (2.12.0 on) gives them at serving and in its card's validity table."""
    packed = np.load(model / card["applicability_domain"]["fingerprints"], allow_pickle=False)
    return smoothing_draws(np.unpackbits(packed, axis=1), len(ENDPOINTS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    card, scores, labels, folds, inside = stored_calibration(args.model)
    report = judge(scores, labels, folds, inside)
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
