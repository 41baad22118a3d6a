"""Research for issue #12: should the networks also read the reduced graph (ErG) the boosters read
since 2.10.0?

    python -m benchmarks.toxicity.network_selection features --out var/tox-network-features.npz
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped shipped_erg selu_alpha_dropout_0.2 selu_alpha_dropout_0.2_erg --oof var/networks
    python -m benchmarks.toxicity.network_erg --members var/erg-members.npz --graph var/sel-graph.npy \
        --networks var/networks --json benchmarks/toxicity/network_erg.json

ErG lifted the boosters by +0.0025 ROC-AUC and +0.0048 PR-AUC on the selection folds (§23), a
binding-site view (donor, acceptor, charged, hydrophobic and ring nodes by topological distance) that
no fingerprint or bulk descriptor the networks read gives. At serving it is already computed for the
boosters, so the networks would read it for the cost of a wider first layer. Selection folds (fold
seed 0, `organic-v2`): the ReLU network and the SNN (three seeds each, shipped settings) with and
without ErG, alone and in 2.10.0's blend with 2.10.0's boosters and the graph member, all recomputed
here with the shipped code; paired per-fold differences against 2.10.0's recipe. The run also repeats
§23's booster comparison (2.6.0's boosters against 2.10.0's) on the ErG values fixed in §24, and asks
whether 2.10.0's members would blend better at other weights than the 0.25 and 0.25 fixed since 2.3.0.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import (
    NETWORK_WEIGHT,
    logit,
    paired_row,
    per_fold,
    print_rows,
    shipped_blend,
)
from benchmarks.toxicity.extra_descriptors import without_part
from benchmarks.toxicity.label_imputation import selection_inputs
from hygeia.toxicity.members import SHIPPED_MEMBERS, cross_validate_member
from hygeia.toxicity.training import member_matrix

RELU, SNN = "shipped", "selu_alpha_dropout_0.2"  # network_selection's names for the two shipped networks
# is 2.10.0's blend still at its best weights, now that the boosters read ErG? (both fixed since 2.3.0)
OTHER_WEIGHTS = [(n, g) for n in (0.2, 0.25, 0.3) for g in (0.2, 0.25, 0.3) if (n, g) != (0.25, 0.25)]
BOOSTERS = {
    "2.10.0 boosters": SHIPPED_MEMBERS,
    "2.6.0 boosters": [without_part(m, "erg") for m in SHIPPED_MEMBERS],
}


def compute(members: Path, graph: Path) -> None:
    """Both booster recipes' ensembles out of fold (and the graph member's, if `graph` is missing)."""
    dataset, folds, parts = selection_inputs(graph)
    result: dict[str, np.ndarray] = {"labels": dataset.labels, "folds": folds}
    for name, configs in BOOSTERS.items():
        started = time.perf_counter()
        oof = [
            cross_validate_member(m, member_matrix(parts, m), dataset.labels, folds, 0, print).oof
            for m in configs
        ]
        result[name] = np.mean(oof, axis=0)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    np.savez(members, **result)


def report(members: Path, graph_path: Path, networks: Path) -> dict[str, Any]:
    """Networks alone against their own reference, blends against 2.10.0's recipe on these folds."""
    stored, graph = np.load(members), np.load(graph_path)
    labels, folds = stored["labels"], stored["folds"]
    oof = {name: np.load(networks / f"{name}.npy") for name in (RELU, f"{RELU}_erg", SNN, f"{SNN}_erg")}
    sides = {
        "networks as shipped": (oof[RELU] + oof[SNN]) / 2,
        "both networks read ErG": (oof[f"{RELU}_erg"] + oof[f"{SNN}_erg"]) / 2,
        "ReLU network reads ErG": (oof[f"{RELU}_erg"] + oof[SNN]) / 2,
        "SNN reads ErG": (oof[RELU] + oof[f"{SNN}_erg"]) / 2,
    }
    trees = stored["2.10.0 boosters"]
    reference = per_fold(
        shipped_blend(trees, sides["networks as shipped"], graph, NETWORK_WEIGHT), labels, folds
    )
    rows: dict[str, Any] = {}
    for network in (RELU, SNN):
        alone = per_fold(oof[network], labels, folds)
        rows[f"{network} alone"] = paired_row(oof[network], alone, labels, folds)
        rows[f"{network} + ErG alone"] = paired_row(oof[f"{network}_erg"], alone, labels, folds)
    side_reference = per_fold(sides["networks as shipped"], labels, folds)
    for name, side in sides.items():
        rows[f"{name}: network side alone"] = paired_row(side, side_reference, labels, folds)
        rows[f"{name}: in 2.10.0's blend"] = paired_row(
            shipped_blend(trees, side, graph, NETWORK_WEIGHT), reference, labels, folds
        )
    older = stored["2.6.0 boosters"]
    rows["2.6.0 boosters alone, against 2.10.0's"] = paired_row(
        older, per_fold(trees, labels, folds), labels, folds
    )
    rows["2.6.0 boosters in 2.10.0's blend"] = paired_row(
        shipped_blend(older, sides["networks as shipped"], graph, NETWORK_WEIGHT), reference, labels, folds
    )
    for network_weight, graph_weight in OTHER_WEIGHTS:
        blend = shipped_blend(trees, sides["networks as shipped"], graph, network_weight, graph_weight)
        rows[f"2.10.0's members, network weight {network_weight}, graph weight {graph_weight}"] = paired_row(
            blend, reference, labels, folds
        )
    logits = [logit(m) for m in (trees, sides["networks as shipped"], graph)]
    rows["2.10.0's members, logits averaged at the shipped weights"] = paired_row(
        shipped_blend(*logits, NETWORK_WEIGHT), reference, labels, folds
    )
    recipe = "2.10.0 recipe: 0.75 * (0.75 trees + 0.25 mean(ReLU, SNN)) + 0.25 graph"
    return {"fold_seed": 0, "reference": recipe, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=Path, required=True, help="boosters' out of fold (made if absent)")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out of fold (made if absent)")
    parser.add_argument("--networks", type=Path, required=True, help="network_selection --oof folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.members.exists():
        compute(args.members, args.graph)
    result = report(args.members, args.graph, args.networks)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
