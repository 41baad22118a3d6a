"""Compound-grouped cross-validation on a synthetic graph where the mechanism decides the label.

Each of 6 diseases has its own gene; a compound treats a disease exactly when it binds that
disease's gene (plus one unrelated gene), so CbGaD separates the pairs perfectly while popularity
cannot. The second test checks the protocol: each fold's features are computed on a graph without the
held-out compounds' treats edges.
"""

from __future__ import annotations

import numpy as np

from hygeia.evidence.graph_eval import cross_validate
from hygeia.evidence.graph_labels import AnswerKey, Labels
from hygeia.evidence.hetnet import HetGraph, Metaedge, build_graph

DISEASES = [f"D{d}" for d in range(6)]
COMPOUNDS = [f"DB{c:05d}" for c in range(60)]


def synthetic() -> tuple[HetGraph, Labels]:
    rng = np.random.default_rng(0)
    binds, treats = [], []
    for n, compound in enumerate(COMPOUNDS):
        disease = n % len(DISEASES)
        binds += [(compound, f"G{disease}"), (compound, f"X{rng.integers(0, 20)}")]
        treats.append((compound, DISEASES[disease]))
    nodes = {
        "Compound": [(c, c) for c in COMPOUNDS],
        "Gene": [(f"G{d}", f"G{d}") for d in range(6)] + [(f"X{x}", f"X{x}") for x in range(20)],
        "Disease": [(d, d) for d in DISEASES],
    }
    metaedges = [
        Metaedge("CbG", "Compound", "binds", "Gene"),
        Metaedge("DaG", "Disease", "associates", "Gene"),
        Metaedge("CtD", "Compound", "treats", "Disease"),
        Metaedge("DrD", "Disease", "resembles", "Disease"),
    ]
    edges = {
        "CbG": binds,
        "DaG": [(d, f"G{i}") for i, d in enumerate(DISEASES)],
        "CtD": treats,
        "DrD": [("D0", "D1"), ("D2", "D3"), ("D4", "D5")],
    }
    graph = build_graph(nodes, metaedges, edges, {"Compound": "C", "Gene": "G", "Disease": "D"})
    truth = np.zeros((len(COMPOUNDS), len(DISEASES)), dtype=bool)
    for c, d in treats:
        truth[COMPOUNDS.index(c), DISEASES.index(d)] = True
    everything = np.ones_like(truth)
    return graph, Labels(truth, [AnswerKey("pharmacotherapydb_dm", truth, everything)])


def test_mechanism_is_learned_from_held_out_compounds() -> None:
    graph, labels = synthetic()
    report = cross_validate(graph, labels, None, ["CbGaD"], log=lambda _: None, grid=(0.1,))
    result = report["results"]["pharmacotherapydb_dm"]
    assert result["graph"]["auroc"] > 0.99
    assert result["popularity"]["auroc"] < 0.7  # every disease has about the same number of drugs
    assert result["graph"]["positives"] == 60 and result["graph"]["negatives"] == 300


def test_each_folds_features_see_no_treats_edge_of_its_held_out_compounds(monkeypatch) -> None:
    """The protocol itself: the graph handed to the feature step lacks exactly the held-out edges."""
    from hygeia.evidence import graph_eval
    from hygeia.evidence.repurposing_eval import fold_of

    graph, labels = synthetic()
    seen: list[HetGraph] = []
    real = graph_eval.graph_features
    monkeypatch.setattr(graph_eval, "graph_features", lambda g, m: seen.append(g) or real(g, m))
    cross_validate(graph, labels, None, ["CbGaD"], log=lambda _: None, grid=(0.1,))
    assert len(seen) == graph_eval.FOLDS
    for k, fold_graph in enumerate(seen):
        kept = {c for c, _ in fold_graph.edge_pairs("CtD")}
        held = {c for c in COMPOUNDS if fold_of(c, graph_eval.FOLDS) == k}
        assert held and not kept & held and kept == set(COMPOUNDS) - held


def test_calibration_bins_compare_predicted_and_observed() -> None:
    from hygeia.evidence.graph_eval import calibration

    truth = np.array([[True, False, False, False]])
    key = AnswerKey("k", truth, np.ones_like(truth))
    rows = calibration(np.array([[5.0, -9.0, -9.0, -9.0]]), key)
    assert [r["pairs"] for r in rows] == [3, 1]
    assert rows[0]["observed_rate"] == 0.0 and rows[-1]["observed_rate"] == 1.0
    assert rows[-1]["mean_predicted"] > 0.99


def test_regularisation_is_chosen_on_the_training_labels_folds_only() -> None:
    """The grid value with the best PharmacotherapyDB held-out AUROC wins, whatever another key says."""
    graph, labels = synthetic()
    rng = np.random.default_rng(3)
    other = rng.random(labels.treats.shape) < 0.2  # an external key the selection must ignore
    with_other = Labels(labels.treats, [*labels.keys, AnswerKey("external", other, np.ones_like(other))])
    grid = (0.001, 1.0)
    report = cross_validate(graph, with_other, None, ["CbGaD", "CbGbCtD"], log=lambda _: None, grid=grid)
    selection = report["regularisation"]
    by_c = selection["pharmacotherapydb_by_c"]
    best = max(grid, key=lambda c: (by_c[str(c)]["auroc"], by_c[str(c)]["auprc"]))
    assert selection["chosen_c"] == best
    assert set(selection["other_keys_by_c"]["1.0"]) == {"external"}
    again = cross_validate(graph, labels, None, ["CbGaD", "CbGbCtD"], log=lambda _: None, grid=grid)
    assert again["regularisation"]["chosen_c"] == best
    key = "pharmacotherapydb_dm"
    assert report["results"][key]["graph"] == again["results"][key]["graph"]
