"""A tiny evidence corpus in the real file formats, written by tests (the project ships no data).

Facts are real (metformin treats type 2 diabetes, donepezil Alzheimer's disease …) but the corpus
is a handful of rows so rankings can be checked by hand.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

DRUGS = [
    ("DB00331", "Metformin", "Metformin | Glucophage | Metformina", "XZWYZXLIPXDOLR-UHFFFAOYSA-N"),
    (
        "DB00945",
        "Acetylsalicylic acid",
        "Aspirin | ASA | Acetylsalicylic acid",
        "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
    ),
    ("DB00843", "Donepezil", "Donepezil | Aricept", ""),
    ("DB00203", "Sildenafil", "Sildenafil | Viagra | Revatio", ""),
]
DISEASES = [
    ("DOID:9352", "type 2 diabetes mellitus", "D003924", "C0011860"),
    ("DOID:10652", "Alzheimer's disease", "D000544", "C0002395"),
    ("DOID:9256", "colorectal cancer", "D015179", "C0009402"),
    ("DOID:6000", "congestive heart failure", "D006333", "C0018802"),
]
PHARMACOTHERAPY = [
    ("DOID:9352", "DB00331", "type 2 diabetes mellitus", "Metformin", "DM"),
    ("DOID:10652", "DB00843", "Alzheimer's disease", "Donepezil", "DM"),
    ("DOID:9256", "DB00945", "colorectal cancer", "Acetylsalicylic acid", "NOT"),
]
REPODB = [
    ("Metformin", "DB00331", "Diabetes Mellitus, Non-Insulin-Dependent", "C0011860", "Approved", ""),
    ("Metformin", "DB00331", "Colorectal Cancer", "C0009402", "Terminated", "Phase 2"),
    ("Donepezil", "DB00843", "Alzheimer's Disease", "C0002395", "Approved", ""),
    ("Sildenafil", "DB00203", "Congestive heart failure", "C0018802", "Terminated", "Phase 3"),
    ("Acetylsalicylic acid", "DB00945", "Congestive heart failure", "C0018802", "Approved", ""),
]
ABSTRACTS = {
    "1001": (
        "Does metformin lower colorectal cancer risk?",
        "Metformin use was associated with a lower incidence of colorectal cancer in diabetic patients.",
        ["Colorectal Neoplasms", "Metformin"],
    ),
    "1002": (
        "Is donepezil effective in dementia?",
        "Donepezil improved cognition in patients with Alzheimer's disease over 24 weeks.",
        ["Alzheimer Disease"],
    ),
    "1003": (
        "Does sildenafil improve exercise capacity?",
        "Sildenafil improved exercise capacity in congestive heart failure with pulmonary hypertension.",
        ["Heart Failure"],
    ),
    "1004": (
        "Is aspirin used after myocardial infarction?",
        "Aspirin reduced vascular events after myocardial infarction in a large randomised trial.",
        ["Myocardial Infarction"],
    ),
}


GENES = [("5564", "PRKAB1"), ("43", "ACHE"), ("8654", "PDE5A"), ("5743", "PTGS2")]
METANODES = [
    ("Anatomy", "A"),
    ("Compound", "C"),
    ("Disease", "D"),
    ("Gene", "G"),
    ("Pathway", "PW"),
    ("Pharmacologic Class", "PC"),
    ("Side Effect", "SE"),
    ("Symptom", "S"),
]
METAEDGES = [  # Hetionet's 20 metaedges available in the shared data, as in its metaedges.tsv
    ("Anatomy - downregulates - Gene", "AdG"),
    ("Anatomy - upregulates - Gene", "AuG"),
    ("Compound - binds - Gene", "CbG"),
    ("Compound - causes - Side Effect", "CcSE"),
    ("Compound - downregulates - Gene", "CdG"),
    ("Compound - palliates - Disease", "CpD"),
    ("Compound - resembles - Compound", "CrC"),
    ("Compound - treats - Disease", "CtD"),
    ("Compound - upregulates - Gene", "CuG"),
    ("Disease - associates - Gene", "DaG"),
    ("Disease - downregulates - Gene", "DdG"),
    ("Disease - localizes - Anatomy", "DlA"),
    ("Disease - presents - Symptom", "DpS"),
    ("Disease - resembles - Disease", "DrD"),
    ("Disease - upregulates - Gene", "DuG"),
    ("Gene - covaries - Gene", "GcG"),
    ("Gene - interacts - Gene", "GiG"),
    ("Gene - participates - Pathway", "GpPW"),
    ("Gene > regulates > Gene", "Gr>G"),
    ("Pharmacologic Class - includes - Compound", "PCiC"),
]
GRAPH_EDGES = {  # real Hetionet facts: each drug binds its target, each disease is associated with it
    "CbG": [
        ("Compound::DB00331", "Gene::5564"),
        ("Compound::DB00843", "Gene::43"),
        ("Compound::DB00203", "Gene::8654"),
        ("Compound::DB00945", "Gene::5743"),
    ],
    "DaG": [
        ("Disease::DOID:9352", "Gene::5564"),
        ("Disease::DOID:10652", "Gene::43"),
        ("Disease::DOID:6000", "Gene::8654"),
        ("Disease::DOID:9256", "Gene::5743"),
    ],
    "CtD": [("Compound::DB00331", "Disease::DOID:9352"), ("Compound::DB00843", "Disease::DOID:10652")],
}


def write_hetionet(folder: Path) -> None:
    """Nodes, metanodes, metaedges and one gzip edge table per metaedge (most of them empty)."""
    import gzip

    nodes = [(f"Compound::{i}", n, "Compound") for i, n, _, _ in DRUGS]
    nodes += [(f"Disease::{d}", n, "Disease") for d, n, _, _ in DISEASES]
    nodes += [(f"Gene::{g}", n, "Gene") for g, n in GENES]
    _tsv(folder / "hetionet-v1.0-nodes.tsv", ["id", "name", "kind"], nodes)
    _tsv(folder / "metanodes.tsv", ["metanode", "abbreviation"], METANODES)
    _tsv(folder / "metaedges.tsv", ["metaedge", "abbreviation"], METAEDGES)
    for _, abbreviation in METAEDGES:
        rows = [f"{s}\t{abbreviation}\t{t}\n" for s, t in GRAPH_EDGES.get(abbreviation, [])]
        path = folder / f"edges-{abbreviation.replace('>', '')}.tsv.gz"
        with gzip.open(path, "wt") as handle:
            handle.write("source\tmetaedge\ttarget\n" + "".join(rows))


def _tsv(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_corpus(root: Path) -> Path:
    """Write every file `hygeia.evidence.sources.load_sources` needs under `root`; returns root."""
    vocab = root / "drugbank-vocabulary" / "drugbank_vocabulary.csv"
    vocab.parent.mkdir(parents=True, exist_ok=True)
    with vocab.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "DrugBank ID",
                "Accession Numbers",
                "Common name",
                "CAS",
                "UNII",
                "Synonyms",
                "Standard InChI Key",
            ]
        )
        writer.writerows([(i, "", n, "", "", s, k) for i, n, s, k in DRUGS])
    write_hetionet(root / "hetionet")
    do = root / "disease-ontology"
    _tsv(
        do / "slim-terms.tsv",
        ["doid", "name", "source", "pathophysiology"],
        [(d, n, "DOslim", "") for d, n, _, _ in DISEASES],
    )
    _tsv(
        do / "xrefs-slim.tsv",
        ["doid_code", "doid_name", "resource", "resource_id"],
        [(d, n, "MSH", m) for d, n, m, _ in DISEASES],
    )
    _tsv(
        do / "xrefs-prop-slim.tsv",
        ["doid_code", "doid_name", "resource", "resource_id"],
        [(d, n, "UMLS", u) for d, n, _, u in DISEASES],
    )
    header = ["doid_id", "drugbank_id", "disease", "drug", "category", "n_curators", "n_resources"]
    _tsv(root / "pharmacotherapydb" / "indications.tsv", header, [(*r, "1", "1") for r in PHARMACOTHERAPY])
    _tsv(
        root / "drugcentral" / "indications.tsv",
        header[:5],
        [("DOID:9352", "DB00331", "type 2 diabetes mellitus", "Metformin", "DM")],
    )
    repodb = root / "repodb" / "repodb_full.csv"
    repodb.parent.mkdir(parents=True, exist_ok=True)
    with repodb.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["drug_name", "drug_id", "ind_name", "ind_id", "sem_type", "status", "phase", "DetailedStatus"]
        )
        writer.writerows([(a, b, c, d, "Disease or Syndrome", e, f, "") for a, b, c, d, e, f in REPODB])
    qa = {
        pmid: {"QUESTION": q, "CONTEXTS": [text], "MESHES": mesh, "YEAR": "2015", "LABELS": ["RESULTS"]}
        for pmid, (q, text, mesh) in ABSTRACTS.items()
    }
    (root / "pubmedqa").mkdir(parents=True, exist_ok=True)
    (root / "pubmedqa" / "ori_pqal.json").write_text(json.dumps(qa))
    return root
