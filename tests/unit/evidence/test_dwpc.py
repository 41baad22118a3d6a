"""DWPC on a graph small enough to compute by hand (damping 0.4).

Graph: compounds C1, C2; genes G1, G2; diseases D1, D2.
  C1 -binds- G1, C1 -binds- G2, C2 -binds- G1;  D1 -assoc- G1, D2 -assoc- G1, D2 -assoc- G2;
  C1 -treats- D1.
Degrees: CbG: C1 2, C2 1, G1 2, G2 1.  DaG: D1 1, D2 2, G1 2, G2 1.  CtD: C1 1, D1 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.evidence.dwpc import dwpc, parse_metapath
from hygeia.evidence.graph_eval import held_out_graph
from hygeia.evidence.graph_features import graph_features
from hygeia.evidence.hetnet import HetGraph, Metaedge, build_graph
from hygeia.evidence.paths import explain_pair

W = 0.4


def tiny_graph() -> HetGraph:
    nodes = {
        "Compound": [("C1", "alpha"), ("C2", "beta")],
        "Gene": [("G1", "GENE1"), ("G2", "GENE2")],
        "Disease": [("D1", "disease one"), ("D2", "disease two")],
    }
    metaedges = [
        Metaedge("CbG", "Compound", "binds", "Gene"),
        Metaedge("DaG", "Disease", "associates", "Gene"),
        Metaedge("CtD", "Compound", "treats", "Disease"),
        Metaedge("CrC", "Compound", "resembles", "Compound"),
    ]
    edges = {
        "CbG": [("C1", "G1"), ("C1", "G2"), ("C2", "G1")],
        "DaG": [("D1", "G1"), ("D2", "G1"), ("D2", "G2")],
        "CtD": [("C1", "D1")],
        "CrC": [("C1", "C2")],
    }
    return build_graph(nodes, metaedges, edges, {"Compound": "C", "Gene": "G", "Disease": "D"})


def test_cbgad_matches_hand_computation() -> None:
    g = tiny_graph()
    values = dwpc(g, parse_metapath(g, "CbGaD"), W)
    # C1-G1-D1: (2*2)^-w * (2*1)^-w
    assert values[0, 0] == pytest.approx(4**-W * 2**-W)
    # C1-G1-D2: (2*2)^-w (2*2)^-w  +  C1-G2-D2: (2*1)^-w (1*2)^-w
    assert values[0, 1] == pytest.approx(4**-W * 4**-W + 2**-W * 2**-W)
    # C2-G1-D1: (1*2)^-w (2*1)^-w
    assert values[1, 0] == pytest.approx(2**-W * 2**-W)


def test_paths_may_not_revisit_the_source_compound() -> None:
    """C1-G1-C1-D1 would smuggle C1's own treats edge into its feature; it must not count."""
    g = tiny_graph()
    values = dwpc(g, parse_metapath(g, "CbGbCtD"), W)
    assert values[0, 0] == 0.0
    # C2-G1-C1-D1: (1*2)^-w (2*2)^-w (1*1)^-w
    assert values[1, 0] == pytest.approx(2**-W * 4**-W)


def test_symmetric_metaedge_walks_both_ways() -> None:
    g = tiny_graph()
    values = dwpc(g, parse_metapath(g, "CrCtD"), W)
    assert values[1, 0] == pytest.approx(1.0)  # C2-C1-D1, every degree 1
    assert values[0, 0] == 0.0  # no self-loop C1-C1


def test_unknown_metaedge_is_refused() -> None:
    with pytest.raises(ValueError, match="no metaedge"):
        parse_metapath(tiny_graph(), "CpDpS")


def test_paths_sum_to_dwpc_and_read_as_words() -> None:
    g = tiny_graph()
    paths = explain_pair(g, ["CbGaD"], "C1", "D2", W)["CbGaD"]
    assert sum(p.path_degree_product for p in paths) == pytest.approx(
        dwpc(g, parse_metapath(g, "CbGaD"), W)[0, 1]
    )
    assert paths[0].text == "alpha — binds — GENE2 — associated with — disease two"


def test_held_out_compound_loses_its_treats_edges_only() -> None:
    g = tiny_graph()
    held = held_out_graph(g, {"C1"})
    assert held.adjacency["CtD"].nnz == 0
    assert held.adjacency["CbG"].nnz == g.adjacency["CbG"].nnz
    features = graph_features(held, ["CrCtD"])
    assert np.all(features.column("dwpc_CrCtD") == 0.0)


def test_popularity_degree_leaves_the_pair_itself_out() -> None:
    features = graph_features(tiny_graph(), ["CbGaD"])
    popularity = features.column("degree_disease_CtD")
    assert popularity[0, 0] == 0.0  # C1's own edge is not counted for (C1, D1)
    assert popularity[1, 0] == 1.0  # but is for C2
