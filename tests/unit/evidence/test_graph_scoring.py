"""Paths shown per candidate: walking metapaths in order of lift and stopping early loses nothing."""

from __future__ import annotations

import numpy as np

from hygeia.evidence.graph_features import feature_names, graph_features
from hygeia.evidence.graph_model import GraphModel, dwpc_means
from hygeia.evidence.graph_scoring import GraphScorer
from hygeia.evidence.paths import explain_pair
from tests.unit.evidence.test_dwpc import random_graph

METAPATHS = ["CbGaD", "CrCtD", "CbGbCtD", "CrCrCtD", "CbGaDrD", "CrCbGaD"]


def model_for(graph, coefficients: list[float]) -> GraphModel:
    names = feature_names(METAPATHS)
    means = dwpc_means(graph_features(graph, METAPATHS))
    weights = coefficients + [0.0] * (len(names) - len(coefficients))
    return GraphModel(names, means, [0.0] * len(names), [1.0] * len(names), weights, -3.0, METAPATHS, 0.4)


def exhaustive_top(scorer: GraphScorer, compound: str, disease: str, k: int) -> list[tuple[str, float]]:
    """Every path of every metapath, each with its share of its metapath's lift: the definition."""
    i, j = scorer.compounds[compound], scorer.diseases[disease]
    out = []
    for metapath, paths in explain_pair(scorer.graph, METAPATHS, compound, disease).items():
        column = scorer.names.index(f"dwpc_{metapath}")
        total = scorer.raw[i, j, column]
        lift = scorer._coef[column] * float(np.arcsinh(total / scorer.model.dwpc_means[f"dwpc_{metapath}"]))
        out += [(p.text, lift * p.path_degree_product / total) for p in paths if total > 0 and lift > 0]
    return sorted(out, key=lambda t: -t[1])[:k]


def test_early_stop_returns_the_same_top_paths_as_walking_everything() -> None:
    graph = random_graph(seed=4)
    scorer = GraphScorer(graph, model_for(graph, [0.9, 0.2, 0.5, 0.05, 0.3, -0.4]))
    checked = 0
    for compound in graph.nodes["Compound"]:
        for disease in graph.nodes["Disease"]:
            expected = exhaustive_top(scorer, compound, disease, 3)
            got = [(s.path.text, s.contribution) for s in scorer.explain(compound, disease, k=3)]
            assert [t for t, _ in got] == [t for t, _ in expected]
            assert np.allclose([c for _, c in got], [c for _, c in expected])
            checked += bool(expected)
    assert checked > 5  # most pairs have paths to compare


def test_negative_lift_metapaths_are_never_shown() -> None:
    graph = random_graph(seed=4)
    scorer = GraphScorer(graph, model_for(graph, [-1.0] * len(METAPATHS)))
    assert all(scorer.explain(c, d) == [] for c in graph.nodes["Compound"] for d in graph.nodes["Disease"])
