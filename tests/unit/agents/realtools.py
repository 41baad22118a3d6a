"""Test tools for the agents' chain mechanics: small, real, deterministic computations, named
`agents_test.*` so nobody mistakes them for a domain's tools.

- pubmed_search: TF-IDF search over the 1,000 real PubMedQA abstracts in ../shared/data
- formula: molecular formula of a SMILES (RDKit)
- formula_mass: average molecular mass of a formula (IUPAC standard atomic weights)
- broken: raises, to exercise error reporting; slow: sleeps past the tool timeout
"""

from __future__ import annotations

import ast
import json
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PUBMEDQA = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "evidence" / "pubmedqa" / "ori_pqal.json"
)
ATOMIC_WEIGHTS = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "S": 32.06,
    "P": 30.974,
    "F": 18.998,
    "Cl": 35.45,
    "Br": 79.904,
    "I": 126.90,
    "Na": 22.990,
    "K": 39.098,
}


@lru_cache(maxsize=1)
def _corpus() -> tuple[list[dict[str, str]], Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    items = json.loads(PUBMEDQA.read_text())
    docs = []
    for pmid, item in items.items():
        contexts = item["CONTEXTS"]
        parts = ast.literal_eval(contexts) if isinstance(contexts, str) else contexts
        docs.append({"id": f"PMID:{pmid}", "title": item["QUESTION"], "text": " ".join(parts)})
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vectorizer.fit_transform([f"{d['title']} {d['text']}" for d in docs])
    return docs, vectorizer, matrix


def pubmed_search(query: str, k: int = 5) -> dict[str, Any]:
    docs, vectorizer, matrix = _corpus()
    scores = (matrix @ vectorizer.transform([query]).T).toarray().ravel()
    order = np.argsort(-scores)[: max(1, min(k, 20))]
    hits = [
        {
            "id": docs[i]["id"],
            "title": docs[i]["title"],
            "snippet": docs[i]["text"][:700],
            "score": round(float(scores[i]), 4),
        }
        for i in order
        if scores[i] > 0
    ]
    return {"query": query, "hits": hits}


def formula(smiles: str) -> dict[str, Any]:
    from rdkit import Chem
    from rdkit.Chem.rdMolDescriptors import CalcMolFormula

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}")
    return {"formula": CalcMolFormula(mol), "heavy_atoms": mol.GetNumHeavyAtoms()}


def formula_mass(formula: str) -> dict[str, Any]:
    total = 0.0
    for symbol, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        if symbol not in ATOMIC_WEIGHTS:
            raise ValueError(f"no standard atomic weight for {symbol!r} in this test tool")
        total += ATOMIC_WEIGHTS[symbol] * int(count or 1)
    return {"average_mass": round(total, 3), "mass_formula": formula}


def broken(query: str) -> dict[str, Any]:
    raise RuntimeError("this test tool always fails")


def slow(query: str, seconds: float = 3.0) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


STRING = {"type": "string"}
TEST_TOOLS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "agents_test.pubmed_search": (
        "Search PubMed abstracts (PubMedQA) for published studies and clinical evidence",
        pubmed_search,
        {
            "type": "object",
            "properties": {"query": STRING, "k": {"type": "integer", "minimum": 1, "maximum": 20}},
            "required": ["query"],
        },
    ),
    "agents_test.formula": (
        "Molecular formula of a compound given as SMILES",
        formula,
        {"type": "object", "properties": {"smiles": STRING}, "required": ["smiles"]},
    ),
    "agents_test.formula_mass": (
        "Molecular mass (molecular weight) of a molecular formula",
        formula_mass,
        {"type": "object", "properties": {"formula": STRING}, "required": ["formula"]},
    ),
    "agents_test.broken": (
        "Broken mass lookup that always fails",
        broken,
        {"type": "object", "properties": {"query": STRING}, "required": ["query"]},
    ),
    "agents_test.slow": (
        "Slow mass lookup that takes seconds",
        slow,
        {"type": "object", "properties": {"query": STRING}, "required": ["query"]},
    ),
}
