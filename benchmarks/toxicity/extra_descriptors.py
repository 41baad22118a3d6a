"""Research for issue #12: do RDKit's cheap whole-molecule descriptor families that 2.6.0 does not read
add to the boosters?

    python -m benchmarks.toxicity.network_selection features --out var/tox-network-features.npz
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped --oof var/relu
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants selu_alpha_dropout_0.2 --oof var/snn
    python -m benchmarks.toxicity.extra_descriptors --members var/extra-members.npz \
        --graph var/sel-graph.npy --network var/relu/shipped.npy --snn var/snn/selu_alpha_dropout_0.2.npy \
        --json benchmarks/toxicity/extra_descriptors.json

The leaderboard's leaders read far more whole-molecule descriptors than RDKit's 213 (DeepTox: ~40,000
features; CheMeleon: the ~1,600 Mordred descriptors), and in 2.0.0's selection the descriptors carried
most of the boosters' gain over fingerprints (+0.05 ROC-AUC). Three descriptor families RDKit computes
in C++ for about 0.04-0.13 ms per molecule were never tried:
- `AUTOCORR2D`: 192 Moreau-Broto / Moran / Geary topological autocorrelations of atomic mass, van der
  Waals volume, electronegativity, polarisability, ionisation potential and intrinsic state, lags 1-8;
- `MQN`: 42 molecular quantum numbers (atom, bond, polarity and topology counts; Nguyen et al. 2009);
- `ErG`: the 315-bin extended reduced graph, pharmacophore-type node pairs by topological distance
  (Stiefl et al. 2006), closest to a binding-site view of the nuclear-receptor assays.
Selection folds (fold seed 0, `organic-v2`), 2.6.0's three boosters (shipped settings, soft labels)
with each family joined to every member's features; the ensemble alone and in 2.6.0's blend with the
ReLU network and the graph member (`--network`, `--graph`: their out-of-fold predictions on the same
folds, computed with the shipped code), by paired per-fold differences against 2.6.0's recipe.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from benchmarks.toxicity.blending import NETWORK_WEIGHT, paired_row, per_fold, print_rows, shipped_blend
from benchmarks.toxicity.label_imputation import selection_inputs
from hygeia.toxicity.featurize import ReducedGraphFeaturizer
from hygeia.toxicity.members import SHIPPED_MEMBERS, MemberConfig, cross_validate_member
from hygeia.toxicity.training import member_matrix

FAMILIES: dict[str, Callable[[Chem.Mol], Any]] = {
    "autocorr2d": rdMolDescriptors.CalcAUTOCORR2D,
    "mqn": rdMolDescriptors.MQNs_,
    "erg": ReducedGraphFeaturizer(),  # the shipped members' part (§24: a raw call read stale distances)
}
VARIANTS: dict[str, tuple[str, ...]] = {
    "2.6.0 boosters (reference)": (),
    "+ AUTOCORR2D": ("autocorr2d",),
    "+ MQN": ("mqn",),
    "+ ErG": ("erg",),
    "+ AUTOCORR2D + MQN + ErG": ("autocorr2d", "mqn", "erg"),
}


def without_part(member: MemberConfig, part: str) -> MemberConfig:
    """The member as it was before it read `part`: 2.6.0's boosters are the shipped ones without "erg",
    the reference every variant here is measured against."""
    return replace(member, features=tuple(p for p in member.features if p != part))


def family_matrix(mols: list[Chem.Mol], family: str) -> np.ndarray:
    """One family's values for every molecule, float32 like the other feature parts."""
    function = FAMILIES[family]
    return np.array([list(function(Chem.Mol(mol))) for mol in mols], dtype=np.float32)


def compute(members: Path, graph: Path) -> None:
    """Each variant's booster ensemble out of fold (and the graph member's, if `graph` is missing)."""
    dataset, folds, parts = selection_inputs(graph)
    extra = {family: family_matrix(dataset.mols, family) for family in FAMILIES}
    result: dict[str, np.ndarray] = {"labels": dataset.labels, "folds": folds}
    for name, families in VARIANTS.items():
        started = time.perf_counter()
        trees = []
        for member in (without_part(m, "erg") for m in SHIPPED_MEMBERS):
            features = np.hstack([member_matrix(parts, member), *(extra[f] for f in families)])
            trees.append(cross_validate_member(member, features, dataset.labels, folds, 0, print).oof)
        result[name] = np.mean(trees, axis=0)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    np.savez(members, **result)


def report(
    members: Path, graph_path: Path, network_path: Path, snn_path: Path | None = None
) -> dict[str, Any]:
    """Paired rows against 2.6.0's recipe; with `snn_path`, also each variant with the SNN averaged into
    the network side, the recipe `hygeia toxicity train` has used since 2.8.0."""
    stored, graph, relu = np.load(members), np.load(graph_path), np.load(network_path)
    labels, folds = stored["labels"], stored["folds"]
    networks = {"": relu} if snn_path is None else {"": relu, " + SNN": (relu + np.load(snn_path)) / 2}
    reference_trees = stored[next(iter(VARIANTS))]
    reference = per_fold(shipped_blend(reference_trees, relu, graph, NETWORK_WEIGHT), labels, folds)
    trees_reference = per_fold(reference_trees, labels, folds)
    rows: dict[str, Any] = {}
    for name in VARIANTS:
        rows[f"{name}: boosters alone"] = paired_row(stored[name], trees_reference, labels, folds)
        for suffix, network in networks.items():
            blend = shipped_blend(stored[name], network, graph, NETWORK_WEIGHT)
            rows[f"{name}{suffix}: in 2.6.0's blend"] = paired_row(blend, reference, labels, folds)
    recipe = "2.6.0 recipe: 0.75 * (0.75 trees + 0.25 network) + 0.25 graph"
    return {"fold_seed": 0, "reference": recipe, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=Path, required=True, help="variants' out of fold (made if absent)")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out of fold (made if absent)")
    parser.add_argument("--network", type=Path, required=True, help="network_selection --oof shipped.npy")
    parser.add_argument("--snn", type=Path, default=None, help="the same for selu_alpha_dropout_0.2")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.members.exists():
        compute(args.members, args.graph)
    result = report(args.members, args.graph, args.network, args.snn)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
