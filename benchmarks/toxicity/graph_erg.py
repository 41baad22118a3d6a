"""Research for issue #12: should the graph member read the reduced graph (ErG) beside its RDKit 2D
descriptors?

    python -m benchmarks.toxicity.forest_member ...      # writes the boosters' and graph member's files
    python -m benchmarks.toxicity.graph_erg --members var/forest-members.npz --graph var/sel-graph.npy \
        --graph-erg var/sel-graph-erg.npy --networks var/networks --json benchmarks/toxicity/graph_erg.json

ErG lifted the boosters (§23) and the networks alone (§25), but the networks' gain did not reach the
blend. The graph member is the blend's most different member (it learns its own representation of the
molecule, §6) and joins its descriptors only before its readout, where ErG's pharmacophore-pair
distances would add a view its two message-passing steps cannot see. Selection folds (fold seed 0,
`organic-v2`): the shipped graph member (seed 0) with ErG's 315 columns joined to its descriptors
(the same CDF scaling), alone and in 2.10.0's blend; paired per-fold differences.
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
    paired_row,
    per_fold,
    print_rows,
    shipped_blend,
    shipped_network_side,
)
from benchmarks.toxicity.label_imputation import graph_oof, seed_path, selection_inputs
from hygeia.toxicity.members import SHIPPED_MEMBERS

SECOND_SEED = 1  # a second seed tells ErG's effect from one training run's luck


def compute(graph: Path, graph_erg: Path, seed: int = 0) -> None:
    """The graph member with ErG (and, for another seed than 0, without) at `seed`, where absent."""
    missing = [
        (path, erg) for path, erg in ((graph_erg, True), (seed_path(graph, seed), False)) if not path.exists()
    ]
    if not missing:
        return
    dataset, folds, parts = selection_inputs(graph)
    for path, erg in missing:
        descriptors = np.hstack([parts["rdkit_2d"], parts["erg"]]) if erg else parts["rdkit_2d"]
        np.save(path, graph_oof(dataset, descriptors, folds, seed))


def report(members: Path, graph_path: Path, graph_erg_path: Path, networks: Path) -> dict[str, Any]:
    stored, graph, graph_erg = np.load(members), np.load(graph_path), np.load(graph_erg_path)
    labels, folds = stored["labels"], stored["folds"]
    network = shipped_network_side(networks)
    trees = np.mean([stored[m.name] for m in SHIPPED_MEMBERS], axis=0)

    def blend(graph_oof: np.ndarray) -> np.ndarray:
        """2.10.0's blend with this graph member in the shipped one's place."""
        return shipped_blend(trees, network, graph_oof, NETWORK_WEIGHT)

    def row(scores: np.ndarray, against: np.ndarray) -> dict[str, Any]:
        return paired_row(scores, against, labels, folds)

    def folds_of(scores: np.ndarray) -> np.ndarray:
        return per_fold(scores, labels, folds)

    recipe = blend(graph)
    reference, graph_reference = folds_of(recipe), folds_of(graph)
    rows = {
        "2.10.0's recipe": row(recipe, reference),
        "graph member alone": row(graph, graph_reference),
        "graph member + ErG alone": row(graph_erg, graph_reference),
        "graph member + ErG in 2.10.0's blend": row(blend(graph_erg), reference),
        "both graph members averaged, in the blend": row(blend((graph + graph_erg) / 2), reference),
    }
    seed = SECOND_SEED
    if seed_path(graph_path, seed).exists() and seed_path(graph_erg_path, seed).exists():
        plain, with_erg = np.load(seed_path(graph_path, seed)), np.load(seed_path(graph_erg_path, seed))
        seed_blend, plain_pair = blend(plain), blend((graph + plain) / 2)
        rows[f"seed {seed}: graph member alone"] = row(plain, graph_reference)
        rows[f"seed {seed}: graph member + ErG alone"] = row(with_erg, folds_of(plain))
        rows[f"seed {seed}: graph member in 2.10.0's blend"] = row(seed_blend, reference)
        rows[f"seed {seed}: graph member + ErG in the blend, against seed {seed}'s recipe"] = row(
            blend(with_erg), folds_of(seed_blend)
        )
        rows["seeds 0-1 averaged: graph member in 2.10.0's blend"] = row(plain_pair, reference)
        rows["seeds 0-1 averaged: graph member + ErG in the blend, against the plain pair"] = row(
            blend((graph_erg + with_erg) / 2), folds_of(plain_pair)
        )
    recipe_text = "2.10.0 recipe: 0.75 * (0.75 trees + 0.25 mean(ReLU, SNN)) + 0.25 graph"
    return {"fold_seed": 0, "reference": recipe_text, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=Path, required=True, help="forest_member's tree members file")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out of fold (made if absent)")
    parser.add_argument("--graph-erg", type=Path, required=True, help="the same with ErG (made if absent)")
    parser.add_argument("--networks", type=Path, required=True, help="network_selection --oof folder")
    parser.add_argument("--second-seed", action="store_true", help=f"also both at seed {SECOND_SEED}")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    for seed in (0, SECOND_SEED) if args.second_seed else (0,):
        started = time.perf_counter()
        compute(args.graph, seed_path(args.graph_erg, seed), seed)
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    result = report(args.members, args.graph, args.graph_erg, args.networks)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
