"""Honest evaluation of the graph model: 5 folds grouped by compound, held-out edges removed.

For each fold, the held-out compounds' treats (CtD) and palliates (CpD) edges are removed from the
graph *before* its features are computed, so no path such as CrCtD can route through an answer;
the model is fitted on the other compounds' pairs and scores every pair of the held-out ones.
The out-of-fold scores are then judged on the three answer keys (graph_labels.py), next to a
popularity baseline measured in the same folds: a disease's number of treats edges among the
training compounds (what a ranking that ignores the drug would do).

Variants: `graph` (graph features only, the setting Rephetio reports) and `graph+evidence` (plus
the document features of evidence 1.0.0), where every evidence feature derived from the answer
key's own source is hidden for that key (DrugCentral for b, repoDB trials for c, PharmacotherapyDB
always).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from hygeia.evidence.graph_features import PALLIATES, TREATS, FeatureMatrix, graph_features
from hygeia.evidence.graph_labels import AnswerKey, Labels
from hygeia.evidence.graph_model import REGULARISATION_GRID, dwpc_means, fit_graph_model
from hygeia.evidence.hetnet import HetGraph
from hygeia.evidence.repurposing_eval import fold_of

FOLDS = 5
HIDDEN_FOR_KEY = {
    "pharmacotherapydb_dm": (),
    "drugcentral_not_in_pharmacotherapydb": ("drugcentral",),
    "repodb_failed_trials": ("trial_max_phase", "trial_count"),
}
Log = Callable[[str], None]


@dataclass(frozen=True)
class EvidenceMatrix:
    """Document features of every pair (compounds x diseases x names), from evidence 1.0.0."""

    names: list[str]
    values: np.ndarray


def held_out_graph(graph: HetGraph, compounds: set[str]) -> HetGraph:
    """The graph without the held-out compounds' treats and palliates edges."""
    out = graph
    for metaedge in (TREATS, PALLIATES):
        if metaedge in graph.adjacency:
            out = out.without_edges(metaedge, [p for p in graph.edge_pairs(metaedge) if p[0] in compounds])
    return out


def score_key(scores: np.ndarray, key: AnswerKey) -> dict[str, Any]:
    y = key.positives[key.universe]
    s = scores[key.universe]
    return {
        "auroc": round(float(roc_auc_score(y, s)), 4),
        "auprc": round(float(average_precision_score(y, s)), 4),
        "positives": int(y.sum()),
        "negatives": int((~y).sum()),
    }


def _design(
    values: np.ndarray, names: list[str], evidence: EvidenceMatrix, hidden: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    keep = [k for k, name in enumerate(evidence.names) if name not in hidden]
    combined = np.concatenate([values, evidence.values[:, :, keep]], axis=2)
    return combined, list(names) + [evidence.names[k] for k in keep]


def fold_features(
    graph: HetGraph, fold: np.ndarray, metapaths: Sequence[str], spill: Path, log: Log
) -> tuple[list[np.ndarray], list[str], list[float]]:
    """Each fold's features on its own graph (held-out edges removed), kept on disk as float32:
    five folds of 191 metapaths would need ~0.9 GB of memory otherwise."""
    compounds = graph.nodes["Compound"]
    arrays: list[np.ndarray] = []
    timings: list[float] = []
    names: list[str] = []
    for k in range(FOLDS):
        start = time.perf_counter()
        held = held_out_graph(graph, {c for c, f in zip(compounds, fold, strict=True) if f == k})
        fm = graph_features(held, metapaths)
        timings.append(time.perf_counter() - start)
        stored = np.lib.format.open_memmap(spill / f"fold{k}.npy", "w+", np.float32, fm.values.shape)
        stored[:] = fm.values
        arrays.append(stored)
        names = fm.names
        log(f"fold {k + 1}/{FOLDS}: {int((fold == k).sum())} held-out compounds, features {timings[-1]:.1f}s")
    return arrays, names, timings


def out_of_fold(
    arrays: list[np.ndarray],
    names: list[str],
    fold: np.ndarray,
    treats: np.ndarray,
    metapaths: Sequence[str],
    c: float,
    evidence: tuple[EvidenceMatrix, Sequence[str]] | None = None,
) -> np.ndarray:
    """Held-out logits of one model setting: fitted on four folds, scoring the fifth."""
    oof = np.zeros(treats.shape)
    for k, stored in enumerate(arrays):
        test = fold == k
        values = np.asarray(stored, dtype=np.float64)
        means = dwpc_means(FeatureMatrix([], [], names, values))
        design, columns = (values, names) if evidence is None else _design(values, names, *evidence)
        model = fit_graph_model(
            design[~test].reshape(-1, len(columns)), treats[~test].ravel(), columns, means, metapaths, 0.4, c
        )
        oof[test] = model.logit(design[test])
    return oof


def cross_validate(
    graph: HetGraph,
    labels: Labels,
    evidence: EvidenceMatrix | None,
    metapaths: Sequence[str],
    log: Log = print,
    grid: Sequence[float] = REGULARISATION_GRID,
) -> dict[str, Any]:
    """Out-of-fold scores for each variant and the popularity baseline, judged on every key.

    The regularisation strength is the grid value with the best held-out PharmacotherapyDB AUROC of
    the graph-only model (the training label's own folds); DrugCentral and the trials never choose.
    """
    fold = np.array([fold_of(c, FOLDS) for c in graph.nodes["Compound"]])
    with tempfile.TemporaryDirectory(prefix="hygeia-graph-cv-") as spill:
        arrays, names, timings = fold_features(graph, fold, metapaths, Path(spill), log)
        popularity = np.zeros(labels.treats.shape)
        for k, stored in enumerate(arrays):
            popularity[fold == k] = stored[fold == k][:, :, names.index("degree_disease_CtD")]
        by_c = {c: out_of_fold(arrays, names, fold, labels.treats, metapaths, c) for c in grid}
        selection = {c: score_key(oof, labels.keys[0]) for c, oof in by_c.items()}
        chosen = max(grid, key=lambda c: (selection[c]["auroc"], selection[c]["auprc"]))
        log(f"regularisation C={chosen} chosen on PharmacotherapyDB folds: {selection}")
        oof = {"popularity": popularity, "graph": by_c[chosen]}
        if evidence is not None:
            for key, hidden in HIDDEN_FOR_KEY.items():
                oof[f"graph+evidence[{key}]"] = out_of_fold(
                    arrays, names, fold, labels.treats, metapaths, chosen, (evidence, hidden)
                )
                log(f"graph+evidence[{key}] done")
        del arrays
    return {
        "folds": FOLDS,
        "metapaths": len(metapaths),
        "feature_seconds_per_fold": [round(t, 2) for t in timings],
        "regularisation": {
            "chosen_c": chosen,
            "rule": "best held-out PharmacotherapyDB AUROC of the graph-only model",
            "pharmacotherapydb_by_c": {str(c): r for c, r in selection.items()},
            "other_keys_by_c": {
                str(c): {key.name: score_key(by_c[c], key)["auroc"] for key in labels.keys[1:]} for c in grid
            },
        },
        "results": _judge(oof, labels),
        "calibration_graph_pharmacotherapydb": calibration(oof["graph"], labels.keys[0]),
        "_oof": oof,
    }


PROBABILITY_BINS = (0.0, 0.001, 0.01, 0.05, 0.2, 0.5, 1.0)


def calibration(logits: np.ndarray, key: AnswerKey) -> list[dict[str, Any]]:
    """Held-out probability bins vs the observed rate of indications: is a 0.3 a 30 %?"""
    p = 1.0 / (1.0 + np.exp(-logits[key.universe]))
    y = key.positives[key.universe]
    rows = []
    for low, high in pairwise(PROBABILITY_BINS):
        inside = (p >= low) & ((p < high) if high < 1.0 else (p <= high))
        if inside.any():
            rows.append(
                {
                    "bin": f"{low:g}-{high:g}",
                    "pairs": int(inside.sum()),
                    "mean_predicted": round(float(p[inside].mean()), 4),
                    "observed_rate": round(float(y[inside].mean()), 4),
                }
            )
    return rows


def _judge(oof: dict[str, np.ndarray], labels: Labels) -> dict[str, dict[str, Any]]:
    """key -> {popularity, graph, graph+evidence}: each variant judged on the key it was built for."""
    out: dict[str, dict[str, Any]] = {}
    for key in labels.keys:
        row: dict[str, dict[str, Any]] = {
            "popularity": score_key(oof["popularity"], key),
            "graph": score_key(oof["graph"], key),
        }
        name = f"graph+evidence[{key.name}]"
        if name in oof:
            row["graph+evidence"] = score_key(oof[name], key) | {"hidden": list(HIDDEN_FOR_KEY[key.name])}
        out[key.name] = row
    return out
