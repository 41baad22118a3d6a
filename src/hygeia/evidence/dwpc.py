"""Degree-weighted path counts (DWPC, Himmelstein & Baranzini 2015) as sparse matrix products.

A metapath such as CbGaD (Compound -binds- Gene -associates- Disease) is a chain of metaedge
matrices. Each path's weight is the product, over its edges, of (source degree x target degree)
to the power -w; damping w = 0.4 as in Rephetio, so paths through hubs (a gene every drug binds)
count for less than paths through specific nodes. Weighting each step matrix by its degrees and
multiplying the chain gives every compound-disease DWPC at once.

Paths may not visit a node twice (compound c -binds- gene -binds- c -treats- disease would turn
the label itself into a feature). Walks that do are subtracted exactly, by inclusion-exclusion over
the pairs of positions that share a node kind (dwpc(); checked against brute-force enumeration).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TypeAlias

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
    return Metapath(abbreviation, tuple(steps))


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


Matrix: TypeAlias = sp.csr_matrix | np.ndarray
DENSE_FILL = 0.2  # a product denser than this is kept as a numpy array: faster and smaller


def _product(a: Matrix, b: Matrix) -> Matrix:
    out = a @ b
    if sp.issparse(out):
        out = sp.csr_matrix(out)
        if out.nnz > DENSE_FILL * out.shape[0] * out.shape[1]:
            return out.toarray()
        return out
    return np.asarray(out)


def _hadamard(a: Matrix, b: Matrix) -> Matrix:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a * b
    if isinstance(a, np.ndarray):
        a, b = b, a
    assert not isinstance(a, np.ndarray)  # one of the two is sparse
    return sp.csr_matrix(a.multiply(b))


def _transpose(m: Matrix) -> Matrix:
    return sp.csr_matrix(m.T) if sp.issparse(m) else m.T


def _scale(m: Matrix, rows: np.ndarray | None, cols: np.ndarray | None) -> Matrix:
    if rows is not None:
        m = sp.diags(rows) @ m if sp.issparse(m) else rows[:, None] * m
    if cols is not None:
        m = m @ sp.diags(cols) if sp.issparse(m) else m * cols[None, :]
    return m


def _partition(length: int, equal: Sequence[tuple[int, int]]) -> list[int] | None:
    """Class of each path position once the `equal` positions are merged; None if two adjacent
    positions merge (a same-kind metaedge has no self-loops, so such walks weigh 0)."""
    label = list(range(length + 1))
    for i, j in equal:
        old, new = label[j], label[i]
        label = [new if x == old else x for x in label]
    if any(label[k] == label[k + 1] for k in range(length)):
        return None
    return label


def _walks(mats: Sequence[sp.csr_matrix], label: list[int]) -> Matrix:
    """Weighted walks source -> target whose positions with the same label visit the same node.

    Variable elimination over the label classes: factors are the step matrices between two
    classes, a class is summed out once it touches at most two other classes (always the case up
    to length 4), parallel factors multiply elementwise and closed loops become node weights.
    """
    factors: list[tuple[int, int, Matrix]] = [(label[k], label[k + 1], m) for k, m in enumerate(mats)]
    size = {label[k]: m.shape[0] for k, m in enumerate(mats)} | {label[-1]: mats[-1].shape[1]}
    weights: dict[int, np.ndarray] = {}
    ends = {label[0], label[-1]}
    inner = sorted({c for c in label if c not in ends}, key=label.index)
    while inner:
        touching = {c: {a if b == c else b for a, b, _ in factors if c in (a, b)} for c in inner}
        # the class whose elimination leaves the smallest matrix first: for CbGpPWpGaD that is the
        # last gene (pathway x disease), never compound x gene, which is dense and 30 M entries
        v = min(
            inner,
            key=lambda c: int(np.prod([size[o] for o in touching[c]])) if len(touching[c]) <= 2 else np.inf,
        )
        if len(touching[v]) > 2:
            raise ValueError(f"no elimination order for positions {label}")
        inner.remove(v)
        grouped: dict[int, Matrix] = {}
        rest = []
        for a, b, m in factors:
            if v not in (a, b):
                rest.append((a, b, m))
                continue
            other, oriented = (b, m) if a == v else (a, _transpose(m))
            grouped[other] = _hadamard(grouped[other], oriented) if other in grouped else oriented
        weight = weights.pop(v, None)
        others = sorted(grouped, key=label.index)
        if len(others) == 1:
            (o,) = others
            total = grouped[o].T @ (weight if weight is not None else np.ones(grouped[o].shape[0]))
            weights[o] = weights[o] * np.asarray(total).ravel() if o in weights else np.asarray(total).ravel()
        else:
            first, second = others
            left = _scale(_transpose(grouped[first]), None, weight)
            rest.append((first, second, _product(left, grouped[second])))
        factors = rest
    source, target = label[0], label[-1]
    result: Matrix | None = None
    for a, b, m in factors:
        oriented = m if (a, b) == (source, target) else _transpose(m)
        result = oriented if result is None else _hadamard(result, oriented)
    assert result is not None  # the chain always joins source and target
    return _scale(result, weights.get(source), weights.get(target))


def dwpc(graph: HetGraph, metapath: Metapath, damping: float = DAMPING) -> np.ndarray:
    """Dense (source nodes x target nodes) DWPC matrix of one metapath, node-repeating paths removed.

    Exact for any number of repeated node kinds by inclusion-exclusion: the walks where no
    position revisits a node are all walks, minus those with one given pair of positions on the
    same node, plus those with two pairs, and so on (at most 5 pairs at length 4).
    """
    mats = [step_matrix(graph, s, damping) for s in metapath.steps]
    pairs = metapath.repeated_positions()
    out = np.zeros((mats[0].shape[0], mats[-1].shape[1]))
    for size in range(len(pairs) + 1):
        for equal in combinations(pairs, size):
            label = _partition(len(mats), equal)
            if label is not None:
                walks = _walks(mats, label)
                out += (-1) ** size * (walks if isinstance(walks, np.ndarray) else walks.toarray())
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
