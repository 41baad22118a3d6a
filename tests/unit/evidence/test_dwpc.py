"""DWPC on a graph small enough to compute by hand (damping 0.4).

Graph: compounds C1, C2; genes G1, G2; diseases D1, D2.
  C1 -binds- G1, C1 -binds- G2, C2 -binds- G1;  D1 -assoc- G1, D2 -assoc- G1, D2 -assoc- G2;
  C1 -treats- D1.
Degrees: CbG: C1 2, C2 1, G1 2, G2 1.  DaG: D1 1, D2 2, G1 2, G2 1.  CtD: C1 1, D1 1.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hygeia.evidence.dwpc import dwpc, parse_metapath, step_matrix
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


def random_graph(seed: int = 1) -> HetGraph:
    """Dense enough that most walks revisit some node: 4 compounds, 3 genes, 4 diseases."""
    rng = np.random.default_rng(seed)
    compounds = [f"C{i}" for i in range(4)]
    genes, diseases = [f"G{i}" for i in range(3)], [f"D{i}" for i in range(4)]

    def edges(a: list[str], b: list[str], p: float, same: bool = False) -> list[tuple[str, str]]:
        return [(x, y) for x in a for y in b if rng.random() < p and not (same and x >= y)]

    nodes = {
        "Compound": [(c, c) for c in compounds],
        "Gene": [(g, g) for g in genes],
        "Disease": [(d, d) for d in diseases],
    }
    metaedges = [
        Metaedge("CbG", "Compound", "binds", "Gene"),
        Metaedge("CrC", "Compound", "resembles", "Compound"),
        Metaedge("CtD", "Compound", "treats", "Disease"),
        Metaedge("DrD", "Disease", "resembles", "Disease"),
        Metaedge("DaG", "Disease", "associates", "Gene"),
        Metaedge("Gr>G", "Gene", "regulates", "Gene", directed=True),
    ]
    table = {
        "CbG": edges(compounds, genes, 0.4),
        "CrC": edges(compounds, compounds, 0.5, same=True),
        "CtD": edges(compounds, diseases, 0.4),
        "DrD": edges(diseases, diseases, 0.5, same=True),
        "DaG": edges(diseases, genes, 0.4),
        "Gr>G": [(x, y) for x, y in edges(genes, genes, 0.3) if x != y],
    }
    return build_graph(nodes, metaedges, table, {"Compound": "C", "Gene": "G", "Disease": "D"})


def enumerated_dwpc(g: HetGraph, abbreviation: str) -> np.ndarray:
    """DWPC by listing every node-distinct path: the definition, at brute-force cost."""
    metapath = parse_metapath(g, abbreviation)
    mats = [step_matrix(g, s, W).toarray() for s in metapath.steps]
    kinds = metapath.kinds
    out = np.zeros((mats[0].shape[0], mats[-1].shape[1]))
    for path in itertools.product(range(mats[0].shape[0]), *[range(m.shape[1]) for m in mats]):
        if len(set(zip(kinds, path, strict=True))) < len(path):
            continue
        weight = 1.0
        for k, m in enumerate(mats):
            weight *= m[path[k], path[k + 1]]
        out[path[0], path[-1]] += weight
    return out


@pytest.mark.parametrize(
    "abbreviation",
    [
        "CbGbCtD",  # one repeated pair: the source
        "CrCrCrCtD",  # three pairs: (0,2), (0,3), (1,3)
        "CrCbGbCtD",  # source and an inner compound
        "CbGaDtCtD",  # source and target both revisitable
        "CrCtDtCtD",  # three pairs of two kinds
        "CrCtDrDrD",  # target only
        "CbGr>GaDrD",
        "CbG<rGbCtD",
    ],
)
def test_dwpc_equals_enumerated_node_distinct_paths(abbreviation: str) -> None:
    g = random_graph()
    np.testing.assert_allclose(dwpc(g, parse_metapath(g, abbreviation), W), enumerated_dwpc(g, abbreviation))


def test_every_length_four_metapath_of_the_random_graph_is_exact() -> None:
    from hygeia.evidence.metapaths import compound_disease_metapaths

    g = random_graph(seed=2)
    metapaths = compound_disease_metapaths(g, 4)
    assert len(metapaths) == 34  # every walk of 4 metaedges from Compound to Disease in this metagraph
    wrong = [m for m in metapaths if not np.allclose(dwpc(g, parse_metapath(g, m), W), enumerated_dwpc(g, m))]
    assert wrong == []
