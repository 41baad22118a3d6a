"""The graph model on the real Hetionet edge tables in ../shared/data/evidence/hetionet (~15 s).

Checks what the card's numbers rest on: every table loads with Hetionet's official edge counts,
the DWPC features of the full graph have the shape and sparsity expected, removing a held-out
compound's treats edges really removes the paths through them, the exact DWPC of metapaths with
several revisitable positions equals the sum over their enumerated node-distinct paths, and the
bundled graph model (2.1.0) explains a known indication with a mechanistic path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hygeia.evidence.dwpc import dwpc, parse_metapath
from hygeia.evidence.graph_eval import held_out_graph
from hygeia.evidence.graph_features import graph_features
from hygeia.evidence.graph_scoring import GraphScorer
from hygeia.evidence.hetnet import HetGraph, load_hetionet
from hygeia.evidence.metapaths import candidate_metapaths
from hygeia.evidence.paths import metapath_paths

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[3]
HETIONET = REPO_ROOT.parent / "shared" / "data" / "evidence" / "hetionet"
OFFICIAL_EDGES = {"CbG": 11571, "CtD": 755, "CpD": 390, "DaG": 12623, "GpPW": 84372, "Gr>G": 265672}
METFORMIN, TYPE_2_DIABETES = "DB00331", "DOID:9352"


@pytest.fixture(scope="module")
def graph() -> HetGraph:
    if not (HETIONET / "edges-CbG.tsv.gz").is_file():
        pytest.skip(f"Hetionet edge tables not present under {HETIONET}")
    return load_hetionet(HETIONET)


def test_edge_tables_load_with_official_counts(graph: HetGraph) -> None:
    assert len(graph.adjacency) == 20
    for metaedge, count in OFFICIAL_EDGES.items():
        assert graph.adjacency[metaedge].nnz == count, metaedge
    assert len(graph.nodes["Compound"]) == 1552 and len(graph.nodes["Disease"]) == 137


def test_held_out_compound_keeps_no_path_through_its_own_indications(graph: HetGraph) -> None:
    full = graph_features(graph, ["CtDrD"])  # only possible through the compound's own treats edges
    assert full.column("dwpc_CtDrD")[graph.position("Compound")[METFORMIN]].sum() > 0
    held = graph_features(held_out_graph(graph, {METFORMIN}), ["CtDrD", "CbGaD"])
    row = graph.position("Compound")[METFORMIN]
    assert held.column("dwpc_CtDrD")[row].sum() == 0.0
    assert held.column("dwpc_CbGaD")[row].sum() > 0  # mechanism paths stay


def test_all_metapaths_compute_and_the_model_explains_metformin(graph: HetGraph) -> None:
    from hygeia.evidence.graph_model import GraphModel

    metapaths = candidate_metapaths(graph)
    assert len(metapaths) == 191
    features = graph_features(graph, metapaths)
    assert features.values.shape == (1552, 137, len(features.names))
    assert np.all(features.values >= 0)
    scorer = GraphScorer(graph, GraphModel.load(REPO_ROOT / "models" / "evidence" / "2.1.0"))
    paths = scorer.explain(METFORMIN, TYPE_2_DIABETES)
    assert paths and paths[0].path.nodes[0][2] == "Metformin"
    assert paths[0].path.nodes[-1][2] == "type 2 diabetes mellitus"
    assert scorer.score(METFORMIN, TYPE_2_DIABETES) > np.median(scorer.logits)


@pytest.mark.parametrize("abbreviation", ["CbGbCrCtD", "CrCrCrCtD", "CrCbGbCtD", "CrCtDtCtD"])
def test_exact_dwpc_is_the_sum_of_its_enumerated_paths(graph: HetGraph, abbreviation: str) -> None:
    metapath = parse_metapath(graph, abbreviation)
    assert len(metapath.repeated_positions()) >= 2
    values = dwpc(graph, metapath)
    source = graph.position("Compound")[METFORMIN]
    target = graph.position("Disease")[TYPE_2_DIABETES]
    paths = metapath_paths(graph, metapath, source, target)
    assert values[source, target] == pytest.approx(sum(w for _, w in paths), rel=1e-9, abs=1e-12)
