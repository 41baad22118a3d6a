"""Research for issue #12: do more booster seeds, or a booster on the network's wide inputs, add to 2.3.0?

    python -m benchmarks.toxicity.booster_variants --features var/graph-members.npz \
        --graph var/graph-desc-s0.npy --out var/booster-variants.npz --json OUT.json

Selection folds (fold seed 0), as every choice for the card is made: the reported folds (seed 2026)
are not looked at. `--features` is `graph_member features`' file (the shipped members' and network
seeds' out-of-fold predictions on those folds); `--graph` a graph-member run on the same folds. The
three shipped boosters are cross-validated again with LightGBM seeds 1 and 2 (their row and column
subsampling differ by seed), and one candidate member is added: LightGBM on the multitask network's
input columns (ECFP and FCFP counts at several radii, MACCS, RDKit 2D, structural alerts). Each
candidate blend is compared with 2.3.0's recipe by the paired per-fold difference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import paired_row, per_fold, print_rows, shipped_blend
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.members import SHIPPED_MEMBERS, TUNED_PARAMS, MemberConfig, cross_validate_member
from hygeia.toxicity.training import featurize_parts, member_matrix, network_matrix

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tox21" / "tox21.csv"
EXTRA_SEEDS = (1, 2)
NETWORK_INPUTS_MEMBER = MemberConfig("network_inputs", (), {**TUNED_PARAMS, "feature_fraction": 0.15})


def compute(features: Path, out: Path) -> None:
    stored = np.load(features)
    labels, folds = stored["labels"], stored["folds"]
    dataset = load_tox21(DATA)
    if not np.array_equal(np.array(dataset.smiles), stored["smiles"]):
        raise SystemExit("the stored features do not match the data set's compounds")
    parts = featurize_parts(dataset.mols, {p for m in SHIPPED_MEMBERS for p in m.features})
    result: dict[str, np.ndarray] = {}
    for seed in EXTRA_SEEDS:
        for member in SHIPPED_MEMBERS:
            cv = cross_validate_member(member, member_matrix(parts, member), labels, folds, seed, print)
            result[f"member_{member.name}_seed{seed}"] = cv.oof
    wide = network_matrix(dataset.mols, parts)
    print(f"network inputs: {wide.shape[1]} columns", flush=True)
    cv = cross_validate_member(NETWORK_INPUTS_MEMBER, wide, labels, folds, 0, print)
    result["member_network_inputs_seed0"] = cv.oof
    np.savez(out, **result)  # type: ignore[arg-type]


def report(features: Path, graph_path: Path, variants: Path) -> dict[str, Any]:
    stored, extra = np.load(features), np.load(variants)
    labels, folds = stored["labels"], stored["folds"]
    names = [m.name for m in SHIPPED_MEMBERS]
    seed0 = [stored[f"member_{n}"] for n in names]
    by_seed = [seed0] + [[extra[f"member_{n}_seed{s}"] for n in names] for s in EXTRA_SEEDS]
    network = np.mean([stored[k] for k in stored.files if k.startswith("network_seed")], axis=0)
    graph = np.load(graph_path)
    wide = extra["member_network_inputs_seed0"]
    every_seed = [oof for seed in by_seed for oof in seed]
    reference_blend = shipped_blend(np.mean(seed0, axis=0), network, graph)
    reference = per_fold(reference_blend, labels, folds)
    candidates = {
        "2.3.0 recipe (boosters seed 0)": reference_blend,
        "boosters seed 1 instead": shipped_blend(np.mean(by_seed[1], axis=0), network, graph),
        "boosters, seeds 0-1 averaged": shipped_blend(
            np.mean(by_seed[0] + by_seed[1], axis=0), network, graph
        ),
        "boosters, seeds 0-2 averaged": shipped_blend(np.mean(every_seed, axis=0), network, graph),
        "network-inputs booster alone": wide,
        "network-inputs booster as a fourth tree member": shipped_blend(
            np.mean([*seed0, wide], axis=0), network, graph
        ),
        "seeds 0-2 + network-inputs booster (weight of one member)": shipped_blend(
            (np.mean(every_seed, axis=0) * 3 + wide) / 4, network, graph
        ),
    }
    return {
        "fold_seed": 0,
        "reference": "2.3.0 recipe: 0.75 * (0.75 trees + 0.25 network) + 0.25 graph, graph seed 0",
        "rows": {name: paired_row(oof, reference, labels, folds) for name, oof in candidates.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--graph", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the variants' out-of-fold predictions")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.out.exists():
        compute(args.features, args.out)
    if not args.graph.exists():
        print(f"{args.graph} not there yet: out-of-fold predictions stored, report later")
        return
    result = report(args.features, args.graph, args.out)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
