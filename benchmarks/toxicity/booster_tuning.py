"""Research for issue #12: are the boosters' LightGBM settings still right now that they learn from
soft-labelled untested compounds (2.4.0)?

    python -m benchmarks.toxicity.booster_tuning --out var/booster-tuning.npz \
        --graph var/label-imputation-graph.npy --json benchmarks/toxicity/booster_tuning.json

The settings were chosen in 2.0.0 on tested compounds only; imputation added 7-26 % training rows per
endpoint, and larger training sets often want finer learning or smaller leaves. Selection folds
(fold seed 0), as every choice for the card is made. Each variant changes the same setting in all
three shipped boosters (rounds scaled from each member's own), and is compared with the shipped
settings by the paired per-fold difference, as a tree ensemble and in the 2.5.0 blend with the
multitask network (3 seeds, tested labels) and the graph member (shipped code, seed 0; computed once
if `--graph` is absent, the same file `label_imputation` writes). The grid is small and fixed in
advance so that the best of it is not mostly selection noise (two more planned variants, 7 leaves and
per-node column sampling, were dropped unrun once the first four had moved the blend by -0.0002 to
+0.0003: each variant costs ~6-12 min of both cores).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import paired_row, per_fold, print_rows, shipped_blend
from benchmarks.toxicity.label_imputation import _network_oof, selection_inputs
from benchmarks.toxicity.model_selection import SELECTION_SEED
from hygeia.toxicity.members import SHIPPED_MEMBERS, MemberConfig, cross_validate_member
from hygeia.toxicity.training import member_matrix, network_matrix

# name -> (parameter overrides, factor on each member's rounds)
VARIANTS: dict[str, tuple[dict[str, Any], float]] = {
    "shipped": ({}, 1.0),
    "learning rate 0.025, 2x rounds": ({"learning_rate": 0.025}, 2.0),
    "1.5x rounds": ({}, 1.5),
    "min_child_samples 20": ({"min_child_samples": 20}, 1.0),
    "lambda_l2 5": ({"lambda_l2": 5.0}, 1.0),
}
FINER = "learning rate 0.025, 2x rounds"


def variant(member: MemberConfig, overrides: dict[str, Any], factor: float) -> MemberConfig:
    return replace(member, params={**member.params, **overrides}, rounds=round(member.rounds * factor))


# The study's reference is 2.5.0's boosters (rate 0.05, half of 2.6.0's rounds), which it led to replace.
MEMBERS_2_5_0 = tuple(variant(m, {"learning_rate": 0.05}, 0.5) for m in SHIPPED_MEMBERS)


def compute(out: Path, graph: Path) -> None:
    """Out-of-fold predictions of the variants not yet in `out` (saved after each), the network, the graph."""
    started = time.perf_counter()
    dataset, folds, parts = selection_inputs(graph)
    labels = dataset.labels
    result: dict[str, np.ndarray] = dict(np.load(out)) if out.exists() else {}
    result.update(labels=labels, folds=folds)
    if "network" not in result:
        result["network"] = _network_oof(network_matrix(dataset.mols, parts), labels, folds, False)
        np.savez(out, **result)  # type: ignore[arg-type]
    for name, (overrides, factor) in VARIANTS.items():
        for member in MEMBERS_2_5_0:
            key = f"{name}|{member.name}"
            if key in result:
                continue
            config = variant(member, overrides, factor)
            cv = cross_validate_member(config, member_matrix(parts, config), labels, folds, 0, print)
            result[key] = cv.oof
            np.savez(out, **result)  # type: ignore[arg-type]
        print(f"{name} done ({time.perf_counter() - started:.0f} s)", flush=True)


def report(oof_path: Path, graph_path: Path, deeper_graph: Path | None = None) -> dict[str, Any]:
    stored, graph = np.load(oof_path), np.load(graph_path)
    labels, folds, network = stored["labels"], stored["folds"], stored["network"]
    names = [m.name for m in SHIPPED_MEMBERS]
    done = [v for v in VARIANTS if all(f"{v}|{n}" in stored for n in names)]
    trees = {v: np.mean([stored[f"{v}|{n}"] for n in names], axis=0) for v in done}
    reference_trees = per_fold(trees["shipped"], labels, folds)
    reference_blend = per_fold(shipped_blend(trees["shipped"], network, graph), labels, folds)
    rows: dict[str, dict[str, Any]] = {}
    for v in done:
        for n in names:
            reference = per_fold(stored[f"shipped|{n}"], labels, folds)
            rows[f"{v}: {n}"] = paired_row(stored[f"{v}|{n}"], reference, labels, folds)
        rows[f"{v}: tree ensemble"] = paired_row(trees[v], reference_trees, labels, folds)
        blend = shipped_blend(trees[v], network, graph)
        rows[f"{v}: blend"] = paired_row(blend, reference_blend, labels, folds)
    if deeper_graph is not None:  # the depth-5 graph member of section 6, alone and with finer boosters
        deeper = np.load(deeper_graph)
        rows["depth-5 graph member alone"] = paired_row(deeper, per_fold(graph, labels, folds), labels, folds)
        for v in ("shipped", FINER):
            rows[f"{v} boosters, depth-5 graph: blend"] = paired_row(
                shipped_blend(trees[v], network, deeper), reference_blend, labels, folds
            )
    return {
        "fold_seed": SELECTION_SEED,
        "reference": "2.5.0 recipe: 0.75 * (0.75 trees + 0.25 network) + 0.25 graph; boosters imputed",
        "variants": {v: {"overrides": VARIANTS[v][0], "rounds_factor": VARIANTS[v][1]} for v in done},
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the variants' out-of-fold predictions")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out-of-fold .npy")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report-only", action="store_true", help="report what is computed so far")
    parser.add_argument("--deeper-graph", type=Path, default=None, help="a depth-5 graph member's .npy")
    args = parser.parse_args(argv)
    if not args.report_only:
        compute(args.out, args.graph)
    result = report(args.out, args.graph, args.deeper_graph)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
