"""Research for issue #12: should the members' weights depend on how far a compound is from the training set?

    python -m benchmarks.toxicity.network_selection features --out var/tox-network-features.npz
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        --variants shipped --oof var/relu
    python -c "from pathlib import Path; from benchmarks.toxicity.snn_member import compute; \
        compute(Path('var/sel-members.npz'), Path('var/sel-graph.npy'))"
    python -m benchmarks.toxicity.domain_blend --members var/sel-members.npz --graph var/sel-graph.npy \
        --network var/relu/shipped.npy --json benchmarks/toxicity/domain_blend.json

The reporting split's hardest fold holds every mono-benzene compound, scored by models that trained on
none (§21 of the README): the model's ranking is worst on compounds far from its training set. The
boosters, the multitask network and the graph network learn differently, so they may not fail alike
there. Selection folds (fold seed 0, 2.6.0's members with shipped code). A compound's distance is its
nearest ECFP4 Tanimoto similarity to the other four folds (its training set in CV), split at the
card's applicability-domain threshold. Both blends below are tuned by nested CV (weights chosen on the
other four folds' predictions, applied to the fifth), so the one-pair blend is the control for the
nesting itself:
- one pair of weights (network, graph) for every compound;
- one pair for each side of the domain.
Reported beside them: each member alone on each side, and the shipped fixed weights.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.toxicity.blending import GRAPH_WEIGHT, NETWORK_WEIGHT, paired_row, per_fold, print_rows
from benchmarks.toxicity.label_imputation import DATA
from benchmarks.toxicity.read_across import nearest_in_other_folds
from hygeia.toxicity.applicability import packed_fingerprints
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.featurize import MorganBitFeaturizer

WEIGHTS = (0.0, 0.15, 0.25, 0.35, 0.5)
DOMAIN_THRESHOLD = 0.4  # 2.6.0's card: where scaffold-CV ranking falls away by similarity band
Pair = tuple[float, float]


def blend(trees: np.ndarray, network: np.ndarray, graph: np.ndarray, pair: Pair) -> np.ndarray:
    network_weight, graph_weight = pair
    return (1 - graph_weight) * (
        (1 - network_weight) * trees + network_weight * network
    ) + graph_weight * graph


def mean_fold_auc(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> float:
    """The card's metric on these rows: ROC-AUC per fold and endpoint, averaged. `fold_metrics`
    computes the same plus PR-AUC, twice the cost inside the weight grid, and expects all 12 endpoints."""
    values = []
    for k in np.unique(folds):
        for j in range(labels.shape[1]):
            rows = (folds == k) & ~np.isnan(labels[:, j])
            if 0 < labels[rows, j].sum() < rows.sum():
                values.append(roc_auc_score(labels[rows, j], scores[rows, j]))
    return float(np.mean(values))


def nested(
    members: tuple[np.ndarray, np.ndarray, np.ndarray],
    labels: np.ndarray,
    folds: np.ndarray,
    sides: np.ndarray,
) -> tuple[np.ndarray, list[list[Pair]]]:
    """Out-of-fold blend whose weights (one pair per value of `sides`) are chosen on the other folds."""
    out, chosen = np.full(labels.shape, np.nan), []
    values = np.unique(sides)
    grid = list(itertools.product(WEIGHTS, WEIGHTS))
    for k in np.unique(folds):
        inner = folds != k
        best = max(
            itertools.product(grid, repeat=len(values)),
            key=lambda pairs: mean_fold_auc(
                _by_side(members, sides, values, pairs)[inner], labels[inner], folds[inner]
            ),
        )
        out[folds == k] = _by_side(members, sides, values, best)[folds == k]
        chosen.append(list(best))
    return out, chosen


def _by_side(
    members: tuple[np.ndarray, np.ndarray, np.ndarray], sides: np.ndarray, values: np.ndarray, pairs: Any
) -> np.ndarray:
    scores = np.empty_like(members[0])
    for value, pair in zip(values, pairs, strict=True):
        rows = sides == value
        scores[rows] = blend(*(m[rows] for m in members), pair)
    return scores


def alone_by_side(
    members: dict[str, np.ndarray], labels: np.ndarray, folds: np.ndarray, inside: np.ndarray
) -> dict[str, dict[str, float]]:
    """Each member's mean per-fold ROC-AUC on the compounds of one side only."""
    return {
        name: {
            side: round(mean_fold_auc(scores[rows], labels[rows], folds[rows]), 4)
            for side, rows in (("in_domain", inside), ("out_of_domain", ~inside))
        }
        for name, scores in members.items()
    }


def report(members_file: Path, graph_file: Path, network_file: Path) -> dict[str, Any]:
    stored = np.load(members_file)
    labels, folds, trees = stored["labels"], stored["folds"], stored["trees"]
    graph, network = np.load(graph_file), np.load(network_file)
    dataset = load_tox21(DATA)
    if not np.array_equal(dataset.labels, labels, equal_nan=True):
        raise SystemExit("the stored predictions were made on another compound set")
    featurizer = MorganBitFeaturizer()
    bits = np.unpackbits(packed_fingerprints(dataset.mols, featurizer), axis=1, count=featurizer.size)
    _, similarity = nearest_in_other_folds(bits, folds)
    inside = similarity >= DOMAIN_THRESHOLD
    trio = (trees, network, graph)
    shipped = blend(*trio, (NETWORK_WEIGHT, GRAPH_WEIGHT))
    reference = per_fold(shipped, labels, folds)
    one_pair, one_chosen = nested(trio, labels, folds, np.zeros(len(labels), dtype=int))
    per_side, side_chosen = nested(trio, labels, folds, inside.astype(int))
    control = per_fold(one_pair, labels, folds)
    rows = {
        "shipped weights (network 0.25, graph 0.25)": paired_row(shipped, reference, labels, folds),
        "nested: one pair of weights": paired_row(one_pair, reference, labels, folds),
        "nested: one pair per domain side": paired_row(per_side, reference, labels, folds),
        "nested: one pair per domain side, against one pair": paired_row(per_side, control, labels, folds),
    }
    return {
        "fold_seed": 0,
        "domain_threshold": DOMAIN_THRESHOLD,
        "in_domain_share_per_fold": [round(float(inside[folds == k].mean()), 3) for k in np.unique(folds)],
        "members_alone_by_side": alone_by_side(
            {"trees": trees, "network": network, "graph": graph, "shipped blend": shipped},
            labels,
            folds,
            inside,
        ),
        "chosen_one_pair": one_chosen,
        "chosen_per_side_out_in": side_chosen,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=Path, required=True, help="snn_member's boosters .npz")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out-of-fold .npy")
    parser.add_argument("--network", type=Path, required=True, help="network_selection --oof shipped.npy")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = report(args.members, args.graph, args.network)
    print_rows(result["rows"])
    print(json.dumps(result["members_alone_by_side"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
