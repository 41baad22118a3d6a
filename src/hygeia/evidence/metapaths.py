"""Which compound-disease metapaths the graph model reads, enumerated from the metagraph.

Evidence 2.1.0 no longer takes Rephetio's published metapath selection (made on every
PharmacotherapyDB label, so it had seen our held-out folds); it reads every metapath of two
families that the available metaedges allow, and leaves the weighting to the regularised model:
- every compound -> disease metapath of length 2 and 3 (97 on the 20 metaedges here);
- at length 4, the guilt-by-association ones: paths that end in another compound's indication
  (...CtD) or in a disease resembling one (...CtDrD), e.g. CcSEcCrCtD, CbGbCrCtD (93 here);
- CbGpPWpGaD, the pathway metapath that 2.0.0 already read.
Excluded: metapaths that start with the compound's own treats/palliates edge (CtD..., CpD...): a
compound the model is asked about in compound-grouped evaluation has none, so they would only
teach the model to lean on what a new compound cannot have.
"""

from __future__ import annotations

from hygeia.evidence.dwpc import parse_metapath
from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph

OWN_INDICATIONS = ("CtD", "CpD")
GUILT_BY_ASSOCIATION = ("CtD", "CtDrD")
PATHWAY_METAPATH = "CbGpPWpGaD"


def _steps(graph: HetGraph) -> list[tuple[str, str, str]]:
    """(source abbreviation, verb token, target abbreviation) for every way a metaedge can be walked."""
    kinds = graph.kind_abbreviation
    out = []
    for name, edge in graph.metaedges.items():
        source, target = kinds[edge.source], kinds[edge.target]
        verb = name[len(source) : len(name) - len(target)]
        if edge.directed:
            out += [(source, verb, target), (target, "<" + verb.rstrip(">"), source)]
        else:
            out += [(source, verb, target)] + ([(target, verb, source)] if source != target else [])
    return sorted(out)


def compound_disease_metapaths(graph: HetGraph, length: int) -> list[str]:
    """Every compound -> disease metapath of exactly `length` edges over the graph's metaedges."""
    kinds = graph.kind_abbreviation
    start, end = kinds[COMPOUND], kinds[DISEASE]
    level = [(start, start)]
    for _ in range(length):
        level = [(path + verb + t, t) for path, last in level for s, verb, t in _steps(graph) if s == last]
    return [path for path, last in level if last == end]


def candidate_metapaths(graph: HetGraph) -> list[str]:
    """The metapaths of evidence >= 2.1.0 (see the module docstring), in a fixed order."""
    short = [p for n in (2, 3) for p in compound_disease_metapaths(graph, n)]
    long = [p for p in compound_disease_metapaths(graph, 4) if p.endswith(GUILT_BY_ASSOCIATION)]
    pathway = [PATHWAY_METAPATH] if _parses(graph, PATHWAY_METAPATH) else []
    return [p for p in short + long + pathway if not p.startswith(OWN_INDICATIONS)]


def _parses(graph: HetGraph, abbreviation: str) -> bool:
    try:
        parse_metapath(graph, abbreviation)
    except (ValueError, KeyError):
        return False
    return True
