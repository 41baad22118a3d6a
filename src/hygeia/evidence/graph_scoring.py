"""Serving the graph model: the graph part of every compound-disease logit, and its paths in words.

Loaded once per (edge tables, model hash): the Hetionet edge tables of the data the index was built
from, and graph_model.json of the registered model. The graph part of the logit becomes one
feature, `graph_score`, beside the document features, so a tenant's feedback can re-weight it
like any other evidence type. Paths are enumerated only for the candidates shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from hygeia.evidence.graph_features import graph_features
from hygeia.evidence.graph_model import MODEL_FILE, GraphModel
from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph, load_hetionet
from hygeia.evidence.paths import GraphPath, StepCache, explain_pair

GRAPH_SCORE = "graph_score"
PATHS_PER_CANDIDATE = 5


@dataclass(frozen=True)
class ScoredPath:
    path: GraphPath
    contribution: float  # share of the logit, from the path's share of its metapath's DWPC


def is_graph_feature(name: str) -> bool:
    return name.startswith(("dwpc_", "degree_"))


class GraphScorer:
    """Graph part of the model over the whole graph, precomputed (1,552 x 137 floats)."""

    def __init__(self, graph: HetGraph, model: GraphModel) -> None:
        self.graph, self.model = graph, model
        start = time.perf_counter()
        self.names = [n for n in model.features if is_graph_feature(n)]
        columns = [model.features.index(n) for n in self.names]
        fm = graph_features(graph, model.metapaths, model.damping)
        if fm.names != self.names:
            raise ValueError(f"graph features {fm.names} differ from the model's {self.names}")
        self.raw = fm.values
        self._coef = np.array(model.coefficients)[columns]
        self._center = np.array(model.center)[columns]
        self._scale = np.array(model.scale)[columns]
        z = (self._transform(fm.values) - self._center) / self._scale
        self.logits = z @ self._coef
        self.no_graph = float(
            ((self._transform(np.zeros(len(self.names))) - self._center) / self._scale) @ self._coef
        )
        self.compounds = graph.position(COMPOUND)
        self.diseases = graph.position(DISEASE)
        self._step_cache: StepCache = {}
        self.seconds = round(time.perf_counter() - start, 2)

    def _transform(self, raw: np.ndarray) -> np.ndarray:
        from hygeia.evidence.graph_model import transform

        return transform(raw, self.names, self.model.dwpc_means)

    def score(self, compound: str, disease: str) -> float:
        """Graph part of the logit; a drug or disease outside the graph gets the no-edges value."""
        i, j = self.compounds.get(compound), self.diseases.get(disease)
        if i is None or j is None:
            return self.no_graph
        return float(self.logits[i, j])

    def knows(self, compound: str) -> bool:
        return compound in self.compounds

    def explain(self, compound: str, disease: str, k: int = PATHS_PER_CANDIDATE) -> list[ScoredPath]:
        """The k paths that raise this pair's logit most, each with its share of the contribution."""
        i, j = self.compounds.get(compound), self.diseases.get(disease)
        if i is None or j is None:
            return []
        lifts = []
        for metapath in self.model.metapaths:  # only metapaths that raise this pair's logit are walked
            column = self.names.index(f"dwpc_{metapath}")
            total = self.raw[i, j, column]
            mean = self.model.dwpc_means[f"dwpc_{metapath}"]
            lift = self._coef[column] / self._scale[column] * float(np.arcsinh(total / mean))
            if total > 0 and lift > 0:
                lifts.append((lift, total, metapath))
        found: list[ScoredPath] = []
        for lift, total, metapath in sorted(lifts, reverse=True):
            if len(found) >= k and found[k - 1].contribution >= lift:
                break  # a path's share never exceeds its metapath's lift: the top k are final
            paths = explain_pair(
                self.graph, [metapath], compound, disease, self.model.damping, self._step_cache
            )
            found += [ScoredPath(p, lift * p.path_degree_product / total) for p in paths[metapath]]
            found.sort(key=lambda s: -s.contribution)
        return found[:k]


def has_graph_model(model_folder: Path) -> bool:
    return (model_folder / MODEL_FILE).is_file()


@lru_cache(maxsize=2)
def load_scorer(graph_folder: str, model_folder: str, model_sha: str) -> GraphScorer:
    """One scorer per (edge tables, model); model_sha keys the cache on the verified model."""
    model = GraphModel.load(Path(model_folder))
    return GraphScorer(load_hetionet(Path(graph_folder)), model)
