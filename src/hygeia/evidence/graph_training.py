"""Train and evaluate evidence's graph model (>= 2.0.0) from DATA_DIR/evidence (used by the CLI).

Steps: load Hetionet's edge tables, the three answer keys and the document features of 1.0.0;
cross-validate honestly (graph_eval.py), which also picks the regularisation; fit the served model
on every compound with that setting; write the JSON.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.registry import file_sha256
from hygeia.evidence.dwpc import DAMPING
from hygeia.evidence.features import FEATURES, GRAPH_SCORE, PHARMACOTHERAPY_FEATURES, EvidenceGraph
from hygeia.evidence.graph_eval import EvidenceMatrix, cross_validate
from hygeia.evidence.graph_features import FeatureMatrix, graph_features
from hygeia.evidence.graph_labels import load_labels
from hygeia.evidence.graph_model import GraphModel, dwpc_means, fit_graph_model
from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph, load_hetionet
from hygeia.evidence.metapaths import candidate_metapaths

EVIDENCE_FEATURES = tuple(f for f in FEATURES if f not in (*PHARMACOTHERAPY_FEATURES, GRAPH_SCORE))
Log = Callable[[str], None]


def evidence_graph(root: Path) -> EvidenceGraph:
    """The 1.0.0 document features, built from the sources without embedding anything."""
    from hygeia.evidence.corpus import build_documents, build_linker
    from hygeia.evidence.sources import load_sources

    sources = load_sources(root)
    return EvidenceGraph(build_documents(sources, build_linker(sources)))


def evidence_matrix(graph: EvidenceGraph, compounds: list[str], diseases: list[str]) -> EvidenceMatrix:
    """Every pair's document features; pairs without documents share one vector per (drug, disease
    popularity) so only the drugs and diseases that have evidence cost a Python call."""
    values = np.zeros((len(compounds), len(diseases), len(EVIDENCE_FEATURES)))
    for i, drug in enumerate(compounds):
        for j, disease in enumerate(diseases):
            x = graph.features(drug, disease)
            values[i, j] = [x[f] for f in EVIDENCE_FEATURES]
    return EvidenceMatrix(list(EVIDENCE_FEATURES), values)


def peak_memory_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def train_graph_model(root: Path, log: Log = print) -> tuple[GraphModel, dict[str, Any]]:
    """Cross-validated metrics and the served model (graph + evidence, PharmacotherapyDB hidden)."""
    start = time.perf_counter()
    graph = load_hetionet(root / "hetionet")
    load_s = time.perf_counter() - start
    memory = {"peak_memory_mb_after_loading_edges": peak_memory_mb()}
    metapaths = candidate_metapaths(graph)
    tick = time.perf_counter()
    full = graph_features(graph, metapaths)
    full_s = time.perf_counter() - tick
    memory["peak_memory_mb_after_all_features"] = peak_memory_mb()
    compounds, diseases = graph.nodes[COMPOUND], graph.nodes[DISEASE]
    labels = load_labels(root, compounds, diseases)
    log(f"graph loaded in {load_s:.1f}s, features in {full_s:.1f}s; building document features")
    evidence = evidence_matrix(evidence_graph(root), compounds, diseases)
    log("document features ready; cross-validating")
    report = cross_validate(graph, labels, evidence, metapaths, log)
    report.pop("_oof")
    model = fit_final(full, labels.treats, evidence, metapaths, report["regularisation"]["chosen_c"])
    report["timings"] = {
        "load_edges_s": round(load_s, 2),
        "features_full_graph_s": round(full_s, 2),
        "feature_array_mb": round(full.values.nbytes / 2**20, 1),
        **memory,
        "peak_memory_mb_whole_run": peak_memory_mb(),
        "total_s": round(time.perf_counter() - start, 1),
    }
    report["graph"] = _graph_summary(graph)
    report["graph"]["edges_manifest_sha256"] = file_sha256(root / "hetionet" / "edges-manifest.tsv")
    return model, report


def fit_final(
    fm: FeatureMatrix,
    treats: np.ndarray,
    evidence: EvidenceMatrix | None,
    metapaths: list[str],
    c: float,
    damping: float = DAMPING,
) -> GraphModel:
    """The served model: every compound, the full graph, PharmacotherapyDB DM as the label (with
    accepted outcomes set on their pairs, for a retrained candidate); no document features: graph only."""
    values = fm.values if evidence is None else np.concatenate([fm.values, evidence.values], axis=2)
    names = list(fm.names) + ([] if evidence is None else evidence.names)
    return fit_graph_model(
        values.reshape(-1, len(names)), treats.ravel(), names, dwpc_means(fm), metapaths, damping, c
    )


def _graph_summary(graph: HetGraph) -> dict[str, Any]:
    return {
        "metaedges": {k: int(v.nnz) for k, v in sorted(graph.adjacency.items())},
        "nodes": {k: len(v) for k, v in sorted(graph.nodes.items())},
    }
