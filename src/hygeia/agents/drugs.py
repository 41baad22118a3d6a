"""Drug names to structures, so "Is acetaminophen hepatotoxic?" can reach the toxicity model.

Names come from the DrugBank structures table in the data directory (`evidence/drugbank-structures/
drugbank-slim.tsv`, CC BY-NC 4.0; read in place, never copied into the repository), plus a few common
synonyms (US/INN names) that DrugBank 4.2 files under the other name. A structure is the table's InChI,
turned into SMILES by RDKit. The tool calls the toxicity capability through `hygeia.core.tools` only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.core.errors import InputError
from hygeia.core.tools import get_tool, register_tool
from hygeia.settings import get_settings

TABLE = Path("evidence") / "drugbank-structures" / "drugbank-slim.tsv"
SYNONYMS = {  # name in questions -> DrugBank 4.2 name
    "paracetamol": "acetaminophen", "tylenol": "acetaminophen", "aspirin": "acetylsalicylic acid",
    "adrenaline": "epinephrine", "noradrenaline": "norepinephrine", "salbutamol": "albuterol",
    "lignocaine": "lidocaine", "frusemide": "furosemide", "ciclosporin": "cyclosporine",
}  # fmt: skip
TOXICITY_CUE = re.compile(r"\b(?:\w*toxic\w*|tox21|poison\w*|harmful|dangerous|safe(?:ty)?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Drug:
    drugbank_id: str
    name: str
    inchi: str


@lru_cache(maxsize=2)
def _table(path: str) -> dict[str, Drug]:
    drugs: dict[str, Drug] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("inchi"):
                drugs[row["name"].lower()] = Drug(row["drugbank_id"], row["name"], row["inchi"])
    return drugs


def known_drugs() -> dict[str, Drug]:
    """Lower-case name -> drug; empty when the table is not in the data directory."""
    path = get_settings().data_dir / TABLE
    return _table(str(path)) if path.is_file() else {}


def lookup(name: str) -> Drug | None:
    key = name.strip().lower()
    drugs = known_drugs()
    return drugs.get(SYNONYMS.get(key, key))


def find_named_drug(question: str) -> str | None:
    """The first DrugBank name or synonym in the question (two-word names first)."""
    words = [w.strip(".,;:?!()\"'").lower() for w in question.split()]
    drugs = known_drugs()
    if not drugs:
        return None
    for size in (2, 1):
        for i in range(len(words) - size + 1):
            candidate = " ".join(words[i : i + size])
            if len(candidate) > 3 and (candidate in drugs or candidate in SYNONYMS):
                return candidate
    return None


@lru_cache(maxsize=2)
def _by_inchikey(path: str) -> dict[str, Drug]:
    """InChIKey -> drug, and its connectivity block (stereo and charge aside) where only one drug has it."""
    from rdkit import Chem

    full = {Chem.InchiToInchiKey(d.inchi): d for d in _table(path).values()}
    blocks: dict[str, list[Drug]] = {}
    for key, drug in full.items():
        blocks.setdefault(key[:14], []).append(drug)
    return full | {block: drugs[0] for block, drugs in blocks.items() if len(drugs) == 1}


def drug_of_structure(smiles: str) -> Drug | None:
    """The DrugBank drug a SMILES is (largest fragment, by InChIKey), so a structure in a question can
    reach what is known under the drug's name: its labelled side effects."""
    from rdkit import Chem, RDLogger

    path = get_settings().data_dir / TABLE
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None or not path.is_file():
        return None
    largest = max(Chem.GetMolFrags(molecule, asMols=True), key=lambda m: m.GetNumHeavyAtoms())
    key = Chem.MolToInchiKey(largest)
    index = _by_inchikey(str(path))
    return index.get(key) or index.get(key[:14])


def to_smiles(inchi: str) -> str | None:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    molecule = Chem.MolFromInchi(inchi)
    return Chem.MolToSmiles(molecule) if molecule is not None else None


def structure(drug: str) -> tuple[Drug, str]:
    """The DrugBank entry for a name or synonym and its SMILES; InputError says why there is none."""
    found = lookup(drug)
    if found is None:
        raise InputError(f"no structure known for {drug!r} (DrugBank approved small molecules)")
    smiles = to_smiles(found.inchi)
    if smiles is None:
        raise InputError(f"the DrugBank InChI of {found.name} could not be read by RDKit")
    return found, smiles


def predict(smiles: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The toxicity capability's answer for one structure, through core.tools: (whole output, result)."""
    try:
        tool = get_tool("toxicity.predict")
    except KeyError:
        raise InputError("the toxicity capability is not installed, so no prediction was made") from None
    prediction = tool.call(None, {"smiles": smiles})  # not tenant-scoped: needs no caller
    return prediction, (prediction.get("results") or [{}])[0]


def toxicity_by_name(drug: str) -> dict[str, Any]:
    """Agent tool: resolve the name to a DrugBank structure, then ask the toxicity capability."""
    found, smiles = structure(drug)
    prediction, result = predict(smiles)
    return {
        "drug": found.name,
        "drugbank_id": found.drugbank_id,
        "smiles": smiles,
        "fact": _fact(found, result),
        "model": prediction.get("model"),
        "prediction": result,
    }


def _fact(drug: Drug, result: dict[str, Any]) -> str:
    probabilities = result.get("probabilities") or {}
    if not probabilities:
        return f"toxicity model: no prediction for {drug.name} ({result.get('error') or 'no result'})"
    top = sorted(probabilities.items(), key=lambda kv: -kv[1])[:3]
    domain = result.get("applicability_domain") or {}
    inside = domain.get("in_domain")
    where = "unknown to" if inside is None else "inside" if inside else "outside"
    listed = ", ".join(f"{k} {v:.2f}" for k, v in top)
    active = ", ".join((result.get("overall") or {}).get("active_assays") or []) or "none"
    return (
        f"{drug.name} ({drug.drugbank_id}, structure from DrugBank): {measured_note(result)}highest Tox21 "
        f"probabilities {listed} (predicted active: {active}); {where} the model's applicability domain. "
        "Tox21 assays are in-vitro pathway screens, not a measure of toxicity in patients."
    )


def measured_note(result: dict[str, Any]) -> str:
    """What Tox21 measured, when the drug is one of the model's training compounds: that outweighs a
    prediction fitted on it."""
    measured = (result.get("read_across") or {}).get("measured")
    if not measured:
        return ""
    return (
        f"{measured}; the model was trained on these outcomes, so what follows is not an independent "
        "prediction: "
    )


def register() -> None:
    register_tool(
        "agents.toxicity_by_name",
        "Toxicity of a drug named in the question: DrugBank structure (InChI to RDKit) then the Tox21 "
        "toxicity model; hepatotoxic, toxic, cardiotoxic, safety of a compound by name",
        toxicity_by_name,
        input_schema={
            "type": "object",
            "properties": {"drug": {"type": "string", "maxLength": 200}},
            "required": ["drug"],
            "additionalProperties": False,
        },
    )
