"""Research for issue #12: does the graph member gain from soft labels for untested endpoints, as the
boosters did (2.4.0), or not, like the multitask network?

    python -m benchmarks.toxicity.graph_imputation --graph var/label-imputation-graph.npy \
        --boosters var/booster-tuning.npz --out var/graph-imputed.npy --json OUT.json

Selection folds (fold seed 0). `--graph` is the shipped graph member (seed 0, tested labels only) on
these folds and `--boosters` the shipped boosters' and network's out-of-fold predictions
(`booster_tuning` writes both). The graph member is trained again per fold on the labels
`label_imputation.imputed_labels` fills from the training fold's own outcomes (the held-out fold's
labels are never read), and compared alone and in the 2.5.0 blend by paired per-fold differences.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import paired_row, per_fold, print_rows, shipped_blend
from benchmarks.toxicity.label_imputation import DATA, imputed_labels
from benchmarks.toxicity.model_selection import SELECTION_SEED
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.members import SHIPPED_MEMBERS
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups
from hygeia.toxicity.training import featurize_parts


def compute(out: Path) -> None:
    from hygeia.toxicity.graph_inputs import MoleculeGraphs
    from hygeia.toxicity.graph_training import fold_tasks, train_task

    dataset = load_tox21(DATA)
    labels = dataset.labels
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, SELECTION_SEED)
    descriptors = featurize_parts(dataset.mols, {"rdkit_2d"})["rdkit_2d"]
    graphs = MoleculeGraphs.from_mols(dataset.mols)
    tasks = []
    for k, fold in enumerate(np.unique(folds)):
        filled = imputed_labels(labels, np.flatnonzero(folds != fold))
        tasks.append(fold_tasks(graphs, descriptors, filled, folds, seeds=(0,))[k])
    oof = np.full(labels.shape, np.nan)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        for fold, predictions in zip(np.unique(folds), pool.map(train_task, tasks), strict=True):
            oof[folds == fold] = predictions
    np.save(out, oof)


def report(graph_path: Path, boosters_path: Path, imputed_path: Path) -> dict[str, Any]:
    stored = np.load(boosters_path)
    labels, folds, network = stored["labels"], stored["folds"], stored["network"]
    trees = np.mean([stored[f"shipped|{m.name}"] for m in SHIPPED_MEMBERS], axis=0)
    masked, imputed = np.load(graph_path), np.load(imputed_path)
    reference = shipped_blend(trees, network, masked)
    graph_reference = per_fold(masked, labels, folds)
    rows = {
        "graph member, imputed vs tested only": paired_row(imputed, graph_reference, labels, folds),
        "2.5.0 blend, graph imputed vs tested only": paired_row(
            shipped_blend(trees, network, imputed), per_fold(reference, labels, folds), labels, folds
        ),
    }
    return {"fold_seed": SELECTION_SEED, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, required=True)
    parser.add_argument("--boosters", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.out.exists():
        compute(args.out)
    result = report(args.graph, args.boosters, args.out)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
