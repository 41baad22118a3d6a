"""Loaders for the public evidence sources under `<data_dir>/evidence` (the project ships no copy).

Every loader takes the folder it reads, so tests and `hygeia evidence build --data PATH` can point
anywhere. Each returns plain dataclasses; nothing here knows about indexes or ranking.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DRUGBANK_ID = re.compile(r"^DB\d{5}$")


@dataclass(frozen=True)
class DrugRecord:
    drugbank_id: str
    name: str
    synonyms: tuple[str, ...] = ()
    cas: str = ""
    unii: str = ""
    inchikey: str = ""


@dataclass(frozen=True)
class DiseaseRecord:
    doid: str
    name: str
    mesh_ids: tuple[str, ...] = ()
    umls_ids: tuple[str, ...] = ()  # propagated: CUIs of the term and its descendants


@dataclass(frozen=True)
class Indication:
    """A curated drug-disease pair (PharmacotherapyDB or DrugCentral)."""

    drugbank_id: str
    drug: str
    doid: str
    disease: str
    category: str  # DM disease-modifying, SYM symptomatic, NOT non-indication, "" unclassified
    source: str


@dataclass(frozen=True)
class TrialOutcome:
    """One repoDB row: a drug tried for an indication and how it ended."""

    drugbank_id: str
    drug: str
    umls_id: str
    indication: str
    status: str  # Approved, Terminated, Withdrawn, Suspended
    phase: str
    detailed_status: str


@dataclass(frozen=True)
class Abstract:
    pmid: str
    question: str
    text: str
    mesh_terms: tuple[str, ...] = ()
    year: str = ""
    labels: tuple[str, ...] = field(default=())


def _tsv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def _split_bars(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(" | ") if part.strip())


def load_drugbank_vocabulary(folder: Path) -> list[DrugRecord]:
    """DrugBank open vocabulary (CC0): ids, common names, synonyms, InChIKeys for SMILES lookup."""
    rows = []
    with (folder / "drugbank_vocabulary.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                DrugRecord(
                    drugbank_id=row["DrugBank ID"].strip(),
                    name=row["Common name"].strip(),
                    synonyms=_split_bars(row.get("Synonyms") or ""),
                    cas=(row.get("CAS") or "").strip(),
                    unii=(row.get("UNII") or "").strip(),
                    inchikey=(row.get("Standard InChI Key") or "").strip(),
                )
            )
    return rows


def load_hetionet_compounds(folder: Path) -> dict[str, str]:
    """Hetionet Compound nodes (DrugBank id -> name): the approved small molecules of Hetionet v1.0."""
    compounds = {}
    for row in _tsv(folder / "hetionet-v1.0-nodes.tsv"):
        if row["kind"] == "Compound":
            compounds[row["id"].removeprefix("Compound::")] = row["name"]
    return compounds


def load_diseases(folder: Path) -> list[DiseaseRecord]:
    """DO-slim diseases (= Hetionet Disease nodes) with MeSH ids and propagated UMLS CUIs."""
    names = {row["doid"]: row["name"] for row in _tsv(folder / "slim-terms.tsv")}
    mesh: dict[str, list[str]] = {doid: [] for doid in names}
    umls: dict[str, list[str]] = {doid: [] for doid in names}
    for row in _tsv(folder / "xrefs-slim.tsv"):
        if row["resource"] == "MSH" and row["doid_code"] in mesh:
            mesh[row["doid_code"]].append(row["resource_id"])
    for row in _tsv(folder / "xrefs-prop-slim.tsv"):
        if row["resource"] == "UMLS" and row["doid_code"] in umls:
            umls[row["doid_code"]].append(row["resource_id"])
    return [
        DiseaseRecord(doid, name, tuple(sorted(set(mesh[doid]))), tuple(sorted(set(umls[doid]))))
        for doid, name in sorted(names.items())
    ]


def load_indications(path: Path, source: str) -> list[Indication]:
    """PharmacotherapyDB catalog/indications.tsv or DrugCentral rephetio/indications.tsv (same columns)."""
    return [
        Indication(
            drugbank_id=row["drugbank_id"],
            drug=row["drug"],
            doid=row["doid_id"],
            disease=row["disease"],
            category=(row.get("category") or "").strip(),
            source=source,
        )
        for row in _tsv(path)
    ]


def load_repodb(folder: Path) -> list[TrialOutcome]:
    """repoDB (Brown & Patel 2017): approved and failed drug-indication pairs with trial phase."""
    with (folder / "repodb_full.csv").open(newline="", encoding="utf-8") as handle:
        return [
            TrialOutcome(
                drugbank_id=row["drug_id"].strip(),
                drug=row["drug_name"].strip(),
                umls_id=row["ind_id"].strip(),
                indication=row["ind_name"].strip(),
                status=row["status"].strip(),
                phase=(row.get("phase") or "").strip(),
                detailed_status=(row.get("DetailedStatus") or "").strip(),
            )
            for row in csv.DictReader(handle)
        ]


def load_pubmedqa(folder: Path) -> list[Abstract]:
    """PubMedQA PQA-L: 1,000 abstracts; the question is kept apart so it can serve as an IR query."""
    items = json.loads((folder / "ori_pqal.json").read_text(encoding="utf-8"))
    return [
        Abstract(
            pmid=str(pmid),
            question=item["QUESTION"],
            text=" ".join(item["CONTEXTS"]),
            mesh_terms=tuple(item.get("MESHES") or ()),
            year=str(item.get("YEAR") or ""),
            labels=tuple(item.get("LABELS") or ()),
        )
        for pmid, item in sorted(items.items())
    ]


@dataclass(frozen=True)
class EvidenceSources:
    drugs: list[DrugRecord]
    compounds: dict[str, str]
    diseases: list[DiseaseRecord]
    pharmacotherapy: list[Indication]
    drugcentral: list[Indication]
    trials: list[TrialOutcome]
    abstracts: list[Abstract]


REQUIRED_FILES = (
    "drugbank-vocabulary/drugbank_vocabulary.csv",
    "hetionet/hetionet-v1.0-nodes.tsv",
    "disease-ontology/slim-terms.tsv",
    "disease-ontology/xrefs-slim.tsv",
    "disease-ontology/xrefs-prop-slim.tsv",
    "pharmacotherapydb/indications.tsv",
    "drugcentral/indications.tsv",
    "repodb/repodb_full.csv",
    "pubmedqa/ori_pqal.json",
)


def missing_files(root: Path) -> list[str]:
    return [rel for rel in REQUIRED_FILES if not (root / rel).is_file()]


def load_sources(root: Path) -> EvidenceSources:
    """Everything under `root` (normally `<data_dir>/evidence`); raises listing what is missing."""
    missing = missing_files(root)
    if missing:
        raise FileNotFoundError(f"evidence data incomplete under {root}: missing {missing}")
    return EvidenceSources(
        drugs=load_drugbank_vocabulary(root / "drugbank-vocabulary"),
        compounds=load_hetionet_compounds(root / "hetionet"),
        diseases=load_diseases(root / "disease-ontology"),
        pharmacotherapy=load_indications(root / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB"),
        drugcentral=load_indications(root / "drugcentral/indications.tsv", "DrugCentral"),
        trials=load_repodb(root / "repodb"),
        abstracts=load_pubmedqa(root / "pubmedqa"),
    )
