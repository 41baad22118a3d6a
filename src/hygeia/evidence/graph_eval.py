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

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from hygeia.evidence.graph_features import METAPATHS, PALLIATES, TREATS, FeatureMatrix, graph_features
from hygeia.evidence.graph_labels import AnswerKey, Labels
from hygeia.evidence.graph_model import dwpc_means, fit_graph_model
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
    fm: FeatureMatrix, evidence: EvidenceMatrix | None, hidden: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    if evidence is None:
        return fm.values, list(fm.names)
    keep = [k for k, name in enumerate(evidence.names) if name not in hidden]
    values = np.concatenate([fm.values, evidence.values[:, :, keep]], axis=2)
    return values, list(fm.names) + [evidence.names[k] for k in keep]


def cross_validate(
    graph: HetGraph,
    labels: Labels,
    evidence: EvidenceMatrix | None,
    log: Log = print,
    metapaths: Sequence[str] = METAPATHS,
) -> dict[str, Any]:
    """Out-of-fold scores for each variant and the popularity baseline, judged on every key."""
    compounds = graph.nodes["Compound"]
    fold = np.array([fold_of(c, FOLDS) for c in compounds])
    variants: dict[str, tuple[str, ...] | None] = {"graph": None}
    if evidence is not None:
        variants |= {f"graph+evidence[{k}]": hidden for k, hidden in HIDDEN_FOR_KEY.items()}
    shape = labels.treats.shape
    oof = {name: np.zeros(shape) for name in [*variants, "popularity"]}
    timings = []
    for k in range(FOLDS):
        test = fold == k
        start = time.perf_counter()
        held = held_out_graph(graph, {c for c, t in zip(compounds, test, strict=True) if t})
        fm = graph_features(held, metapaths)
        timings.append(time.perf_counter() - start)
        oof["popularity"][test] = fm.column("degree_disease_CtD")[test]
        means = dwpc_means(fm)
        for name, hidden in variants.items():
            values, names = _design(fm, evidence if hidden is not None else None, hidden or ())
            model = fit_graph_model(
                values[~test].reshape(-1, len(names)),
                labels.treats[~test].ravel(),
                names,
                means,
                list(metapaths),
                0.4,
            )
            oof[name][test] = model.logit(values[test])
        log(f"fold {k + 1}/{FOLDS}: {int(test.sum())} held-out compounds, features {timings[-1]:.1f}s")
    return {
        "folds": FOLDS,
        "feature_seconds_per_fold": [round(t, 2) for t in timings],
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
