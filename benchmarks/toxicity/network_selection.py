"""How the multitask network's settings were chosen: network-only scaffold CV on the selection folds.

    python -m benchmarks.toxicity.network_selection features --out var/tox-network-features.npz
    python -m benchmarks.toxicity.network_selection cv --features var/tox-network-features.npz \
        [--variants NAME ...] [--seeds 0,1,2] [--json OUT] [--oof DIR]

Like `model_selection` for the boosters, the choice is made on fold seed 0 and `hygeia toxicity train`
reports on fold seed 2026, so the card's numbers are not the ones the choice was made on. Each variant
changes `NetworkConfig` fields, leaves feature parts out or adds parts the shipped networks do not read;
it is trained once per seed on each training fold (two processes, one torch thread each) and scored by
the mean over endpoints of per-fold ROC-AUC and PR-AUC, both for the mean of its seeds (what ships) and
per seed (how noisy one fit is).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.model_selection import SELECTION_SEED, selection_cli
from hygeia.toxicity.evaluation import fold_metrics, summarise
from hygeia.toxicity.featurize import Featurizer, ReducedGraphFeaturizer
from hygeia.toxicity.network_inputs import NetworkConfig
from hygeia.toxicity.network_training import network_parts

# name -> (NetworkConfig overrides, feature parts left out); 2.1.0's settings are "previous"
VARIANTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "previous": ({"input_dropout": 0.2, "weight_decay": 1e-5}, ()),
    "dropout_0.3": ({"input_dropout": 0.2, "weight_decay": 1e-5, "dropout": 0.3}, ()),
    "min_column_count_10": ({"input_dropout": 0.2, "weight_decay": 1e-5, "min_column_count": 10}, ()),
    "weight_decay_1e-4": ({"input_dropout": 0.2, "weight_decay": 1e-4}, ()),
    "input_dropout_0.5": ({"input_dropout": 0.5, "weight_decay": 1e-5}, ()),
    "input_dropout_0.6": ({"input_dropout": 0.6, "weight_decay": 1e-5}, ()),
    "input_dropout_0.7": ({"input_dropout": 0.7, "weight_decay": 1e-5}, ()),
    "input_dropout_0.8": ({"input_dropout": 0.8, "weight_decay": 1e-5}, ()),
    "input_dropout_0.5_weight_decay_1e-3": ({"input_dropout": 0.5, "weight_decay": 1e-3}, ()),
    "input_dropout_0.7_weight_decay_1e-3": ({"input_dropout": 0.7, "weight_decay": 1e-3}, ()),
    "input_dropout_0.7_weight_decay_3e-3": ({"input_dropout": 0.7, "weight_decay": 3e-3}, ()),
    "input_dropout_0.7_weight_decay_1e-3_hidden_512_256": (
        {"input_dropout": 0.7, "weight_decay": 1e-3, "hidden": (512, 256)},
        (),
    ),
    "input_dropout_0.7_weight_decay_1e-3_no_alerts": (
        {"input_dropout": 0.7, "weight_decay": 1e-3},
        ("structural_alerts",),
    ),
    "shipped": ({}, ()),  # 2.2.0's settings, the ReLU network of 2.2.0-2.6.0
    # self-normalising networks (SNN, Klambauer et al. 2017): SELU, alpha dropout, LeCun-normal weights;
    # results in network_selection_snn.json, blends in snn_member.json
    **{
        f"selu_alpha_dropout_{d}": ({"activation": "selu", "dropout": d}, ())
        for d in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
    },
    **{
        f"selu_alpha_dropout_{d}_hidden_512_256_128": (
            {"activation": "selu", "dropout": d, "hidden": (512, 256, 128)},
            (),
        )
        for d in (0.05, 0.3)
    },
    "selu_alpha_dropout_0.3_input_dropout_0.6": (
        {"activation": "selu", "dropout": 0.3, "input_dropout": 0.6},
        (),
    ),
}
# parts the shipped networks do not read, which a variant may add (§25: the reduced graph the boosters
# read since 2.10.0; it did not lift the blend); variant name -> parts added
CANDIDATE_PARTS: dict[str, Featurizer] = {"erg": ReducedGraphFeaturizer()}
ADDED_PARTS: dict[str, tuple[str, ...]] = {
    "shipped_erg": ("erg",),
    "selu_alpha_dropout_0.2_erg": ("erg",),
}
VARIANTS["shipped_erg"] = VARIANTS["shipped"]
VARIANTS["selu_alpha_dropout_0.2_erg"] = VARIANTS["selu_alpha_dropout_0.2"]
_DATA: dict[str, np.ndarray] = {}


def write_features(out: Path, data: Path) -> None:
    """Standardise Tox21 with the project pipeline; store each network part and the selection folds."""
    from hygeia.toxicity.dataset import load_tox21
    from hygeia.toxicity.featurize import featurize_many
    from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

    dataset = load_tox21(data)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, SELECTION_SEED)
    featurizers = {**network_parts(), **CANDIDATE_PARTS}
    parts = {f"part_{name}": featurize_many(f, dataset.mols) for name, f in featurizers.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, labels=dataset.labels, folds=folds, **parts)


def _fit_fold(
    task: tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...], int, int],
) -> tuple[int, int, np.ndarray]:
    from hygeia.toxicity.network import predict_network, train_network

    features_path, overrides, left_out, added, fold, seed = task
    if not _DATA:
        _DATA.update(np.load(features_path))
    names = [name for name in network_parts() if name not in left_out] + list(added)
    x = np.hstack([_DATA[f"part_{name}"] for name in names])
    labels, train = _DATA["labels"], _DATA["folds"] != fold
    network = train_network(x[train], labels[train], replace(NetworkConfig(), **overrides), seed)
    return fold, seed, predict_network(network, x[~train])


def _headline(oof: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, float]:
    overall = summarise(fold_metrics(oof, labels, folds))["mean_over_endpoints"]
    return {"roc_auc": overall["roc_auc"]["mean"], "pr_auc": overall["pr_auc"]["mean"]}


def cross_validate(
    features: Path, names: list[str], seeds: list[int], workers: int, oof_dir: Path | None = None
) -> dict[str, Any]:
    """`oof_dir`: also store each variant's seed-mean out-of-fold predictions as `NAME.npy`, for blends."""
    stored = np.load(features)
    labels, folds = stored["labels"], stored["folds"]
    results: dict[str, Any] = {}
    with ProcessPoolExecutor(workers) as pool:
        for name in names:
            overrides, left_out = VARIANTS[name]
            added = ADDED_PARTS.get(name, ())
            started = time.perf_counter()
            per_seed = {seed: np.full(labels.shape, np.nan) for seed in seeds}
            tasks = [
                (str(features), overrides, left_out, added, int(k), s)
                for k in np.unique(folds)
                for s in seeds
            ]
            for fold, seed, predictions in pool.map(_fit_fold, tasks):
                per_seed[seed][folds == fold] = predictions
            single = [_headline(p, labels, folds)["roc_auc"] for p in per_seed.values()]
            if oof_dir is not None:
                oof_dir.mkdir(parents=True, exist_ok=True)
                np.save(oof_dir / f"{name}.npy", np.mean(list(per_seed.values()), axis=0))
            results[name] = {
                "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
                "left_out": list(left_out),
                "added": list(added),
                "seed_mean": _headline(np.mean(list(per_seed.values()), axis=0), labels, folds),
                "single_seed_roc_auc": {
                    "mean": float(np.mean(single)),
                    "min": min(single),
                    "max": max(single),
                },
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(name, json.dumps(results[name]), flush=True)
    return {"fold_seed": SELECTION_SEED, "seeds": seeds, "variants": results}


def main(argv: list[str] | None = None) -> None:
    parser, cv = selection_cli(__doc__.splitlines()[0])
    cv.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    cv.add_argument("--seeds", default="0,1,2", help="comma-separated network seeds")
    cv.add_argument("--oof", type=Path, default=None, help="folder for each variant's out-of-fold .npy")
    args = parser.parse_args(argv)
    if args.step == "features":
        write_features(args.out, args.data)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    result = cross_validate(args.features, args.variants, seeds, args.workers, args.oof)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
