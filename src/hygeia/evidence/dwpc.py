"""Degree-weighted path counts (DWPC, Himmelstein & Baranzini 2015) as sparse matrix products.

A metapath such as CbGaD (Compound -binds- Gene -associates- Disease) is a chain of metaedge
matrices. Each path's weight is the product, over its edges, of (source degree x target degree)
to the power -w; damping w = 0.4 as in Rephetio, so paths through hubs (a gene every drug binds)
count for less than paths through specific nodes. Weighting each step matrix by its degrees and
multiplying the chain gives every compound-disease DWPC at once.

Paths may not visit a node twice (compound c -binds- gene -binds- c -treats- disease would turn
the label itself into a feature); for the metapaths used here at most one pair of non-adjacent
positions shares a node kind, and those paths are subtracted exactly (prefix . diag . suffix).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph

DAMPING = 0.4
TOKEN = re.compile(r"[A-Z]+|<?[a-z]+>?")


@dataclass(frozen=True)
class Step:
    """One hop of a metapath: the metaedge and whether it is walked target -> source."""

    metaedge: str
    reverse: bool
    source_kind: str
    target_kind: str
    verb: str


@dataclass(frozen=True)
class Metapath:
    abbreviation: str
    steps: tuple[Step, ...]

    @property
    def kinds(self) -> list[str]:
        return [self.steps[0].source_kind] + [s.target_kind for s in self.steps]

    def repeated_positions(self) -> list[tuple[int, int]]:
        """Non-adjacent positions of the same node kind (adjacent ones cannot repeat: no self-loops)."""
        kinds = self.kinds
        return [(i, j) for i in range(len(kinds)) for j in range(i + 2, len(kinds)) if kinds[i] == kinds[j]]


def parse_metapath(graph: HetGraph, abbreviation: str) -> Metapath:
    """ "CbGaD" -> steps CbG (forward), DaG (reverse); ValueError for an unknown or missing metaedge."""
    tokens = TOKEN.findall(abbreviation)
    kind_of = {abbr: kind for kind, abbr in graph.kind_abbreviation.items()}
    steps = []
    for i in range(0, len(tokens) - 2, 2):
        source, verb, target = tokens[i], tokens[i + 1], tokens[i + 2]
        name, reverse = _metaedge_of(graph, source, verb, target)
        edge = graph.metaedges[name]
        steps.append(Step(name, reverse, kind_of[source], kind_of[target], edge.verb))
    metapath = Metapath(abbreviation, tuple(steps))
    if len(metapath.repeated_positions()) > 1:
        raise ValueError(f"metapath {abbreviation}: more than one repeated node kind is not supported")
    return metapath


def _metaedge_of(graph: HetGraph, source: str, verb: str, target: str) -> tuple[str, bool]:
    """(metaedge abbreviation, walked in reverse); "<r" walks the directed Gr>G backwards."""
    if verb.startswith("<"):
        candidates = [(f"{target}{verb[1:]}>{source}", True)]
    elif verb.endswith(">"):
        candidates = [(f"{source}{verb}{target}", False)]
    else:
        candidates = [(f"{source}{verb}{target}", False), (f"{target}{verb}{source}", True)]
    for name, reverse in candidates:
        if name in graph.adjacency:
            return name, reverse
    raise ValueError(f"no metaedge for {source}{verb}{target} in the graph (have {sorted(graph.adjacency)})")


def step_matrix(graph: HetGraph, step: Step, damping: float = DAMPING) -> sp.csr_matrix:
    """Adjacency oriented along the path, scaled by source and target degree^-damping."""
    a = graph.adjacency[step.metaedge]
    if step.reverse:
        a = a.T.tocsr()
    out_degree = np.asarray(a.sum(axis=1)).ravel()
    in_degree = np.asarray(a.sum(axis=0)).ravel()
    scale_rows = sp.diags(_inverse_power(out_degree, damping))
    scale_cols = sp.diags(_inverse_power(in_degree, damping))
    return sp.csr_matrix(scale_rows @ a @ scale_cols)


def _inverse_power(degree: np.ndarray, damping: float) -> np.ndarray:
    out = np.zeros_like(degree, dtype=np.float64)
    nonzero = degree > 0
    out[nonzero] = degree[nonzero] ** -damping
    return out


def _chain(matrices: Sequence[sp.csr_matrix]) -> sp.csr_matrix:
    product = matrices[0]
    for m in matrices[1:]:
        product = sp.csr_matrix(product @ m)
    return product


def _diagonal(matrices: Sequence[sp.csr_matrix]) -> np.ndarray:
    if len(matrices) == 2:  # diag(AB) without forming AB, which can be dense (gene-pathway-gene)
        return np.asarray(matrices[0].multiply(matrices[1].T).sum(axis=1)).ravel()
    return _chain(matrices).diagonal()


def dwpc(graph: HetGraph, metapath: Metapath, damping: float = DAMPING) -> np.ndarray:
    """Dense (source nodes x target nodes) DWPC matrix of one metapath, node-repeating paths removed."""
    mats = [step_matrix(graph, s, damping) for s in metapath.steps]
    total = _chain(mats)
    for i, j in metapath.repeated_positions():
        prefix = _chain(mats[:i]) if i else sp.identity(mats[0].shape[0], format="csr")
        suffix = _chain(mats[j:]) if j < len(mats) else sp.identity(mats[-1].shape[1], format="csr")
        repeated = sp.csr_matrix(prefix @ sp.diags(_diagonal(mats[i:j])) @ suffix)
        total = sp.csr_matrix(total - repeated)
    out = total.toarray()
    out[np.abs(out) < 1e-12] = 0.0  # float cancellation of subtracted paths
    return out


def compound_disease_dwpc(
    graph: HetGraph, metapaths: Sequence[str], damping: float = DAMPING
) -> dict[str, np.ndarray]:
    """metapath -> (compounds x diseases) DWPC; rows/columns in graph.nodes order."""
    out = {}
    for abbreviation in metapaths:
        metapath = parse_metapath(graph, abbreviation)
        if metapath.kinds[0] != COMPOUND or metapath.kinds[-1] != DISEASE:
            raise ValueError(f"{abbreviation} is not a compound-disease metapath")
        out[abbreviation] = dwpc(graph, metapath, damping)
    return out
