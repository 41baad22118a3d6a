"""Scaffold CV and final fit of the multitask network member (needs the `train` extra: torch).

The network sees DeepTox-style rich inputs: ECFP counts at radii 1-3, FCFP counts at radii 2-3,
MACCS keys, RDKit 2D descriptors and structural alerts. Several seeds are averaged; their spread
is a large part of a single network's error on 7,500 compounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hygeia.toxicity.featurize import (
    ConcatFeaturizer,
    FeatureMorganCountFeaturizer,
    Featurizer,
    MACCSFeaturizer,
    MorganCountFeaturizer,
    RDKitDescriptorFeaturizer,
    StructuralAlertFeaturizer,
)
from hygeia.toxicity.network_inputs import NetworkConfig

Log = Callable[[str], None]
NETWORK_NAME = "multitask_network"
SNN_NAME = "self_normalising_network"
NETWORKS_MEAN = "networks_mean"  # the card's row for the mean of the networks, what the blend takes
NETWORK_SEEDS = (0, 1, 2)
# The networks whose mean is the blend's network side. A self-normalising network (SELU) beside the ReLU
# one: alone it ranks about as well, but its errors differ, and on the selection folds the mean of the
# two lifted the blend (+0.0006 ROC-AUC, +0.0018 PR-AUC against six ReLU seeds, which add nothing;
# benchmarks README §17).
NETWORK_CONFIGS: dict[str, NetworkConfig] = {
    NETWORK_NAME: NetworkConfig(),
    SNN_NAME: NetworkConfig(activation="selu", dropout=0.2),
}
# how each network's settings were chosen: scaffold CV on the selection folds, written to the card
NETWORK_SELECTIONS: dict[str, dict[str, object]] = {
    NETWORK_NAME: {"fold_seed": 0, "results": "benchmarks/toxicity/network_selection.json"},
    SNN_NAME: {"fold_seed": 0, "results": "benchmarks/toxicity/snn_member.json"},
}


def network_parts() -> dict[str, Featurizer]:
    """Named so training can reuse matrices it already computed for the boosters (same spec)."""
    return {
        "morgan_count": MorganCountFeaturizer(2, 2048),
        "ecfp1_count": MorganCountFeaturizer(1, 1024),
        "ecfp3_count": MorganCountFeaturizer(3, 2048),
        "fcfp2_count": FeatureMorganCountFeaturizer(2, 1024),
        "fcfp3_count": FeatureMorganCountFeaturizer(3, 1024),
        "maccs": MACCSFeaturizer(),
        "rdkit_2d": RDKitDescriptorFeaturizer(),
        "structural_alerts": StructuralAlertFeaturizer(),
    }


def network_featurizer() -> ConcatFeaturizer:
    return ConcatFeaturizer(list(network_parts().values()))


@dataclass
class NetworkCV:
    oof: np.ndarray  # (n, 12) mean over seeds of out-of-fold probabilities
    per_seed: list[np.ndarray]
    seconds: float


def cross_validate_network(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    seeds: Sequence[int] = NETWORK_SEEDS,
    log: Log = print,
    name: str = NETWORK_NAME,
) -> NetworkCV:
    from hygeia.toxicity.network import predict_network, train_network

    started = time.perf_counter()
    config = NETWORK_CONFIGS[name]
    per_seed = [np.full(labels.shape, np.nan) for _ in seeds]
    for fold in np.unique(folds):
        train = folds != fold
        for k, seed in enumerate(seeds):
            network = train_network(features[train], labels[train], config, seed)
            per_seed[k][~train] = predict_network(network, features[~train])
        log(f"  {name}: fold {fold} done ({time.perf_counter() - started:.0f} s)")
    return NetworkCV(np.mean(per_seed, axis=0), per_seed, time.perf_counter() - started)


def fit_networks(
    features: np.ndarray, labels: np.ndarray, seeds: Sequence[int] = NETWORK_SEEDS, name: str = NETWORK_NAME
) -> list[bytes]:
    """Final networks on every compound, exported to ONNX bytes (one graph per seed)."""
    from hygeia.toxicity.network import export_onnx, train_network

    config = NETWORK_CONFIGS[name]
    return [export_onnx(train_network(features, labels, config, seed), features.shape[1]) for seed in seeds]
