"""Research for issue #12: train on soft labels for the endpoints a compound was not tested in?

    python -m benchmarks.toxicity.label_imputation --out var/label-imputation.npz \
        --graph var/label-imputation-graph.npy --json benchmarks/toxicity/label_imputation.json

Selection folds (fold seed 0), as every choice for the card is made. A Tox21 compound untested in an
endpoint is left out of that endpoint's training; `hygeia.toxicity.label_imputation` instead gives it
a soft label from its other outcomes (a logistic model fitted on the training fold only). Compared by
paired per-fold differences against 2.3.0's recipe on the same folds: the three boosters with and
without imputation, the multitask network (3 seeds) with and without it, and the blends with the
graph member (shipped code, seed 0, masked labels; computed here once if `--graph` is absent).
Also reported: how well the other 11 outcomes predict each endpoint (5-fold CV over all compounds
tested in it; information about the data, not a model score).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from benchmarks.toxicity.blending import paired_row, per_fold, print_rows, shipped_blend
from benchmarks.toxicity.model_selection import SELECTION_SEED
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.label_imputation import endpoint_targets, outcome_design
from hygeia.toxicity.members import SHIPPED_MEMBERS, MemberConfig, cross_validate_member
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups
from hygeia.toxicity.training import featurize_parts, member_matrix, network_matrix

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tox21" / "tox21.csv"


def imputed_labels(labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The label matrix with soft labels filled in for `rows`' qualifying untested entries."""
    filled = labels.astype(np.float64)
    for j in range(labels.shape[1]):
        fit_rows, targets = endpoint_targets(labels, rows, j)
        filled[fit_rows, j] = targets
    return filled


def _network_oof(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, impute: bool) -> np.ndarray:
    from hygeia.toxicity.network import predict_network, train_network
    from hygeia.toxicity.network_inputs import NetworkConfig
    from hygeia.toxicity.network_training import NETWORK_SEEDS

    oof = np.full(labels.shape, np.nan)
    for fold in np.unique(folds):
        train = folds != fold
        targets = imputed_labels(labels, np.flatnonzero(train)) if impute else labels
        seeds = [
            predict_network(
                train_network(features[train], targets[train], NetworkConfig(), s), features[~train]
            )
            for s in NETWORK_SEEDS
        ]
        oof[~train] = np.mean(seeds, axis=0)
    return oof


def graph_oof(dataset: Any, descriptors: np.ndarray, folds: np.ndarray, seed: int = 0) -> np.ndarray:
    """The shipped graph member (one seed, masked labels) per selection fold, two folds at a time."""
    from hygeia.toxicity.graph_inputs import MoleculeGraphs
    from hygeia.toxicity.graph_training import fold_tasks, train_task

    labels = dataset.labels
    tasks = fold_tasks(MoleculeGraphs.from_mols(dataset.mols), descriptors, labels, folds, seeds=(seed,))
    oof = np.full(labels.shape, np.nan)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        for fold, predictions in zip(np.unique(folds), pool.map(train_task, tasks), strict=True):
            oof[folds == fold] = predictions
    return oof


def seed_path(path: Path, seed: int) -> Path:
    """Where a graph member's out of fold at `seed` lives: the given path for seed 0, else beside it."""
    return path if seed == 0 else path.with_name(f"{path.stem}-seed{seed}{path.suffix}")


def selection_inputs(graph: Path) -> tuple[Any, np.ndarray, dict[str, np.ndarray]]:
    """The data set, the selection folds and the boosters' feature parts; first the graph member's
    out-of-fold file, if `graph` is not there yet."""
    started = time.perf_counter()
    dataset = load_tox21(DATA)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, SELECTION_SEED)
    parts = featurize_parts(dataset.mols, {p for m in SHIPPED_MEMBERS for p in m.features})
    if not graph.exists():
        np.save(graph, graph_oof(dataset, parts["rdkit_2d"], folds))
        print(f"graph member done ({time.perf_counter() - started:.0f} s)", flush=True)
    return dataset, folds, parts


def save_booster_oofs(
    out: Path, configs: Sequence[MemberConfig], dataset: Any, folds: np.ndarray, parts: dict[str, np.ndarray]
) -> None:
    """Each booster configuration's out of fold on the given folds, with the labels and folds, to `out`."""
    result: dict[str, np.ndarray] = {"labels": dataset.labels, "folds": folds}
    for config in configs:
        cv = cross_validate_member(config, member_matrix(parts, config), dataset.labels, folds, 0, print)
        result[config.name] = cv.oof
        print(f"{config.name}: {cv.seconds:.0f} s", flush=True)
    np.savez(out, **result)  # type: ignore[arg-type]


def compute(out: Path, graph: Path) -> None:
    """Whichever of the two files is missing: the members' and network's variants, the graph member."""
    started = time.perf_counter()
    dataset, folds, parts = selection_inputs(graph)
    labels = dataset.labels
    if out.exists():
        return
    result: dict[str, np.ndarray] = {"labels": labels, "folds": folds}
    for member in SHIPPED_MEMBERS:
        for impute in (False, True):
            config = replace(member, impute_untested=impute)
            cv = cross_validate_member(config, member_matrix(parts, config), labels, folds, 0, print)
            result[f"{member.name}|{'imputed' if impute else 'masked'}"] = cv.oof
    wide = network_matrix(dataset.mols, parts)
    for impute in (False, True):
        result[f"network|{'imputed' if impute else 'masked'}"] = _network_oof(wide, labels, folds, impute)
        print(f"network done ({time.perf_counter() - started:.0f} s)", flush=True)
    np.savez(out, **result)  # type: ignore[arg-type]
    print(f"computed in {time.perf_counter() - started:.0f} s")


def outcome_auc(labels: np.ndarray) -> dict[str, float]:
    """ROC-AUC of predicting each endpoint from the other 11 outcomes (5-fold CV, all tested compounds)."""
    scores = {}
    for j, endpoint in enumerate(ENDPOINTS):
        tested = ~np.isnan(labels[:, j])
        design = outcome_design(np.delete(labels[tested], j, axis=1))
        p = cross_val_predict(
            LogisticRegression(max_iter=2000), design, labels[tested, j], cv=5, method="predict_proba"
        )
        scores[endpoint] = round(float(roc_auc_score(labels[tested, j], p[:, 1])), 3)
    return scores


def report(oof_path: Path, graph_path: Path) -> dict[str, Any]:
    stored, graph = np.load(oof_path), np.load(graph_path)
    labels, folds = stored["labels"], stored["folds"]
    names = [m.name for m in SHIPPED_MEMBERS]
    trees = {v: np.mean([stored[f"{n}|{v}"] for n in names], axis=0) for v in ("masked", "imputed")}
    network = {v: stored[f"network|{v}"] for v in ("masked", "imputed")}
    reference_blend = shipped_blend(trees["masked"], network["masked"], graph)
    candidates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for n in names:
        candidates[f"{n} imputed vs masked"] = (stored[f"{n}|imputed"], stored[f"{n}|masked"])
    candidates["tree ensemble imputed vs masked"] = (trees["imputed"], trees["masked"])
    candidates["network imputed vs masked"] = (network["imputed"], network["masked"])
    candidates["2.3.0 recipe (reference)"] = (reference_blend, reference_blend)
    candidates["blend, boosters imputed"] = (
        shipped_blend(trees["imputed"], network["masked"], graph),
        reference_blend,
    )
    candidates["blend, boosters and network imputed"] = (
        shipped_blend(trees["imputed"], network["imputed"], graph),
        reference_blend,
    )
    rows = {
        name: paired_row(oof, per_fold(ref, labels, folds), labels, folds)
        for name, (oof, ref) in candidates.items()
    }
    shipped = shipped_blend(trees["imputed"], network["masked"], graph)
    per_endpoint = {}
    for j, endpoint in enumerate(ENDPOINTS):
        tested = ~np.isnan(labels[:, j])
        delta = roc_auc_score(labels[tested, j], shipped[tested, j]) - roc_auc_score(
            labels[tested, j], reference_blend[tested, j]
        )
        per_endpoint[endpoint] = round(float(delta), 4)
    return {
        "fold_seed": SELECTION_SEED,
        "reference": "2.3.0 recipe: 0.75 * (0.75 trees + 0.25 network) + 0.25 graph, masked labels",
        "rows": rows,
        "blend_boosters_imputed_roc_auc_diff_by_endpoint_pooled": per_endpoint,
        "untested_per_endpoint": {e: int(np.isnan(labels[:, j]).sum()) for j, e in enumerate(ENDPOINTS)},
        "roc_auc_from_other_outcomes": outcome_auc(labels),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the variants' out-of-fold predictions")
    parser.add_argument("--graph", type=Path, required=True, help="graph member out-of-fold .npy")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.out.exists() or not args.graph.exists():
        compute(args.out, args.graph)
    result = report(args.out, args.graph)
    print_rows(result["rows"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
