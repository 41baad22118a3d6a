"""Research for issue #12: does a random forest, as a fourth tree member, rank what 2.10.0's three
boosters miss?

    python -m benchmarks.toxicity.network_selection features --out var/tox-network-features.npz
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped selu_alpha_dropout_0.2 --oof var/networks
    python -m benchmarks.toxicity.forest_member --members var/forest-members.npz --graph var/sel-graph.npy \
        --networks var/networks --json benchmarks/toxicity/forest_member.json

On the challenge set a plain random forest (0.829) ranked above XGBoost (0.823) and Chemprop (0.815)
(Ebner et al. 2025, published figures): bagging deep trees on bootstrap samples averages away
variance where boosting fits the residuals of shallow ones, so its errors could differ from the
boosters' more than another booster's did (§8). LightGBM's own `rf` mode grows it, so a forest would
ship as LightGBM text through the serving code the boosters use. Selection folds (fold seed 0,
`organic-v2`): forests on the first member's inputs (Morgan counts, MACCS, RDKit 2D, ErG) and on the
third's (atom-pair counts, RDKit 2D, ErG), soft labels for untested endpoints as the boosters have;
joined to the tree side's average or given a weight of their own in 2.10.0's blend, all members
recomputed here with the shipped code; paired per-fold differences against 2.10.0's recipe.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from benchmarks.toxicity.blending import (
    NETWORK_WEIGHT,
    paired_row,
    per_fold,
    print_rows,
    shipped_blend,
    shipped_network_side,
)
from benchmarks.toxicity.label_imputation import save_booster_oofs, selection_inputs
from hygeia.toxicity.members import SHIPPED_MEMBERS, MemberConfig

# Breiman's forest in LightGBM: every tree on a 63 % bootstrap, a column sample at each split, no
# shrinkage (rf mode averages the trees); deep trees with small leaves, as a forest wants.
FOREST_PARAMS = {
    "boosting": "rf",
    "objective": "binary",
    "verbosity": -1,
    "num_threads": 1,
    "force_col_wise": True,
    "bagging_fraction": 0.632,
    "bagging_freq": 1,
    "feature_fraction": 0.5,
    "feature_fraction_bynode": 0.2,
    "num_leaves": 127,
    "min_child_samples": 3,
}
FORESTS = (
    MemberConfig("forest_morgan_maccs_desc", SHIPPED_MEMBERS[0].features, FOREST_PARAMS, 300, True),
    MemberConfig("forest_atompair_desc", SHIPPED_MEMBERS[2].features, FOREST_PARAMS, 300, True),
)
FOREST_WEIGHTS = (0.1, 0.2)  # a forest's own share of the final blend, the rest scaled down


def compute(members: Path, graph: Path) -> None:
    """Each shipped booster's and each forest's ensemble out of fold (and the graph member's, if
    `graph` is missing)."""
    dataset, folds, parts = selection_inputs(graph)
    save_booster_oofs(members, (*SHIPPED_MEMBERS, *FORESTS), dataset, folds, parts)


def rank_correlation(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> float:
    """Mean over endpoints of the Spearman correlation of two members' scores on the tested compounds:
    how differently they order molecules."""
    tested = ~np.isnan(labels)
    return round(float(np.mean([spearmanr(a[t, j], b[t, j])[0] for j, t in enumerate(tested.T)])), 3)


def report(members: Path, graph_path: Path, networks: Path) -> dict[str, Any]:
    """Forests alone against the boosters, and in 2.10.0's blend two ways, against 2.10.0's recipe."""
    stored, graph = np.load(members), np.load(graph_path)
    labels, folds = stored["labels"], stored["folds"]
    network = shipped_network_side(networks)
    boosters = [stored[m.name] for m in SHIPPED_MEMBERS]
    trees = np.mean(boosters, axis=0)
    recipe = shipped_blend(trees, network, graph, NETWORK_WEIGHT)
    reference, tree_reference = per_fold(recipe, labels, folds), per_fold(trees, labels, folds)
    rows: dict[str, Any] = {
        "2.10.0's recipe": paired_row(recipe, reference, labels, folds),
        "2.10.0's boosters alone": paired_row(trees, tree_reference, labels, folds),
    }
    for config in FORESTS:
        forest = stored[config.name]
        rows[f"{config.name} alone, against the boosters"] = paired_row(forest, tree_reference, labels, folds)
        joined = np.mean([*boosters, forest], axis=0)
        rows[f"{config.name} as a fourth tree member: tree side"] = paired_row(
            joined, tree_reference, labels, folds
        )
        rows[f"{config.name} as a fourth tree member: in the blend"] = paired_row(
            shipped_blend(joined, network, graph, NETWORK_WEIGHT), reference, labels, folds
        )
        for weight in FOREST_WEIGHTS:
            rows[f"{config.name} at its own weight {weight}"] = paired_row(
                (1 - weight) * recipe + weight * forest, reference, labels, folds
            )
    both = np.mean([*boosters, *(stored[c.name] for c in FORESTS)], axis=0)
    rows["both forests in the tree side: in the blend"] = paired_row(
        shipped_blend(both, network, graph, NETWORK_WEIGHT), reference, labels, folds
    )
    correlation = {
        "first two boosters": rank_correlation(boosters[0], boosters[1], labels),
        **{
            f"{c.name} with the boosters' average": rank_correlation(stored[c.name], trees, labels)
            for c in FORESTS
        },
    }
    recipe_text = "2.10.0 recipe: 0.75 * (0.75 trees + 0.25 mean(ReLU, SNN)) + 0.25 graph"
    return {
        "fold_seed": 0,
        "reference": recipe_text,
        "forest_params": FOREST_PARAMS,
        "rank_correlation": correlation,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--members", type=Path, required=True, help="tree members' out of fold (made if absent)"
    )
    parser.add_argument("--graph", type=Path, required=True, help="graph member out of fold (made if absent)")
    parser.add_argument("--networks", type=Path, required=True, help="network_selection --oof folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.members.exists():
        started = time.perf_counter()
        compute(args.members, args.graph)
        print(f"computed in {time.perf_counter() - started:.0f} s", flush=True)
    result = report(args.members, args.graph, args.networks)
    print_rows(result["rows"])
    print(result["rank_correlation"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
