"""Candidate features aggregate cited documents; the related-indication signal is a Jaccard by hand."""

from __future__ import annotations

import math

import pytest

from hygeia.evidence.corpus import APPROVAL, CURATED, LITERATURE, TRIAL, Document
from hygeia.evidence.features import EvidenceGraph, document_features


def _doc(
    doc_id: str, doc_type: str, drug: str, disease: str, source: str = "repoDB", **meta: str
) -> Document:
    return Document(
        doc_id, doc_type, source, doc_id, doc_id, drug_ids=[drug], disease_ids=[disease], meta=meta
    )


DOCS = [
    _doc("a1", APPROVAL, "D1", "DOID:1"),
    _doc("a2", APPROVAL, "D2", "DOID:1"),
    _doc("a3", APPROVAL, "D2", "DOID:2"),
    _doc("t1", TRIAL, "D1", "DOID:3", phase="Phase 2"),
    _doc("t2", TRIAL, "D1", "DOID:3", phase="Phase 3"),
    _doc("c1", CURATED, "D1", "DOID:1", source="DrugCentral", category="DM"),
    _doc("p1", CURATED, "D1", "DOID:2", source="PharmacotherapyDB", category="NOT"),
    _doc("l1", LITERATURE, "D1", "DOID:3", source="PubMedQA"),
    _doc("u1", APPROVAL, "D1", "C0000001"),  # a UMLS-only disease is not a ranking candidate
]


@pytest.fixture
def graph() -> EvidenceGraph:
    return EvidenceGraph(DOCS)


def test_trial_phase_count_and_literature(graph: EvidenceGraph) -> None:
    x = graph.features("D1", "DOID:3")
    assert x["trial_max_phase"] == 1.0 and x["trial_count"] == pytest.approx(math.log1p(2))
    assert x["literature"] == pytest.approx(math.log1p(1)) and x["approved"] == 0.0
    assert graph.citations("D1", "DOID:3") == ["t1", "t2", "l1"]


def test_drugcentral_category_is_not_a_feature_but_pharmacotherapy_is(graph: EvidenceGraph) -> None:
    x = graph.features("D1", "DOID:1")
    assert x["drugcentral"] == 1.0 and x["pharmacotherapy_dm"] == 0.0
    assert graph.features("D1", "DOID:2")["pharmacotherapy_not"] == 1.0
    assert graph.features("D1", "DOID:2", hidden=["pharmacotherapy_not"])["pharmacotherapy_not"] == 0.0


def test_related_indication_is_the_jaccard_of_other_drugs(graph: EvidenceGraph) -> None:
    # D1 is known for DOID:1 (treated by D1, D2). DOID:2 is treated by D2. Excluding D1:
    # drugs(DOID:2) = {D2}, drugs(DOID:1) = {D2} -> Jaccard 1.0
    assert graph.features("D1", "DOID:2")["related_indication"] == pytest.approx(1.0)
    assert graph.features("D1", "DOID:3")["related_indication"] == 0.0
    assert graph.features("D3", "DOID:1")["drug_approved_any"] == 0.0
    assert "C0000001" not in graph.diseases_for("D1")


def test_document_features_match_the_evidence_type() -> None:
    assert document_features(DOCS[0]) == {"approved": 1.0}
    assert document_features(DOCS[4])["trial_max_phase"] == 1.0
    assert document_features(DOCS[5]) == {"drugcentral": 1.0}
    assert document_features(DOCS[6]) == {"pharmacotherapy_not": 1.0}
