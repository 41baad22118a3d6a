"""Drug-disease evidence features for candidate-indication ranking, aggregated from the documents.

A candidate indication (drug, DO disease) is described by what the cited records say about it:
approval, how far failed trials got, curated listings, literature co-mentions, and whether the
drug already treats diseases that share many drugs with this one ("related indication": the
guilt-by-association signal behind most repurposing hypotheses). Everything is computed from
documents, so every non-zero feature has citations behind it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hygeia.evidence.corpus import APPROVAL, CURATED, LITERATURE, TRIAL, Document

FEATURES = (
    "approved",  # repoDB: approved for this indication
    "trial_max_phase",  # repoDB: furthest phase of a terminated/withdrawn/suspended trial, 0..1
    "trial_count",  # repoDB: log1p(number of failed-trial records)
    "drugcentral",  # DrugCentral lists the pair as an indication (its category column is not used)
    "pharmacotherapy_dm",  # PharmacotherapyDB disease-modifying
    "pharmacotherapy_sym",  # PharmacotherapyDB symptomatic
    "pharmacotherapy_not",  # PharmacotherapyDB curated non-indication
    "literature",  # log1p(abstracts mentioning both)
    "related_indication",  # max Jaccard(drugs of disease, drugs of another disease this drug is approved for)
    "drug_approved_any",  # approval status: the drug is approved for something
    "disease_treatment_count",  # log1p(other drugs approved/listed for the disease): a disease-level prior
    "graph_score",  # evidence 2.0.0: the Hetionet path model's part of the logit (graph_scoring.py)
)
GRAPH_SCORE = "graph_score"  # not from documents: set by the graph scorer, 0 under 1.0.0's weights
PHARMACOTHERAPY_FEATURES = ("pharmacotherapy_dm", "pharmacotherapy_sym", "pharmacotherapy_not")
PHASE_SCORE = {
    "Phase 0": 0.25,
    "Phase 1": 0.25,
    "Phase 1/Phase 2": 0.5,
    "Phase 2": 0.5,
    "Phase 2/Phase 3": 0.75,
    "Phase 3": 1.0,
}
PHARMACOTHERAPY_FEATURE = {
    "DM": "pharmacotherapy_dm",
    "SYM": "pharmacotherapy_sym",
    "NOT": "pharmacotherapy_not",
}


def is_do_disease(disease_id: str) -> bool:
    return disease_id.startswith("DOID:")


def document_features(doc: Document) -> dict[str, float]:
    """What one record contributes; also the feature vector of feedback given on that record."""
    x: dict[str, float] = {}
    if doc.doc_type == APPROVAL:
        x["approved"] = 1.0
    elif doc.doc_type == TRIAL:
        x["trial_max_phase"] = PHASE_SCORE.get(str(doc.meta.get("phase", "")), 0.25)
        x["trial_count"] = math.log1p(1)
    elif doc.doc_type == CURATED and doc.source == "DrugCentral":
        x["drugcentral"] = 1.0
    elif doc.doc_type == CURATED:
        feature = PHARMACOTHERAPY_FEATURE.get(str(doc.meta.get("category", "")))
        if feature:
            x[feature] = 1.0
    elif doc.doc_type == LITERATURE:
        x["literature"] = math.log1p(1)
    return x


@dataclass
class PairEvidence:
    doc_ids: list[str] = field(default_factory=list)
    approved: bool = False
    failed_phase: float = 0.0
    failed_count: int = 0
    drugcentral: bool = False
    pharmacotherapy: set[str] = field(default_factory=set)
    literature: int = 0


class EvidenceGraph:
    """Pairs (drug, DOID) -> evidence, plus the drug sets used for the related-indication signal."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.pairs: dict[tuple[str, str], PairEvidence] = defaultdict(PairEvidence)
        for doc in documents:
            self._add(doc)
        self.known: dict[str, set[str]] = defaultdict(set)  # drug -> diseases it is approved/listed for
        self.treated_by: dict[str, set[str]] = defaultdict(set)  # disease -> those drugs
        for (drug, disease), ev in self.pairs.items():
            if ev.approved or ev.drugcentral:
                self.known[drug].add(disease)
                self.treated_by[disease].add(drug)
        self.approved_drugs = {drug for (drug, _), ev in self.pairs.items() if ev.approved}
        self._by_drug: dict[str, set[str]] = defaultdict(set)
        self._by_disease: dict[str, set[str]] = defaultdict(set)
        for drug, disease in self.pairs:
            self._by_drug[drug].add(disease)
            self._by_disease[disease].add(drug)

    def _add(self, doc: Document) -> None:
        for drug in doc.drug_ids:
            for disease in filter(is_do_disease, doc.disease_ids):
                ev = self.pairs[(drug, disease)]
                ev.doc_ids.append(doc.id)
                if doc.doc_type == APPROVAL:
                    ev.approved = True
                elif doc.doc_type == TRIAL:
                    ev.failed_count += 1
                    ev.failed_phase = max(ev.failed_phase, PHASE_SCORE.get(str(doc.meta.get("phase")), 0.25))
                elif doc.doc_type == CURATED and doc.source == "DrugCentral":
                    ev.drugcentral = True
                elif doc.doc_type == CURATED:
                    ev.pharmacotherapy.add(str(doc.meta.get("category", "")))
                elif doc.doc_type == LITERATURE:
                    ev.literature += 1

    def diseases_for(self, drug: str) -> set[str]:
        return set(self._by_drug.get(drug, set()))

    def drugs_for(self, disease: str) -> set[str]:
        return set(self._by_disease.get(disease, set()))

    def related_indication(self, drug: str, disease: str) -> float:
        """max over the drug's other known diseases D' of Jaccard(drugs of D, drugs of D')."""
        mine = self.treated_by.get(disease, set()) - {drug}
        best = 0.0
        for other in self.known.get(drug, set()) - {disease}:
            theirs = self.treated_by[other] - {drug}
            union = len(mine | theirs)
            if union:
                best = max(best, len(mine & theirs) / union)
        return best

    def features(self, drug: str, disease: str, hidden: Iterable[str] = ()) -> dict[str, float]:
        """Feature vector of a candidate; `hidden` names features forced to 0 (held-out sources)."""
        ev = self.pairs.get((drug, disease), PairEvidence())
        x = {
            "approved": float(ev.approved),
            "trial_max_phase": ev.failed_phase,
            "trial_count": math.log1p(ev.failed_count),
            "drugcentral": float(ev.drugcentral),
            "pharmacotherapy_dm": float("DM" in ev.pharmacotherapy),
            "pharmacotherapy_sym": float("SYM" in ev.pharmacotherapy),
            "pharmacotherapy_not": float("NOT" in ev.pharmacotherapy),
            "literature": math.log1p(ev.literature),
            "related_indication": self.related_indication(drug, disease),
            "drug_approved_any": float(drug in self.approved_drugs),
            "disease_treatment_count": math.log1p(len(self.treated_by.get(disease, set()) - {drug})),
        }
        for name in hidden:
            x[name] = 0.0
        return x

    def citations(self, drug: str, disease: str) -> list[str]:
        return list(self.pairs.get((drug, disease), PairEvidence()).doc_ids)
