"""`hygeia toxicity train`: scaffold CV of the plain baseline and the shipped ensemble in one run,
calibration and applicability domain from the out-of-fold predictions, then the final fit on all data.

Everything reported in the model card is measured here, in this run, on the same scaffold folds.
The fold seed differs from the one used while choosing the ensemble (seed 0), so the reported numbers
are not the ones the choice was made on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem

from hygeia.core.drift import reference_histogram
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.applicability import (
    bit_vectors,
    choose_threshold,
    out_of_fold_similarity,
    similarity_table,
)
from hygeia.toxicity.calibration import Calibrator, choose_calibrator
from hygeia.toxicity.dataset import ToxicityDataset, load_tox21
from hygeia.toxicity.evaluation import fold_metrics, masked_auc, summarise
from hygeia.toxicity.featurize import FEATURIZERS, featurize_many
from hygeia.toxicity.members import (
    BASELINE,
    SHIPPED_MEMBERS,
    Log,
    MemberConfig,
    MemberCV,
    cross_validate_member,
    fit_member,
)
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

DEFAULT_FOLDS = 5
DEFAULT_SEED = 2026
AD_PART = "morgan_bits"


@dataclass
class TrainingRun:
    """Everything the artifact writer needs; produced by `run_training`, consumed by `artifact.py`."""

    dataset: ToxicityDataset
    members: Sequence[MemberConfig]
    boosters: dict[str, dict[str, Any]]  # member -> endpoint -> lightgbm.Booster
    calibrators: dict[str, Calibrator]
    packed_fingerprints: np.ndarray
    metrics: dict[str, Any]
    calibration: dict[str, Any]
    applicability: dict[str, Any]
    drift_reference: dict[str, Any]
    timings: dict[str, float]
    n_folds: int
    seed: int


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.laps: dict[str, float] = {}
        self._last = self.started

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 1)
        self._last = now
        return self.laps[name]

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def featurize_parts(mols: Sequence[Chem.Mol], parts: set[str]) -> dict[str, np.ndarray]:
    """Each feature part once for the whole data set; members stack the parts they use."""
    return {name: featurize_many(FEATURIZERS[name](), mols) for name in sorted(parts)}


def member_matrix(parts: dict[str, np.ndarray], config: MemberConfig) -> np.ndarray:
    return np.hstack([parts[name] for name in config.features])


def run_training(
    data_path: Path,
    *,
    members: Sequence[MemberConfig] = SHIPPED_MEMBERS,
    n_folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    limit: int | None = None,
    log: Log = print,
) -> TrainingRun:
    clock = Stopwatch()
    dataset = load_tox21(data_path, limit=limit)
    log(
        f"standardised {dataset.input_rows} rows -> {len(dataset)} compounds, "
        f"{len(dataset.rejected)} rejected ({clock.lap('standardise')} s)"
    )
    needed = {AD_PART, *BASELINE.features, *(p for m in members for p in m.features)}
    parts = featurize_parts(dataset.mols, needed)
    log(f"featurised {sorted(needed)} ({clock.lap('featurise')} s)")
    groups = scaffold_groups(dataset.mols)
    folds = balanced_scaffold_folds(groups, n_folds, seed)
    log(f"{len(groups)} scaffold groups in {n_folds} folds of sizes {np.bincount(folds).tolist()}")

    baseline_cv = cross_validate_member(
        BASELINE, member_matrix(parts, BASELINE), dataset.labels, folds, seed, log
    )
    clock.lap("cv_baseline")
    member_cvs = [
        cross_validate_member(m, member_matrix(parts, m), dataset.labels, folds, seed, log) for m in members
    ]
    clock.lap("cv_members")
    ensemble_oof = np.mean([cv.oof for cv in member_cvs], axis=0)
    metrics = _cv_metrics(dataset.labels, folds, baseline_cv, member_cvs, ensemble_oof)
    log(_headline(metrics))

    calibrators, calibration = _calibrate(ensemble_oof, dataset.labels, folds)
    packed = np.packbits(parts[AD_PART].astype(np.uint8), axis=1)
    similarity = out_of_fold_similarity(bit_vectors(packed, packed.shape[1] * 8), folds)
    applicability = _applicability(similarity, ensemble_oof, dataset.labels)
    drift = _drift_reference(ensemble_oof, calibrators, similarity)
    log(f"applicability threshold {applicability['threshold']} ({clock.lap('calibration_and_domain')} s)")

    boosters = {m.name: fit_member(m, member_matrix(parts, m), dataset.labels, seed) for m in members}
    clock.lap("final_fit")
    timings = {**clock.laps, "total": clock.total()}
    log(f"final fit done; total {timings['total']} s")
    return TrainingRun(
        dataset,
        members,
        boosters,
        calibrators,
        packed,
        metrics,
        calibration,
        applicability,
        drift,
        timings,
        n_folds,
        seed,
    )


def _cv_metrics(
    labels: np.ndarray, folds: np.ndarray, baseline: MemberCV, members: list[MemberCV], ensemble: np.ndarray
) -> dict[str, Any]:
    shipped = summarise(fold_metrics(ensemble, labels, folds))
    base = summarise(fold_metrics(baseline.oof, labels, folds))
    return {
        "baseline": {**base, "member": BASELINE.as_dict(), "cv_seconds": round(baseline.seconds, 1)},
        "shipped": shipped,
        "members": {
            cv.config.name: {
                "mean_over_endpoints": summarise(fold_metrics(cv.oof, labels, folds))["mean_over_endpoints"],
                "cv_seconds": round(cv.seconds, 1),
            }
            for cv in members
        },
        "improvement_over_baseline": {
            name: round(
                shipped["mean_over_endpoints"][name]["mean"] - base["mean_over_endpoints"][name]["mean"], 4
            )
            for name in ("roc_auc", "pr_auc")
        },
    }


def _headline(metrics: dict[str, Any]) -> str:
    base, shipped = metrics["baseline"]["mean_over_endpoints"], metrics["shipped"]["mean_over_endpoints"]
    return (
        f"scaffold CV mean ROC-AUC baseline {base['roc_auc']['mean']:.4f} "
        f"vs shipped {shipped['roc_auc']['mean']:.4f}; "
        f"PR-AUC {base['pr_auc']['mean']:.4f} vs {shipped['pr_auc']['mean']:.4f}"
    )


def _calibrate(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray
) -> tuple[dict[str, Calibrator], dict[str, Any]]:
    calibrators, report = {}, {}
    for j, endpoint in enumerate(ENDPOINTS):
        tested = ~np.isnan(labels[:, j])
        calibrators[endpoint], report[endpoint] = choose_calibrator(
            scores[tested, j], labels[tested, j], folds[tested]
        )
    return calibrators, report


def _applicability(similarity: np.ndarray, predictions: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    overall = masked_auc(predictions, labels, np.ones(len(labels), dtype=bool)) or 0.0
    table = similarity_table(similarity, predictions, labels)
    threshold, rule = choose_threshold(table, overall)
    return {
        "threshold": threshold,
        "rule": rule,
        "pooled_oof_roc_auc": round(overall, 4),
        "bands": table,
        "oof_fraction_in_domain": round(float((similarity >= threshold).mean()), 4),
    }


def _drift_reference(
    scores: np.ndarray, calibrators: dict[str, Calibrator], similarity: np.ndarray
) -> dict[str, Any]:
    """Histograms the platform's drift monitor compares live traffic with (core.drift, PSI).

    Out-of-fold values stand in for "new chemistry as seen in validation": calibrated probabilities
    per endpoint over all compounds, and similarity of each compound to its own training folds.
    """
    reference = {
        f"probability:{e}": reference_histogram(calibrators[e](scores[:, j])) for j, e in enumerate(ENDPOINTS)
    }
    reference["nearest_similarity"] = reference_histogram(similarity)
    return reference
