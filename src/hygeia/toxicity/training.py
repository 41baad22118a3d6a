"""`hygeia toxicity train`: scaffold CV of the plain baseline and the shipped ensemble in one run,
calibration and applicability domain from the out-of-fold predictions, then the final fit on all data.

Everything reported in the model card is measured here, in this run, on the same scaffold folds.
The fold seed differs from the one used while choosing the ensemble (seed 0), so the reported numbers
are not the ones the choice was made on.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem

from hygeia.core.drift import reference_histogram
from hygeia.toxicity import ENDPOINTS, ORGANIC_SCOPE
from hygeia.toxicity.applicability import BAND_EDGES, cv_domain, out_of_fold_similarity
from hygeia.toxicity.calibration import Calibrator, choose_calibrator
from hygeia.toxicity.conformal import (
    conformal_planes,
    error_by_similarity,
    inside_domain,
    similarity_categories,
    smoothing_draws,
    training_category_edges,
    validity_report,
)
from hygeia.toxicity.dataset import ToxicityDataset, load_tox21
from hygeia.toxicity.evaluation import choose_blend, fold_metrics, summarise
from hygeia.toxicity.featurize import FEATURIZERS, featurize_many
from hygeia.toxicity.graph_inputs import MoleculeGraphs
from hygeia.toxicity.graph_training import GRAPH_NAME, GRAPH_SEEDS, GRAPH_WEIGHT, GraphCV, train_graph_member
from hygeia.toxicity.members import (
    BASELINE,
    SHIPPED_MEMBERS,
    Log,
    MemberConfig,
    MemberCV,
    cross_validate_member,
    fit_member,
)
from hygeia.toxicity.network_training import (
    NETWORK_CONFIGS,
    NETWORKS_MEAN,
    NetworkCV,
    cross_validate_network,
    fit_networks,
    network_parts,
)
from hygeia.toxicity.outcome_rows import OutcomeMolecules, with_outcome_rows
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
    networks_onnx: dict[str, list[bytes]]  # network name -> one exported graph per seed; empty without torch
    network_weight: float
    conformal_set: np.ndarray  # (3, n, 12) float32: out-of-fold blended scores, labels, similarity
    conformal: dict[str, Any]
    outcome_rows: dict[str, int] | None = None  # what accepted outcomes added (None: Tox21 alone)
    graphs_onnx: list[bytes] = field(default_factory=list)  # the graph member, one per seed
    graph_quantiles: np.ndarray | None = None  # its descriptor percentiles over every compound
    graph_weight: float = 0.0
    conformal_edges: tuple[float, ...] = ()  # the similarity edges of the Mondrian categories


def network_available() -> bool:
    """The network member needs torch (the `train` extra); without it the trees alone are trained."""
    return importlib.util.find_spec("torch") is not None


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


def network_matrix(mols: Sequence[Chem.Mol], parts: dict[str, np.ndarray]) -> np.ndarray:
    """The network's input columns; parts the boosters already computed (same spec) are reused."""
    blocks = []
    for name, featurizer in network_parts().items():
        reusable = name in FEATURIZERS and featurizer.spec == FEATURIZERS[name]().spec and name in parts
        blocks.append(parts[name] if reusable else featurize_many(featurizer, mols))
    return np.hstack(blocks)


def run_training(
    data_path: Path,
    *,
    members: Sequence[MemberConfig] = SHIPPED_MEMBERS,
    n_folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    limit: int | None = None,
    log: Log = print,
    outcomes: OutcomeMolecules | None = None,
    scope: str = ORGANIC_SCOPE,
) -> TrainingRun:
    """`outcomes`: accepted assay outcomes added as training rows; the Tox21 compounds keep the
    folds they have without them, so the CV on those compounds compares with production's.
    `scope`: the chemistry scope the rows are standardised under; an older model's scope gives its
    compounds and therefore its scaffold folds, so a new recipe can be compared with it fold by fold."""
    clock = Stopwatch()
    dataset = load_tox21(data_path, limit=limit, scope=scope)
    log(
        f"standardised {dataset.input_rows} rows -> {len(dataset)} compounds, "
        f"{len(dataset.rejected)} rejected ({clock.lap('standardise')} s)"
    )
    groups = scaffold_groups(dataset.mols)
    folds = balanced_scaffold_folds(groups, n_folds, seed)
    log(f"{len(groups)} scaffold groups in {n_folds} folds of sizes {np.bincount(folds).tolist()}")
    merged = with_outcome_rows(dataset, folds, outcomes, n_folds) if outcomes is not None else None
    if merged is not None:
        dataset, folds = merged.dataset, merged.folds
        log(f"accepted outcomes: {merged.stats}")
    needed = {AD_PART, *BASELINE.features, *(p for m in members for p in m.features)}
    parts = featurize_parts(dataset.mols, needed)
    log(f"featurised {sorted(needed)} ({clock.lap('featurise')} s)")

    baseline_cv = cross_validate_member(
        BASELINE, member_matrix(parts, BASELINE), dataset.labels, folds, seed, log
    )
    clock.lap("cv_baseline")
    member_cvs = [
        cross_validate_member(m, member_matrix(parts, m), dataset.labels, folds, seed, log) for m in members
    ]
    clock.lap("cv_members")
    trees_oof = np.mean([cv.oof for cv in member_cvs], axis=0)
    with_network = network_available()
    if not with_network:
        log("torch is not installed (the `train` extra): training the boosters without the network")
    network_x = network_matrix(dataset.mols, parts) if with_network else None
    network_cvs = (
        {
            n: cross_validate_network(network_x, dataset.labels, folds, log=log, name=n)
            for n in NETWORK_CONFIGS
        }
        if network_x is not None
        else {}
    )
    networks_oof = np.mean([cv.oof for cv in network_cvs.values()], axis=0) if network_cvs else None
    weight, blend_scores = (
        choose_blend(trees_oof, networks_oof, dataset.labels, folds)
        if networks_oof is not None
        else (0.0, {})
    )
    ensemble_oof = (1 - weight) * trees_oof + weight * networks_oof if networks_oof is not None else trees_oof
    clock.lap("cv_network")
    graph_cv = None
    if with_network:  # the same `train` extra
        graphs = MoleculeGraphs.from_mols(dataset.mols)
        graph_cv = train_graph_member(graphs, parts["rdkit_2d"], dataset.labels, folds, log=log)
        clock.lap("cv_and_fit_graph")
    metrics = _cv_metrics(
        dataset.labels, folds, baseline_cv, member_cvs, trees_oof, network_cvs, networks_oof, ensemble_oof
    )
    metrics["blend"] = {"network_weight": weight, "mean_roc_auc_by_weight": blend_scores}
    if graph_cv is not None:
        ensemble_oof = _add_graph(metrics, ensemble_oof, graph_cv, dataset.labels, folds)
    if merged is not None:  # the same held-out Tox21 compounds, with their Tox21 labels
        n = merged.tox21_compounds
        metrics["tox21_compounds_only"] = summarise(
            fold_metrics(ensemble_oof[:n], merged.tox21_labels, folds[:n])
        )
    log(_headline(metrics) + f" (network weight {weight})")

    calibrators, calibration = _calibrate(ensemble_oof, dataset.labels, folds)
    calibrated_oof = np.column_stack([calibrators[e](ensemble_oof[:, j]) for j, e in enumerate(ENDPOINTS)])
    packed = np.packbits(parts[AD_PART].astype(np.uint8), axis=1)
    similarity = out_of_fold_similarity(parts[AD_PART].astype(np.uint8), folds)
    applicability = _applicability(similarity, ensemble_oof, dataset.labels)
    # the conformal categories are read off the stored (float32) similarities, as at serving
    stored_similarity = similarity.astype(np.float32)
    inside = inside_domain(stored_similarity, applicability["threshold"])
    edges = training_category_edges(applicability["threshold"])
    category = similarity_categories(stored_similarity, edges)
    draws = smoothing_draws(parts[AD_PART], len(ENDPOINTS))  # each compound's τ, as it would get served
    applicability["error_by_similarity"] = error_by_similarity(
        similarity, calibrated_oof, dataset.labels, folds, ensemble_oof, BAND_EDGES, category, draws
    )
    bands = category if len(edges) > 1 else None  # with the threshold alone the categories are the sides
    conformal = validity_report(ensemble_oof, dataset.labels, folds, ENDPOINTS, inside, draws, bands)
    drift = _drift_reference(ensemble_oof, calibrators, similarity)
    log(f"applicability threshold {applicability['threshold']} ({clock.lap('calibration_and_domain')} s)")

    boosters = {m.name: fit_member(m, member_matrix(parts, m), dataset.labels, seed) for m in members}
    networks = (
        {n: fit_networks(network_x, dataset.labels, name=n) for n in NETWORK_CONFIGS}
        if network_x is not None and weight > 0
        else {}
    )
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
        networks,
        weight if networks else 0.0,
        conformal_planes(ensemble_oof, dataset.labels, stored_similarity),
        conformal,
        merged.stats if merged is not None else None,
        graph_cv.onnx if graph_cv is not None else [],
        graph_cv.quantiles if graph_cv is not None else None,
        GRAPH_WEIGHT if graph_cv is not None else 0.0,
        edges,
    )


def _add_graph(
    metrics: dict[str, Any], ensemble: np.ndarray, graph: GraphCV, labels: np.ndarray, folds: np.ndarray
) -> np.ndarray:
    """Blend the graph member in at its fixed weight; the card gets its row, the blend without it, and
    for information what other weights would have scored on these folds (not used to choose: the
    weight was fixed on the selection folds). Returns the new out-of-fold ensemble."""
    for k, oof in zip(GRAPH_SEEDS, graph.per_seed, strict=True):
        metrics["members"][f"{GRAPH_NAME}_seed{k}"] = summarise(fold_metrics(oof, labels, folds))
    metrics["members"][GRAPH_NAME] = {
        **summarise(fold_metrics(graph.oof, labels, folds)),
        "cv_and_final_fit_seconds": round(graph.seconds, 1),  # one pool runs both
    }
    metrics["members"]["trees_and_network"] = summarise(fold_metrics(ensemble, labels, folds))
    by_weight = {
        f"{w:.2f}": summarise(fold_metrics((1 - w) * ensemble + w * graph.oof, labels, folds))[
            "mean_over_endpoints"
        ]["roc_auc"]["mean"]
        for w in (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5)
    }
    metrics["blend"] |= {"graph_weight": GRAPH_WEIGHT, "graph_mean_roc_auc_by_weight": by_weight}
    blended = (1 - GRAPH_WEIGHT) * ensemble + GRAPH_WEIGHT * graph.oof
    metrics |= _shipped_metrics(blended, labels, folds, metrics["baseline"])
    return blended


def _shipped_metrics(
    ensemble: np.ndarray, labels: np.ndarray, folds: np.ndarray, baseline: dict[str, Any]
) -> dict[str, Any]:
    shipped = summarise(fold_metrics(ensemble, labels, folds))
    return {
        "shipped": shipped,
        "improvement_over_baseline": {
            name: round(
                shipped["mean_over_endpoints"][name]["mean"] - baseline["mean_over_endpoints"][name]["mean"],
                4,
            )
            for name in ("roc_auc", "pr_auc")
        },
    }


def _cv_metrics(
    labels: np.ndarray,
    folds: np.ndarray,
    baseline: MemberCV,
    members: list[MemberCV],
    trees: np.ndarray,
    networks: dict[str, NetworkCV],
    networks_mean: np.ndarray | None,
    ensemble: np.ndarray,
) -> dict[str, Any]:
    """Per-endpoint and mean metrics for the baseline, every member, the tree ensemble, the network
    and the shipped blend, all on the same scaffold folds."""
    base = summarise(fold_metrics(baseline.oof, labels, folds))
    rows = {
        cv.config.name: {**summarise(fold_metrics(cv.oof, labels, folds)), "cv_seconds": round(cv.seconds, 1)}
        for cv in members
    }
    rows["tree_ensemble"] = summarise(fold_metrics(trees, labels, folds))
    for name, network in networks.items():
        for k, oof in enumerate(network.per_seed):
            rows[f"{name}_seed{k}"] = summarise(fold_metrics(oof, labels, folds))
        rows[name] = {
            **summarise(fold_metrics(network.oof, labels, folds)),
            "cv_seconds": round(network.seconds, 1),
        }
    if len(networks) > 1 and networks_mean is not None:
        rows[NETWORKS_MEAN] = summarise(fold_metrics(networks_mean, labels, folds))
    return {
        "baseline": {**base, "member": BASELINE.as_dict(), "cv_seconds": round(baseline.seconds, 1)},
        "members": rows,
        **_shipped_metrics(ensemble, labels, folds, base),
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
    threshold, rule, overall, table = cv_domain(similarity, predictions, labels)
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
