"""Ensemble members: one LightGBM per endpoint on one feature set, cross-validated and refitted.

Round counts are fixed hyperparameters chosen by scaffold CV, not early-stopped per fold: on Tox21
the inner validation slice holds only ~40 actives per endpoint, its AUC is too noisy to stop on, and
early stopping also withholds that slice from training. Measured on the same scaffold folds,
fixed rounds beat early stopping by about 0.01 mean ROC-AUC (see benchmarks/toxicity/README.md).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.featurize import FEATURIZERS, ConcatFeaturizer, Featurizer
from hygeia.toxicity.label_imputation import endpoint_targets

Log = Callable[[str], None]

# One OpenMP thread per fit and two fits at once in worker processes: on a shared 2-core machine
# OpenMP's spinning barriers made 2-thread fits up to 10x slower than 1-thread ones (measured).
_COMMON = {"objective": "binary", "verbosity": -1, "num_threads": 1, "force_col_wise": True}
WORKERS = 2
# The baseline is LightGBM as one would first try it: library defaults (0.1 rate, 31 leaves,
# 100 rounds) on plain ECFP4 bits.
BASELINE_PARAMS = {**_COMMON, "learning_rate": 0.1, "num_leaves": 31}
# Wide count inputs with few actives: small leaves, strong column subsampling and L2 keep trees from
# memorising single fingerprint bits of a few training scaffolds.
TUNED_PARAMS = {
    **_COMMON,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 10,
    "feature_fraction": 0.3,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
}


@dataclass(frozen=True)
class MemberConfig:
    """`impute_untested`: also train on compounds untested in the endpoint, with soft labels from
    their other outcomes (`label_imputation`); LightGBM then fits cross-entropy on labels in [0, 1],
    which on 0/1 labels is the binary objective's loss."""

    name: str
    features: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=lambda: dict(TUNED_PARAMS))
    rounds: int = 200
    impute_untested: bool = False

    def lightgbm_params(self) -> dict[str, Any]:
        return {**self.params, "objective": "cross_entropy"} if self.impute_untested else self.params

    def featurizer(self) -> Featurizer:
        parts = [FEATURIZERS[name]() for name in self.features]
        return parts[0] if len(parts) == 1 else ConcatFeaturizer(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "features": list(self.features),
            "params": self.lightgbm_params(),
            "rounds": self.rounds,
            "impute_untested": self.impute_untested,
        }


BASELINE = MemberConfig("baseline_ecfp4_bits", ("morgan_bits",), BASELINE_PARAMS, rounds=100)
# Since 2.6.0 the shipped members learn at half the rate for twice the rounds: with the soft-labelled
# rows (2.4.0) that bought +0.0018 PR-AUC in the blend on the selection folds (benchmarks README §12).
FINE_PARAMS = {**TUNED_PARAMS, "learning_rate": 0.025}
# Where the boosters' rate and rounds and the graph member's depth were chosen (written into the card).
RECIPE_SELECTION = {
    "fold_seed": 0,
    "results": "benchmarks/toxicity/booster_tuning.json",
    "comparison": "2.5.0's recipe: boosters at rate 0.05 (200/300/200 rounds), graph member at depth 3",
}
# Three views of a molecule (circular substructures + keys + physchem; the same with randomised
# split points; atom pairs + physchem). Their averaged probabilities rank better in scaffold CV
# than any one of them, and the first member's Morgan columns drive atom-level explanations.
# Each also learns from compounds untested in an endpoint, labelled from their other outcomes.
# From 2.10.0 on each also reads the reduced graph's pharmacophore-pair distances (benchmarks README §23).
SHIPPED_MEMBERS: tuple[MemberConfig, ...] = (
    MemberConfig(
        "morgan_maccs_desc",
        ("morgan_count", "maccs", "rdkit_2d", "erg"),
        {**FINE_PARAMS, "feature_fraction": 0.15},
        rounds=400,
        impute_untested=True,
    ),
    MemberConfig(
        "morgan_maccs_desc_extratrees",
        ("morgan_count", "maccs", "rdkit_2d", "erg"),
        {**FINE_PARAMS, "extra_trees": True},
        rounds=600,
        impute_untested=True,
    ),
    MemberConfig(
        "atompair_desc", ("atompair_count", "rdkit_2d", "erg"), FINE_PARAMS, rounds=400, impute_untested=True
    ),
)
EXPLAIN_MEMBER = "morgan_maccs_desc"


@dataclass
class MemberCV:
    """Out-of-fold probabilities for every row (tested or not) and the CV wall time."""

    config: MemberConfig
    oof: np.ndarray
    seconds: float


def fit_endpoint(config: MemberConfig, x: np.ndarray, y: np.ndarray, seed: int) -> lgb.Booster:
    train_set = lgb.Dataset(x, label=y, params={"verbosity": -1, "max_bin": 255}, free_raw_data=True)
    return lgb.train({**config.lightgbm_params(), "seed": seed}, train_set, num_boost_round=config.rounds)


def endpoint_rows(
    config: MemberConfig, labels: np.ndarray, rows: np.ndarray, j: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows of endpoint j among `rows` and their targets: the tested ones, plus the
    soft-labelled untested ones for a member that imputes."""
    if config.impute_untested:
        return endpoint_targets(labels, rows, j)
    tested = rows[~np.isnan(labels[rows, j])]
    return tested, labels[tested, j]


_WORKER: dict[str, Any] = {}  # per worker process: the member, its feature matrix (memory-mapped), labels


def _init_worker(
    config: MemberConfig, features_path: str, labels: np.ndarray, folds: np.ndarray | None, seed: int
) -> None:
    _WORKER.update(
        config=config, features=np.load(features_path, mmap_mode="r"), labels=labels, folds=folds, seed=seed
    )


def _fold_endpoint(task: tuple[int, int]) -> tuple[int, int, np.ndarray]:
    fold, j = task
    config, features, labels, folds, seed = (
        _WORKER[k] for k in ("config", "features", "labels", "folds", "seed")
    )
    test = folds == fold
    rows, targets = endpoint_rows(config, labels, np.flatnonzero(~test), j)
    booster = fit_endpoint(config, features[rows], targets, seed)
    return fold, j, np.asarray(booster.predict(features[test], num_threads=1))


def _final_endpoint(j: int) -> str:
    config, features, labels, seed = (_WORKER[k] for k in ("config", "features", "labels", "seed"))
    rows, targets = endpoint_rows(config, labels, np.arange(len(labels)), j)
    return str(fit_endpoint(config, features[rows], targets, seed).model_to_string())


@contextmanager
def _pool(
    workers: int,
    config: MemberConfig,
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray | None,
    seed: int,
) -> Iterator[ProcessPoolExecutor | _InProcess]:
    """Fresh (spawned) worker processes that memory-map the features from a temporary .npy file.

    Not threads: LightGBM is not safe to train in several threads of one process (it segfaulted in
    our test run). Not fork: libgomp hangs in forked children once the parent has run OpenMP. Inside
    a daemonic process (a Celery prefork worker running a retraining job), which may not have
    children, the fits run one after another in this process instead.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "features.npy")
        np.save(path, features, allow_pickle=False)
        initargs = (config, path, labels, folds, seed)
        if multiprocessing.current_process().daemon:
            _init_worker(*initargs)
            yield _InProcess()
            _WORKER.clear()  # drop the memory map before its file goes
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=initargs
        ) as pool:
            yield pool


class _InProcess:
    """The one method of the pool the callers use, run sequentially here."""

    @staticmethod
    def map(function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return map(function, items)


def cross_validate_member(
    config: MemberConfig,
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    seed: int,
    log: Log,
    workers: int = WORKERS,
) -> MemberCV:
    """Scaffold CV of one member over all endpoints; untested labels are masked per endpoint."""
    started = time.perf_counter()
    oof = np.full(labels.shape, np.nan, dtype=np.float64)
    tasks = [(int(fold), j) for fold in np.unique(folds) for j in range(len(ENDPOINTS))]
    with _pool(workers, config, features, labels, folds, seed) as pool:
        for done, (fold, j, predictions) in enumerate(pool.map(_fold_endpoint, tasks), start=1):
            oof[folds == fold, j] = predictions
            if done % len(ENDPOINTS) == 0:
                log(f"  {config.name}: {done}/{len(tasks)} fits ({time.perf_counter() - started:.0f} s)")
    return MemberCV(config, oof, time.perf_counter() - started)


def fit_member(
    config: MemberConfig, features: np.ndarray, labels: np.ndarray, seed: int, workers: int = WORKERS
) -> dict[str, lgb.Booster]:
    """Final per-endpoint boosters on every tested compound (returned from the workers as model text)."""
    with _pool(workers, config, features, labels, None, seed) as pool:
        texts = list(pool.map(_final_endpoint, range(len(ENDPOINTS))))
    return {endpoint: lgb.Booster(model_str=text) for endpoint, text in zip(ENDPOINTS, texts, strict=True)}
