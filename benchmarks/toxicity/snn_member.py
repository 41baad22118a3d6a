"""Research for issue #12: a self-normalising network (SNN) instead of, or beside, the ReLU network?

    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped selu_alpha_dropout_0.1 ... --oof var/snn-oof
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped --seeds 3,4,5 --oof var/relu-345
    python -m benchmarks.toxicity.snn_member --members var/snn-members.npz --graph var/snn-graph.npy \
        --networks var/snn-oof --control var/relu-345 --json benchmarks/toxicity/snn_member.json

Selection folds (fold seed 0), as every choice for the card is made. The SNN of Klambauer et al. (2017;
SELU units, alpha dropout, LeCun-normal weights) was second only to DeepTox on the Tox21 challenge set;
Hygeia's network is a ReLU one. The network variants' out-of-fold predictions come from
`network_selection --oof`; this script computes the rest of 2.6.0's recipe on the same folds (the three
boosters with soft labels and the graph member, shipped code) and compares, by paired per-fold
differences from 2.6.0's recipe: each variant in the ReLU network's place, and each averaged with it.
The control (`--control`: the ReLU network with seeds 3-5) tells a gain from the SNN's different errors
apart from one of merely averaging six networks instead of three.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import NETWORK_WEIGHT, paired_row, per_fold, print_rows, shipped_blend
from benchmarks.toxicity.label_imputation import selection_inputs
from hygeia.toxicity.members import SHIPPED_MEMBERS, cross_validate_member
from hygeia.toxicity.training import member_matrix

REFERENCE = "shipped"  # network_selection's name for 2.6.0's network settings


def compute(members: Path, graph: Path) -> None:
    """The boosters' out-of-fold predictions (and, if `graph` is missing, the graph member's)."""
    dataset, folds, parts = selection_inputs(graph)
    trees = [
        cross_validate_member(m, member_matrix(parts, m), dataset.labels, folds, 0, print).oof
        for m in SHIPPED_MEMBERS
    ]
    np.savez(members, labels=dataset.labels, folds=folds, trees=np.mean(trees, axis=0))


def report(members: Path, graph_path: Path, networks: Path, control: Path) -> dict[str, Any]:
    stored, graph = np.load(members), np.load(graph_path)
    labels, folds, trees = stored["labels"], stored["folds"], stored["trees"]
    variants = {p.stem: np.load(p) for p in sorted(networks.glob("*.npy"))}
    relu = variants.pop(REFERENCE)
    six_seeds = (relu + np.load(control / f"{REFERENCE}.npy")) / 2
    reference, control_blend = (
        per_fold(shipped_blend(trees, n, graph, NETWORK_WEIGHT), labels, folds) for n in (relu, six_seeds)
    )

    def row(network: np.ndarray, weight: float = NETWORK_WEIGHT, against: Any = reference) -> dict[str, Any]:
        return paired_row(shipped_blend(trees, network, graph, weight), against, labels, folds)

    rows = {
        "2.6.0 recipe (reference)": row(relu),
        "ReLU network alone": paired_row(relu, reference, labels, folds),
        "control: ReLU network, 6 seeds": row(six_seeds),
    }
    for name, snn in variants.items():
        both = (relu + snn) / 2
        rows[f"{name} alone"] = paired_row(snn, reference, labels, folds)
        rows[f"{name} in the network's place"] = row(snn)
        for weight in (0.25, 0.35):
            rows[f"{name} averaged with the ReLU network, network weight {weight}"] = row(both, weight)
        rows[f"{name} averaged with the ReLU network, against the control"] = row(both, against=control_blend)
    recipe = "2.6.0 recipe: 0.75 * (0.75 trees + 0.25 network) + 0.25 graph"
    return {"fold_seed": 0, "reference": recipe, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--members", type=Path, required=True, help="boosters' out-of-fold .npz (made if absent)"
    )
    parser.add_argument(
        "--graph", type=Path, required=True, help="graph member out-of-fold .npy (made if absent)"
    )
    parser.add_argument("--networks", type=Path, required=True, help="network_selection --oof folder")
    parser.add_argument("--control", type=Path, required=True, help="the same with ReLU seeds 3-5")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.members.exists():
        compute(args.members, args.graph)
    result = report(args.members, args.graph, args.networks, args.control)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
