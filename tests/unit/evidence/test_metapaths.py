"""The metapaths evidence >= 2.1.0 reads are enumerated from the metagraph, not picked by labels."""

from __future__ import annotations

from hygeia.evidence.dwpc import parse_metapath
from hygeia.evidence.hetnet import HetGraph, Metaedge, build_graph
from hygeia.evidence.metapaths import candidate_metapaths, compound_disease_metapaths


def metagraph() -> HetGraph:
    """One node per kind is enough: the enumeration reads only which metaedges exist."""
    nodes = {k: [(k[0], k[0])] for k in ("Compound", "Gene", "Disease", "Side Effect")}
    metaedges = [
        Metaedge("CbG", "Compound", "binds", "Gene"),
        Metaedge("CrC", "Compound", "resembles", "Compound"),
        Metaedge("CtD", "Compound", "treats", "Disease"),
        Metaedge("CpD", "Compound", "palliates", "Disease"),
        Metaedge("DaG", "Disease", "associates", "Gene"),
        Metaedge("DrD", "Disease", "resembles", "Disease"),
        Metaedge("CcSE", "Compound", "causes", "Side Effect"),
        Metaedge("Gr>G", "Gene", "regulates", "Gene", directed=True),
    ]
    edges = {m.abbreviation: [] for m in metaedges}
    kinds = {"Compound": "C", "Gene": "G", "Disease": "D", "Side Effect": "SE"}
    return build_graph(nodes, metaedges, edges, kinds)


def test_short_metapaths_are_all_there_and_own_indications_are_not() -> None:
    found = candidate_metapaths(metagraph())
    for expected in ("CbGaD", "CrCtD", "CcSEcCtD", "CbGr>GaD", "CbG<rGaD", "CrCpD", "CbGaDrD"):
        assert expected in found
    assert not [m for m in found if m.startswith(("CtD", "CpD"))]


def test_length_four_only_for_guilt_by_association() -> None:
    found = candidate_metapaths(metagraph())
    long = [m for m in found if len(parse_metapath(metagraph(), m).steps) == 4]
    assert "CcSEcCrCtD" in long and "CbGbCrCtD" in long and "CrCrCtDrD" in long
    assert all(m.endswith(("CtD", "CtDrD")) for m in long)
    assert "CbGr>GaDrD" not in found  # a length-4 mechanism path, not in the families


def test_every_candidate_is_a_parsable_compound_disease_metapath_listed_once() -> None:
    graph = metagraph()
    found = candidate_metapaths(graph)
    assert len(found) == len(set(found))
    for metapath in found:
        kinds = parse_metapath(graph, metapath).kinds
        assert kinds[0] == "Compound" and kinds[-1] == "Disease"
    assert set(compound_disease_metapaths(graph, 2)) - {"CtDrD", "CpDrD"} <= set(found)
