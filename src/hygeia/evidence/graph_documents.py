"""Knowledge-graph fact sheets as searchable documents: one per Hetionet compound and disease.

Why: a search such as "PPARG agonists" names a mechanism, and no abstract or label row about
pioglitazone says "PPARG"; Hetionet does (pioglitazone binds PPARG; its pharmacologic class is
PPAR-gamma agonists). Listing a drug's targets, classes, regulated genes, side effects and target
pathways (and a disease's genes, symptoms, anatomy) in a document lets BM25 and the encoder match
them, and the result cites the graph as its source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hygeia.evidence.corpus import Document
from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph, edge_file, load_hetionet

KNOWLEDGE_GRAPH = "knowledge_graph"
SOURCE = "Hetionet v1.0"
URL = "https://github.com/hetio/hetionet"
MAX_NAMES = 15  # long lists would drown a target's name under BM25's length normalisation
# (metaedge, walk from the target side, label). Expression signatures (CuG, CdG, DuG, DdG) are left
# out: hundreds of regulated genes per node would make every gene name common and unsearchable.
COMPOUND_FACTS = (
    ("CbG", False, "Binds (targets)"),
    ("PCiC", True, "Pharmacologic class"),
    ("CrC", False, "Resembles"),
    ("CcSE", False, "Side effects"),
)
DISEASE_FACTS = (
    ("DaG", False, "Associated genes"),
    ("DpS", False, "Symptoms"),
    ("DlA", False, "Localizes to"),
    ("DrD", False, "Resembles"),
)
HEADLINE_FACTS = 1  # targets (or a disease's genes) also go in the title, so a target outweighs a
# word of a class name ("... Receptor Agonists") that many other drugs share


def _neighbours(graph: HetGraph, metaedge: str, reverse: bool, position: int) -> list[str]:
    """Names of a node's neighbours, most specific (lowest degree) first, at most MAX_NAMES."""
    if metaedge not in graph.adjacency:
        return []
    edge = graph.metaedges[metaedge]
    a = graph.adjacency[metaedge].T.tocsr() if reverse else graph.adjacency[metaedge]
    other = edge.source if reverse else edge.target
    degree = np.asarray((a != 0).sum(axis=0)).ravel()
    row = a.getrow(position).indices
    row = row[np.lexsort((row, degree[row]))][:MAX_NAMES]
    nodes = graph.nodes[other]
    return [graph.names[other].get(nodes[j], nodes[j]) for j in row]


def _target_pathways(graph: HetGraph, position: int) -> list[str]:
    if "CbG" not in graph.adjacency or "GpPW" not in graph.adjacency:
        return []
    via = graph.adjacency["CbG"].getrow(position) @ graph.adjacency["GpPW"]
    order = np.argsort(-via.toarray().ravel(), kind="stable")[: via.nnz][:10]
    nodes = graph.nodes["Pathway"]
    return [graph.names["Pathway"].get(nodes[j], nodes[j]) for j in order]


def _sheet(facts: list[tuple[str, list[str]]]) -> str:
    return " ".join(f"{label}: {', '.join(names)}." for label, names in facts if names)


def _title(name: str, facts: list[tuple[str, list[str]]]) -> str:
    """ "Rosiglitazone — binds PPARG, ACSL4 …; pharmacologic class Thiazolidinediones" (knowledge graph)."""
    parts = [f"{label.split(' (')[0].lower()} {', '.join(names[:5])}" for label, names in facts if names]
    return f"{name} — " + "; ".join(parts) if parts else f"{name}: knowledge-graph facts"


def graph_fact_documents(folder: Path) -> list[Document]:
    """One document per compound and disease with any edge; [] when the edge tables are absent."""
    if not edge_file(folder, "CbG").is_file():
        return []
    graph = load_hetionet(folder)
    docs = []
    for kind, facts_spec in ((COMPOUND, COMPOUND_FACTS), (DISEASE, DISEASE_FACTS)):
        for position, node in enumerate(graph.nodes[kind]):
            facts = [(label, _neighbours(graph, m, rev, position)) for m, rev, label in facts_spec]
            if kind == COMPOUND:
                facts.append(("Pathways of its targets", _target_pathways(graph, position)))
            text = _sheet(facts)
            if text:
                name = graph.names[kind].get(node, node)
                docs.append(_document(kind, node, _title(name, facts[:HEADLINE_FACTS]), text))
    return docs


def _document(kind: str, node: str, title: str, text: str) -> Document:
    is_drug = kind == COMPOUND
    return Document(
        id=f"hetionet:{kind.lower()}:{node}",
        doc_type=KNOWLEDGE_GRAPH,
        source=SOURCE,
        title=title,
        text=text,
        url=URL,
        drug_ids=[node] if is_drug else [],
        disease_ids=[] if is_drug else [node],
        meta={"kind": kind},
    )
