"""The individual paths behind a compound-disease DWPC, named in words, with their share of the score.

A DWPC is a sum of path-degree products, so each path's share of its metapath's DWPC is exact;
a path's contribution to the logit is that share of the metapath feature's contribution
(an attribution, since asinh is not linear, but one that sums to the feature's contribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hygeia.evidence.dwpc import DAMPING, Metapath, parse_metapath, step_matrix
from hygeia.evidence.hetnet import HetGraph

INVERSE_VERB = {
    "associates": "associated with",
    "binds": "bound by",
    "causes": "caused by",
    "downregulates": "downregulated by",
    "upregulates": "upregulated by",
    "includes": "included in",
    "interacts": "interacts with",
    "localizes": "localized in",
    "palliates": "palliated by",
    "participates": "includes",
    "presents": "presented by",
    "regulates": "regulated by",
    "resembles": "resembles",
    "treats": "treated by",
    "covaries": "covaries with",
    "expresses": "expressed in",
}
MAX_PATHS_PER_METAPATH = 2000


@dataclass(frozen=True)
class GraphPath:
    metapath: str
    nodes: list[tuple[str, str, str]]  # (kind, id, name)
    verbs: list[str]
    path_degree_product: float

    @property
    def text(self) -> str:
        parts = [self.nodes[0][2]]
        for verb, (_, _, name) in zip(self.verbs, self.nodes[1:], strict=True):
            parts += [verb, name]
        return " — ".join(parts)


def _reachable_backwards(mats: list[sp.csr_matrix], target: int) -> list[np.ndarray]:
    """For each position, a mask of nodes from which the target can still be reached."""
    masks = [np.zeros(m.shape[0], dtype=bool) for m in mats]
    current = np.zeros(mats[-1].shape[1], dtype=bool)
    current[target] = True
    for k in range(len(mats) - 1, -1, -1):
        masks[k] = (mats[k] @ current.astype(np.float64)) > 0  # mat-vec, not column slicing
        current = masks[k]
    return masks


StepCache = dict[tuple[str, bool, float], sp.csr_matrix]


def _steps(graph: HetGraph, metapath: Metapath, damping: float, cache: StepCache) -> list[sp.csr_matrix]:
    """Degree-weighted step matrices, cached: re-weighting Gr>G or GiG per request costs ~0.1 s each."""
    out = []
    for step in metapath.steps:
        key = (step.metaedge, step.reverse, damping)
        if key not in cache:
            cache[key] = step_matrix(graph, step, damping)
        out.append(cache[key])
    return out


def metapath_paths(
    graph: HetGraph,
    metapath: Metapath,
    source: int,
    target: int,
    damping: float = DAMPING,
    cache: StepCache | None = None,
) -> list[tuple[list[int], float]]:
    """Every node-distinct path source -> target (as node positions) with its degree-weighted product."""
    mats = _steps(graph, metapath, damping, {} if cache is None else cache)
    ahead = _reachable_backwards(mats, target)
    kinds = metapath.kinds
    partial: list[tuple[list[int], float]] = [([source], 1.0)] if ahead[0][source] else []
    for k, m in enumerate(mats):
        nxt = []
        allowed = ahead[k + 1] if k + 1 < len(mats) else None
        for nodes, weight in partial:
            start, end = m.indptr[nodes[-1]], m.indptr[nodes[-1] + 1]
            for j, w in zip(m.indices[start:end], m.data[start:end], strict=True):
                if allowed is not None and not allowed[j]:
                    continue
                if allowed is None and j != target:
                    continue
                if any(kinds[p] == kinds[k + 1] and nodes[p] == j for p in range(len(nodes))):
                    continue
                nxt.append(([*nodes, int(j)], weight * float(w)))
        partial = nxt[: MAX_PATHS_PER_METAPATH * 50]
    return partial


def explain_pair(
    graph: HetGraph,
    metapaths: list[str],
    compound: str,
    disease: str,
    damping: float = DAMPING,
    cache: StepCache | None = None,
) -> dict[str, list[GraphPath]]:
    """metapath -> its paths for (compound, disease), strongest first."""
    out: dict[str, list[GraphPath]] = {}
    source = graph.position("Compound").get(compound)
    target = graph.position("Disease").get(disease)
    if source is None or target is None:
        return out
    for abbreviation in metapaths:
        metapath = parse_metapath(graph, abbreviation)
        found = metapath_paths(graph, metapath, source, target, damping, cache)
        found.sort(key=lambda p: -p[1])
        out[abbreviation] = [_named(graph, metapath, nodes, w) for nodes, w in found[:MAX_PATHS_PER_METAPATH]]
    return out


def _named(graph: HetGraph, metapath: Metapath, nodes: list[int], weight: float) -> GraphPath:
    kinds = metapath.kinds
    named = []
    for kind, position in zip(kinds, nodes, strict=True):
        node = graph.nodes[kind][position]
        named.append((kind, node, graph.names[kind].get(node, node)))
    verbs = [INVERSE_VERB.get(s.verb, s.verb) if s.reverse else s.verb for s in metapath.steps]
    return GraphPath(metapath.abbreviation, named, verbs, weight)
