"""Candidate indications: score every DO disease for a drug (or every drug for a disease).

Candidates are the Hetionet/DO-slim diseases, which carry MeSH ids; the confidence is the logistic
model's probability under the tenant's weights, with the per-feature contributions and the cited
documents that produced each feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hygeia.evidence.features import GRAPH_SCORE, EvidenceGraph, is_do_disease
from hygeia.evidence.ranking import confidence, contributions

if TYPE_CHECKING:
    from hygeia.evidence.graph_scoring import GraphScorer


@dataclass(frozen=True)
class Candidate:
    drug_id: str
    disease_id: str
    confidence: float
    features: dict[str, float]
    contributions: dict[str, float]
    citations: list[str]


def pair_features(
    graph: EvidenceGraph,
    drug: str,
    disease: str,
    hidden: Iterable[str] = (),
    scorer: GraphScorer | None = None,
) -> dict[str, float]:
    """Document features, plus the graph model's part of the logit when a graph model is loaded."""
    x = graph.features(drug, disease, hidden)
    if scorer is not None:
        x[GRAPH_SCORE] = scorer.score(drug, disease)
    return x


def score_pair(
    graph: EvidenceGraph,
    drug: str,
    disease: str,
    weights: Mapping[str, float],
    hidden: Iterable[str] = (),
    scorer: GraphScorer | None = None,
) -> Candidate:
    x = pair_features(graph, drug, disease, hidden, scorer)
    return Candidate(
        drug, disease, confidence(x, weights), x, contributions(x, weights), graph.citations(drug, disease)
    )


def rank_diseases(
    graph: EvidenceGraph,
    drug: str,
    diseases: Iterable[str],
    weights: Mapping[str, float],
    hidden: Iterable[str] = (),
    k: int | None = None,
    scorer: GraphScorer | None = None,
) -> list[Candidate]:
    """Every candidate disease scored; ties broken by id so results are reproducible."""
    hidden = tuple(hidden)
    scored = [score_pair(graph, drug, d, weights, hidden, scorer) for d in diseases if is_do_disease(d)]
    scored.sort(key=lambda c: (-c.confidence, c.disease_id))
    return scored[:k] if k else scored


def rank_drugs(
    graph: EvidenceGraph,
    disease: str,
    drugs: Iterable[str],
    weights: Mapping[str, float],
    k: int | None = None,
    scorer: GraphScorer | None = None,
) -> list[Candidate]:
    scored = [score_pair(graph, g, disease, weights, scorer=scorer) for g in drugs]
    scored.sort(key=lambda c: (-c.confidence, c.drug_id))
    return scored[:k] if k else scored


def candidate_drugs(graph: EvidenceGraph, disease: str, scorer: GraphScorer | None = None) -> set[str]:
    """Drugs with any evidence for the disease, or approved for a disease sharing its drugs; with a
    graph model, every compound of the graph too (a mechanism needs no prior evidence)."""
    direct = graph.drugs_for(disease)
    related = {
        drug
        for other, drugs in graph.treated_by.items()
        if other != disease and drugs & graph.treated_by.get(disease, set())
        for drug in drugs
    }
    in_graph = set(scorer.compounds) if scorer is not None else set()
    return direct | related | in_graph
