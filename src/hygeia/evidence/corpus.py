"""Turn the loaded sources into citable evidence documents and an entity dictionary.

One document per citable record: a PubMed abstract, a repoDB drug-indication outcome, a curated
indication row. Each keeps the drug and disease ids it is about, so the search can show citations
and the repurposing ranker can aggregate the same records as features.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hygeia.evidence.linking import Entity, EntityLinker, inverted_variants, normalize
from hygeia.evidence.sources import Abstract, EvidenceSources, Indication, TrialOutcome

# evidence types: what kind of claim a document makes, the unit that ranking weights attach to
LITERATURE, TRIAL, APPROVAL, CURATED = "literature", "clinical_trial", "approval", "curated_indication"
EVIDENCE_TYPES = (LITERATURE, TRIAL, APPROVAL, CURATED, "knowledge_graph")  # graph_documents.py
CATEGORY_WORDS = {
    "DM": "disease-modifying indication",
    "SYM": "symptomatic indication",
    "NOT": "curated non-indication",
    "": "indication",
}


@dataclass
class Document:
    id: str
    doc_type: str
    source: str
    title: str
    text: str
    url: str = ""
    drug_ids: list[str] = field(default_factory=list)
    disease_ids: list[str] = field(default_factory=list)  # DOIDs and UMLS CUIs
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def searchable(self) -> str:
        """What BM25 and the encoder see: title + body (never the PubMedQA question)."""
        return f"{self.title}. {self.text}" if self.title else self.text


def cui_to_doids(sources: EvidenceSources) -> dict[str, list[str]]:
    """UMLS CUI -> DO-slim DOIDs, from the propagated DO xrefs (a subtype maps to its slim ancestor)."""
    mapping: dict[str, set[str]] = defaultdict(set)
    for disease in sources.diseases:
        for cui in disease.umls_ids:
            mapping[cui].add(disease.doid)
    return {cui: sorted(doids) for cui, doids in mapping.items()}


COMMON_WORD_DF = 0.03  # a one-word alias in more than 3% of abstracts is an ordinary word there
COMMON_WORD_MIN_DOCS = 20


def build_linker(sources: EvidenceSources) -> EntityLinker:
    linker = EntityLinker()
    _add_drugs(linker, sources)
    _add_diseases(linker, sources)
    _restrict_mentions(linker, sources)
    return linker


def _restrict_mentions(linker: EntityLinker, sources: EvidenceSources) -> None:
    """Free-text drug mentions only for drugs some evidence source is about, never for common words.

    DrugBank's 19,842 entries include allergen extracts, pesticides and synonyms such as "SAMe",
    "Date" or "Whole Blood"; matched in abstracts those are noise. Exact look-ups keep them all.
    """
    evidence_drugs = set(sources.compounds) | {t.drugbank_id for t in sources.trials}
    evidence_drugs |= {i.drugbank_id for i in sources.pharmacotherapy + sources.drugcentral}
    frequent = _frequent_words([a.text for a in sources.abstracts], COMMON_WORD_DF)

    def keep(alias: str, ids: set[str]) -> bool:
        if " " not in alias and alias in frequent:
            return False
        return any(linker.entities[i].kind == "disease" or i in evidence_drugs for i in ids)

    linker.restrict_mentions(keep)


def _frequent_words(texts: list[str], min_df: float) -> set[str]:
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        for word in set(normalize(text).split()):
            counts[word] += 1
    floor = max(min_df * len(texts), COMMON_WORD_MIN_DOCS)  # a tiny corpus has no "common words"
    return {w for w, n in counts.items() if n > floor}


def _add_drugs(linker: EntityLinker, sources: EvidenceSources) -> None:
    for drug in sources.drugs:
        xrefs = {k: [v] for k, v in (("cas", drug.cas), ("unii", drug.unii)) if v}
        linker.add_entity(Entity("drug", drug.drugbank_id, drug.name, xrefs))
        linker.add_alias(drug.drugbank_id, drug.name)
        for synonym in drug.synonyms:
            linker.add_alias(drug.drugbank_id, synonym)
        linker.add_inchikey(drug.drugbank_id, drug.inchikey)
    extra_names = list(sources.compounds.items()) + [(t.drugbank_id, t.drug) for t in sources.trials]
    extra_names += [(i.drugbank_id, i.drug) for i in sources.pharmacotherapy + sources.drugcentral]
    for drugbank_id, name in extra_names:
        if drugbank_id not in linker.entities:
            linker.add_entity(Entity("drug", drugbank_id, name))
        linker.add_alias(drugbank_id, name)


def _add_diseases(linker: EntityLinker, sources: EvidenceSources) -> None:
    for disease in sources.diseases:
        xrefs = {"mesh": list(disease.mesh_ids), "umls": list(disease.umls_ids)}
        linker.add_entity(Entity("disease", disease.doid, disease.name, xrefs))
        linker.add_alias(disease.doid, disease.name)
    for row in sources.pharmacotherapy + sources.drugcentral:
        if row.doid in linker.entities:
            linker.add_alias(row.doid, row.disease)
    doids = cui_to_doids(sources)
    for trial in sources.trials:
        if trial.umls_id not in linker.entities:
            xrefs = {"doid": doids.get(trial.umls_id, [])}
            linker.add_entity(Entity("disease", trial.umls_id, trial.indication, xrefs))
        for variant in inverted_variants(trial.indication):
            linker.add_alias(trial.umls_id, variant)


def literature_documents(abstracts: list[Abstract], linker: EntityLinker) -> list[Document]:
    """Abstracts with dictionary-linked drugs and diseases (MeSH headings count as disease mentions)."""
    docs = []
    for item in abstracts:
        found = linker.mentions(item.text)
        for heading in item.mesh_terms:
            found += linker.link_exact(heading, "disease")[:1]
        drugs = sorted({lk.entity.id for lk in found if lk.entity.kind == "drug"})
        diseases = sorted({lk.entity.id for lk in found if lk.entity.kind == "disease"})
        docs.append(
            Document(
                id=f"pmid:{item.pmid}",
                doc_type=LITERATURE,
                source="PubMedQA (PQA-L)",
                title=f"PubMed {item.pmid}" + (f" ({item.year})" if item.year else ""),
                text=item.text,
                url=f"https://pubmed.ncbi.nlm.nih.gov/{item.pmid}/",
                drug_ids=drugs,
                disease_ids=diseases,
                meta={"pmid": item.pmid, "year": item.year, "mesh_terms": list(item.mesh_terms)},
            )
        )
    return docs


def trial_documents(trials: list[TrialOutcome], doids: dict[str, list[str]]) -> list[Document]:
    docs = []
    for n, trial in enumerate(trials):
        approved = trial.status == "Approved"
        outcome = "approved" if approved else f"{trial.status.lower()} ({trial.phase or 'phase unknown'})"
        why = f" Reason: {trial.detailed_status}." if trial.detailed_status else ""
        docs.append(
            Document(
                id=f"repodb:{n}",
                doc_type=APPROVAL if approved else TRIAL,
                source="repoDB",
                title=f"{trial.drug} for {trial.indication}",
                text=f"{trial.drug} ({trial.drugbank_id}) for {trial.indication}: {outcome}.{why}",
                url=f"https://go.drugbank.com/drugs/{trial.drugbank_id}",
                drug_ids=[trial.drugbank_id],
                disease_ids=[trial.umls_id, *doids.get(trial.umls_id, [])],
                meta={"status": trial.status, "phase": trial.phase, "umls_id": trial.umls_id},
            )
        )
    return docs


def indication_documents(rows: list[Indication], *, show_category: bool) -> list[Document]:
    """Curated pairs. DrugCentral's category column is PharmacotherapyDB's, so it is not shown as its own."""
    docs = []
    for n, row in enumerate(rows):
        category = row.category if show_category else ""
        words = CATEGORY_WORDS.get(category, "indication")
        docs.append(
            Document(
                id=f"{row.source.lower()}:{n}",
                doc_type=CURATED,
                source=row.source,
                title=f"{row.drug} for {row.disease}",
                text=f"{row.drug} ({row.drugbank_id}) for {row.disease}: {words} according to {row.source}.",
                url=f"https://go.drugbank.com/drugs/{row.drugbank_id}",
                drug_ids=[row.drugbank_id],
                disease_ids=[row.doid],
                meta={"category": category},
            )
        )
    return docs


def build_documents(sources: EvidenceSources, linker: EntityLinker) -> list[Document]:
    doids = cui_to_doids(sources)
    return (
        literature_documents(sources.abstracts, linker)
        + trial_documents(sources.trials, doids)
        + indication_documents(sources.pharmacotherapy, show_category=True)
        + indication_documents(sources.drugcentral, show_category=False)
    )
