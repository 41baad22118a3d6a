"""Hetionet as one sparse adjacency matrix per metaedge: edge tables in, matrices out.

Why sparse matrices and no graph database: Hetionet v1.0 has about a million edges, so every
metaedge fits in memory as a scipy CSR matrix and a metapath's path counts are a few sparse
products. The input is deliberately plain edge tables (source id, metaedge, target id) so that a
larger graph can be handed to a distributed engine producing the same feature matrices
(docs/evidence-graph.md).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

COMPOUND, DISEASE = "Compound", "Disease"
NODES_FILE = "hetionet-v1.0-nodes.tsv"
METAEDGES_FILE = "metaedges.tsv"
METANODES_FILE = "metanodes.tsv"


@dataclass(frozen=True)
class Metaedge:
    """A typed relation, e.g. abbreviation CbG = Compound -binds- Gene; `directed` only for Gr>G."""

    abbreviation: str
    source: str
    verb: str
    target: str
    directed: bool = False


@dataclass
class HetGraph:
    """Node ids per kind (row/column order of every matrix) and one 0/1 CSR matrix per metaedge."""

    nodes: dict[str, list[str]]
    names: dict[str, dict[str, str]]  # kind -> id -> name
    metaedges: dict[str, Metaedge]
    adjacency: dict[str, sp.csr_matrix]
    kind_abbreviation: dict[str, str] = field(default_factory=dict)
    _position: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def position(self, kind: str) -> dict[str, int]:
        if kind not in self._position:
            self._position[kind] = {node: i for i, node in enumerate(self.nodes[kind])}
        return self._position[kind]

    def without_edges(self, abbreviation: str, pairs: Iterable[tuple[str, str]]) -> HetGraph:
        """A copy with some edges of one metaedge removed (held-out indications in CV)."""
        edge = self.metaedges[abbreviation]
        rows, cols = self.position(edge.source), self.position(edge.target)
        drop = [(rows[s], cols[t]) for s, t in pairs if s in rows and t in cols]
        matrix = self.adjacency[abbreviation].tolil(copy=True)
        for r, c in drop:
            matrix[r, c] = 0
        adjacency = dict(self.adjacency) | {abbreviation: _binary(matrix.tocsr())}
        return replace(self, adjacency=adjacency, _position=self._position)

    def edge_pairs(self, abbreviation: str) -> list[tuple[str, str]]:
        edge = self.metaedges[abbreviation]
        coo = self.adjacency[abbreviation].tocoo()
        src, tgt = self.nodes[edge.source], self.nodes[edge.target]
        return [(src[r], tgt[c]) for r, c in zip(coo.row, coo.col, strict=True)]


def _binary(matrix: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=np.float64)
    out.eliminate_zeros()
    out.data[:] = 1.0
    return out


def build_graph(
    nodes: Mapping[str, list[tuple[str, str]]],
    metaedges: Iterable[Metaedge],
    edges: Mapping[str, Iterable[tuple[str, str]]],
    kind_abbreviation: Mapping[str, str] | None = None,
) -> HetGraph:
    """Edge tables -> adjacency matrices. `nodes`: kind -> (id, name); `edges`: abbreviation -> (s, t).

    Undirected same-kind metaedges (CrC, DrD, GiG, GcG) are stored symmetric, and no same-kind
    metaedge keeps self-loops, so a path can walk them either way and never stays on one node.
    """
    order = {kind: sorted(node for node, _ in rows) for kind, rows in nodes.items()}
    names = {kind: dict(rows) for kind, rows in nodes.items()}
    graph = HetGraph(order, names, {}, {}, dict(kind_abbreviation or {}))
    for edge in metaedges:
        if edge.abbreviation not in edges:
            continue
        rows, cols = graph.position(edge.source), graph.position(edge.target)
        pairs = [(rows[s], cols[t]) for s, t in edges[edge.abbreviation]]
        r = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        c = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        shape = (len(order[edge.source]), len(order[edge.target]))
        matrix = _binary(sp.coo_matrix((np.ones(len(pairs)), (r, c)), shape=shape))
        if edge.source == edge.target:
            matrix = matrix if edge.directed else _binary(matrix + matrix.T)
            matrix = matrix.tolil()
            matrix.setdiag(0)
            matrix = _binary(matrix.tocsr())
        graph.metaedges[edge.abbreviation] = edge
        graph.adjacency[edge.abbreviation] = matrix
    return graph


# ------------------------------------------------------------------------------ Hetionet on disk
def _rows(path: Path) -> Iterable[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def read_metaedges(folder: Path) -> tuple[list[Metaedge], dict[str, str]]:
    """metaedges.tsv ("Compound - binds - Gene", CbG) and the kind -> abbreviation map."""
    kinds = {row["metanode"]: row["abbreviation"] for row in _rows(folder / METANODES_FILE)}
    out = []
    for row in _rows(folder / METAEDGES_FILE):
        directed = ">" in row["metaedge"]
        parts = [p.strip() for p in row["metaedge"].replace(">", "-").split(" - ")]
        out.append(Metaedge(row["abbreviation"], parts[0], parts[1], parts[2], directed))
    return out, kinds


def edge_file(folder: Path, abbreviation: str) -> Path:
    return folder / f"edges-{abbreviation.replace('>', '')}.tsv.gz"


def load_hetionet(folder: Path, only: Iterable[str] | None = None) -> HetGraph:
    """Read the per-metaedge edge tables that exist (20 of Hetionet's 24) into a HetGraph."""
    metaedges, kinds = read_metaedges(folder)
    wanted = set(only) if only is not None else None
    nodes: dict[str, list[tuple[str, str]]] = {kind: [] for kind in kinds}
    for row in _rows(folder / NODES_FILE):
        nodes[row["kind"]].append((_bare(row["id"]), row["name"]))
    edges: dict[str, list[tuple[str, str]]] = {}
    for edge in metaedges:
        path = edge_file(folder, edge.abbreviation)
        if path.is_file() and (wanted is None or edge.abbreviation in wanted):
            edges[edge.abbreviation] = [(_bare(r["source"]), _bare(r["target"])) for r in _rows(path)]
    return build_graph(nodes, metaedges, edges, kinds)


def _bare(node_id: str) -> str:
    """ "Compound::DB00331" -> "DB00331": ids are unique within a kind and match the other sources."""
    return node_id.split("::", 1)[1]
