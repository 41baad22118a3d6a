"""Drug names to structures, so "Is acetaminophen hepatotoxic?" can reach the toxicity model.

Names come from the DrugBank structures table in the data directory (`evidence/drugbank-structures/
drugbank-slim.tsv`, CC BY-NC 4.0; read in place, never copied into the repository), plus a few common
synonyms (US/INN names) that DrugBank 4.2 files under the other name, common US brand names
(`BRAND_NAMES`: "Lipitor" is atorvastatin; the answer says so), plus the vocabulary's synonyms
of those drugs ("valproate"; unambiguous, five or more characters, no all-capital abbreviations). A
structure is the table's InChI,
turned into SMILES by RDKit. The DrugBank vocabulary (`evidence/drugbank-vocabulary/`) names some
13,000 more compounds by InChIKey only, many of them industrial and environmental chemicals Tox21
tested (bisphenol A): their structure is Tox21's own record of that InChIKey (`toxicity.tox21_record`),
and a name with neither is "no structure known". A compound the model does not score (a metal complex
such as cisplatin) still gets what Tox21 measured for it, from the same record. The tool calls the
toxicity capability through `hygeia.core.tools` only.
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
VOCABULARY = Path("evidence") / "drugbank-vocabulary" / "drugbank_vocabulary.csv"
OUT_OF_SCOPE = ("disallowed_element", "inorganic")  # the toxicity model's codes for chemistry it refuses
SYNONYMS = {  # name in questions -> DrugBank 4.2 name
    "paracetamol": "acetaminophen", "tylenol": "acetaminophen", "aspirin": "acetylsalicylic acid",
    "adrenaline": "epinephrine", "noradrenaline": "norepinephrine", "salbutamol": "albuterol",
    "lignocaine": "lidocaine", "frusemide": "furosemide", "ciclosporin": "cyclosporine",
}  # fmt: skip
BRAND_NAMES = {  # US brand name -> DrugBank 4.2 name (single-ingredient products; checked in tests)
    "lipitor": "atorvastatin", "zocor": "simvastatin", "crestor": "rosuvastatin",
    "pravachol": "pravastatin", "advil": "ibuprofen", "motrin": "ibuprofen", "aleve": "naproxen",
    "naprosyn": "naproxen", "voltaren": "diclofenac", "celebrex": "celecoxib", "vioxx": "rofecoxib",
    "glucophage": "metformin", "januvia": "sitagliptin", "actos": "pioglitazone",
    "avandia": "rosiglitazone", "prozac": "fluoxetine", "zoloft": "sertraline", "paxil": "paroxetine",
    "celexa": "citalopram", "lexapro": "escitalopram", "effexor": "venlafaxine", "cymbalta": "duloxetine",
    "wellbutrin": "bupropion", "coumadin": "warfarin", "plavix": "clopidogrel", "eliquis": "apixaban",
    "xarelto": "rivaroxaban", "pradaxa": "dabigatran etexilate", "nexium": "esomeprazole",
    "prilosec": "omeprazole", "protonix": "pantoprazole", "synthroid": "levothyroxine",
    "lasix": "furosemide", "norvasc": "amlodipine", "zestril": "lisinopril", "prinivil": "lisinopril",
    "lopressor": "metoprolol", "toprol": "metoprolol", "tenormin": "atenolol", "coreg": "carvedilol",
    "cozaar": "losartan", "diovan": "valsartan", "lanoxin": "digoxin", "aldactone": "spironolactone",
    "neurontin": "gabapentin", "lyrica": "pregabalin", "xanax": "alprazolam", "valium": "diazepam",
    "ativan": "lorazepam", "ambien": "zolpidem", "cipro": "ciprofloxacin", "levaquin": "levofloxacin",
    "zithromax": "azithromycin", "flagyl": "metronidazole", "viagra": "sildenafil",
    "seroquel": "quetiapine", "abilify": "aripiprazole", "zyprexa": "olanzapine",
    "risperdal": "risperidone", "haldol": "haloperidol", "singulair": "montelukast",
    "accutane": "isotretinoin", "lamictal": "lamotrigine", "tegretol": "carbamazepine",
    "dilantin": "phenytoin", "depakote": "valproic acid", "nolvadex": "tamoxifen", "gleevec": "imatinib",
    "fosamax": "alendronate", "zyrtec": "cetirizine", "claritin": "loratadine",
    "benadryl": "diphenhydramine", "ultram": "tramadol", "oxycontin": "oxycodone", "zantac": "ranitidine",
    "pepcid": "famotidine", "imitrex": "sumatriptan", "flomax": "tamsulosin", "proscar": "finasteride",
    "valtrex": "valacyclovir", "tamiflu": "oseltamivir", "zofran": "ondansetron",
    "ritalin": "methylphenidate", "zyloprim": "allopurinol", "plaquenil": "hydroxychloroquine",
    "arava": "leflunomide", "imuran": "azathioprine", "prograf": "tacrolimus",
    "cellcept": "mycophenolate mofetil",
}  # fmt: skip
TOXICITY_CUE = re.compile(r"\b(?:\w*toxic\w*|tox21|poison\w*|harmful|dangerous|safe(?:ty)?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Drug:
    drugbank_id: str
    name: str
    inchi: str  # empty for a vocabulary entry, which DrugBank gives by InChIKey only
    inchikey: str = ""

    @property
    def key(self) -> str:
        """The standard InChIKey, from the InChI where DrugBank gives one."""
        if self.inchikey or not self.inchi:
            return self.inchikey
        from rdkit import Chem

        return str(Chem.InchiToInchiKey(self.inchi) or "")


@lru_cache(maxsize=2)
def _table(path: str) -> dict[str, Drug]:
    drugs: dict[str, Drug] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("inchi"):
                drugs[row["name"].lower()] = Drug(row["drugbank_id"], row["name"], row["inchi"])
    return drugs


@lru_cache(maxsize=2)
def _vocabulary(path: str, structured: frozenset[str]) -> dict[str, Drug]:
    """Lower-case common name -> entry, for compounds the structures table lacks (names shared by
    several entries are left out: a name must say which compound it is)."""
    entries: dict[str, list[Drug]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key, name = row.get("Standard InChI Key") or "", (row.get("Common name") or "").strip()
            if key and name and row["DrugBank ID"] not in structured:
                entries.setdefault(name.lower(), []).append(Drug(row["DrugBank ID"], name, "", key))
    return {name: found[0] for name, found in entries.items() if len(found) == 1}


@lru_cache(maxsize=2)
def _synonyms(path: str) -> dict[str, Drug]:
    """Lower-case synonym -> drug of the structures table, from the vocabulary's synonyms ("valproate"
    for Valproic acid): only synonyms naming one DrugBank entry, of five or more characters and not
    all capitals, so abbreviations (VPA, DPA) and short codes never bind a question's words."""
    by_id = {drug.drugbank_id: drug for drug in known_drugs().values()}
    owners: dict[str, set[str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for synonym in (row.get("Common name") or "", *(row.get("Synonyms") or "").split(" | ")):
                synonym = synonym.strip()
                if len(synonym) >= 5 and not synonym.isupper():
                    owners.setdefault(synonym.lower(), set()).add(row["DrugBank ID"])
    return {
        name: by_id[next(iter(ids))]
        for name, ids in owners.items()
        if len(ids) == 1 and next(iter(ids)) in by_id and re.fullmatch(r"[a-z][a-z0-9 \-]*", name)
    }


def known_drugs() -> dict[str, Drug]:
    """Lower-case name -> drug; empty when the table is not in the data directory."""
    path = get_settings().data_dir / TABLE
    return _table(str(path)) if path.is_file() else {}


def vocabulary_compounds() -> dict[str, Drug]:
    """Lower-case name -> compound DrugBank names by InChIKey only; empty without the vocabulary file."""
    path = get_settings().data_dir / VOCABULARY
    if not path.is_file():
        return {}
    return _vocabulary(str(path), frozenset(d.drugbank_id for d in known_drugs().values()))


def vocabulary_synonyms() -> dict[str, Drug]:
    """`_synonyms` of the vocabulary file; empty without it."""
    path = get_settings().data_dir / VOCABULARY
    if not path.is_file():
        return {}
    return _synonyms(str(path))


def drug_names() -> set[str]:
    """Every name a question may call a drug of the structures table by."""
    return known_drugs().keys() | SYNONYMS.keys() | BRAND_NAMES.keys() | vocabulary_synonyms().keys()


def lookup(name: str) -> Drug | None:
    key = name.strip().lower()
    key = SYNONYMS.get(key) or BRAND_NAMES.get(key) or key
    found = known_drugs().get(key) or vocabulary_synonyms().get(key)
    return found or vocabulary_compounds().get(key)


def find_named_drug(question: str) -> str | None:
    """The first DrugBank drug's name or synonym in the question (two-word names first), else the
    first compound of the vocabulary (three-word names first)."""
    words = [w.strip(".,;:?!()\"'").lower() for w in question.split()]
    drugs = known_drugs()
    if not drugs:
        return None
    for names, sizes in ((drug_names(), (2, 1)), (vocabulary_compounds(), (3, 2, 1))):
        for size in sizes:
            for i in range(len(words) - size + 1):
                candidate = " ".join(words[i : i + size])
                if len(candidate) > 3 and candidate in names:
                    return candidate
    return None


def find_named_drugs(question: str, limit: int = 3) -> list[str]:
    """Every DrugBank drug the question names (table names and synonyms, a two-word name first at each
    position), in order, one name per drug ("paracetamol or acetaminophen" is one): the drugs a
    comparison ("ibuprofen or naproxen?") asks about."""
    words = [w.strip(".,;:?!()\"'").lower() for w in question.split()]
    names = drug_names()
    found: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(words) and len(found) < limit:
        name = _name_at(words, i, names)
        drug = lookup(name) if name else None
        if drug is not None and drug.drugbank_id not in seen:
            found.append(name)
            seen.add(drug.drugbank_id)
        i += len(name.split()) if name else 1
    return found


def _name_at(words: list[str], i: int, names: set[str]) -> str:
    for size in (2, 1):
        candidate = " ".join(words[i : i + size])
        if i + size <= len(words) and len(candidate) > 3 and candidate in names:
            return candidate
    return ""


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
        raise InputError(f"no structure known for {drug!r} (no DrugBank structure or vocabulary name)")
    if not found.inchi:
        record = tox21_record(found.key)
        if record is None:
            raise InputError(
                f"no structure known for {drug!r}: DrugBank names it ({found.drugbank_id}) by InChIKey "
                "only, and Tox21 has no record of that InChIKey"
            )
        return found, str(record["smiles"])
    smiles = to_smiles(found.inchi)
    if smiles is None:
        raise InputError(f"the DrugBank InChI of {found.name} could not be read by RDKit")
    return found, smiles


def tox21_record(inchikey: str) -> dict[str, Any] | None:
    """Tox21's own record of this InChIKey (`toxicity.tox21_record`), or None."""
    try:
        tool = get_tool("toxicity.tox21_record")
    except KeyError:
        return None
    record = tool.call(None, {"inchikey": inchikey}) if inchikey else {}
    return record if record.get("found") else None


def record_of_refused(drug: Drug | None, result: dict[str, Any]) -> dict[str, Any] | None:
    """For a compound the model refuses as outside its chemistry: Tox21's own record of it, by the
    drug's InChIKey, else the one the prediction found for the SMILES. None for anything else."""
    if result.get("error_code") not in OUT_OF_SCOPE:
        return None
    return tox21_record(drug.key) if drug is not None and drug.key else result.get("tox21_record")


def predict(smiles: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The toxicity capability's answer for one structure, through core.tools: (whole output, result)."""
    try:
        tool = get_tool("toxicity.predict")
    except KeyError:
        raise InputError("the toxicity capability is not installed, so no prediction was made") from None
    prediction = tool.call(None, {"smiles": smiles})  # not tenant-scoped: needs no caller
    return prediction, (prediction.get("results") or [{}])[0]


def toxicity_by_name(drug: str) -> dict[str, Any]:
    """Agent tool: resolve the name to a DrugBank structure, then ask the toxicity capability. A drug
    class ("statins") has no one structure: the answer says so and names its drugs."""
    from hygeia.agents.drug_classes import drug_class, members  # it reads this module's table

    group = drug_class(drug) if lookup(drug) is None else None
    if group is not None:
        names = ", ".join(d.name for d in members(group))
        fact = (
            f"{group.phrase()} are a drug class ({names}): the Tox21 model scores one structure, so ask "
            "about one of them by name"
        )
        return {"drug": group.name, "drug_class": group.name, "fact": fact, "answers": False}
    found, smiles = structure(drug)
    prediction, result = predict(smiles)
    record = record_of_refused(found, result)
    return {
        "drug": found.name,
        "drugbank_id": found.drugbank_id,
        "smiles": smiles,
        "fact": _fact(found, result, record),
        "model": prediction.get("model"),
        "prediction": result,
        **({"tox21_record": record} if record else {}),
    }


def _fact(drug: Drug, result: dict[str, Any], record: dict[str, Any] | None = None) -> str:
    probabilities = result.get("probabilities") or {}
    if not probabilities:
        refused = f"toxicity model: no prediction for {drug.name} ({result.get('error') or 'no result'})"
        return f"{drug.name} ({drug.drugbank_id}): {record['fact']}. {refused}" if record else refused
    source = "DrugBank" if drug.inchi else "Tox21's record of DrugBank's InChIKey"
    top = sorted(probabilities.items(), key=lambda kv: -kv[1])[:3]
    where = domain_phrase(result) or "unknown to the model's applicability domain"
    listed = ", ".join(f"{k} {v:.2f}" for k, v in top)
    active = ", ".join((result.get("overall") or {}).get("active_assays") or []) or "none"
    return (
        f"{drug.name} ({drug.drugbank_id}, structure from {source}): {measured_note(result)}highest Tox21 "
        f"probabilities {listed} (predicted active: {active}); {where}. "
        "Tox21 assays are in-vitro pathway screens, not a measure of toxicity in patients."
    )


def domain_phrase(result: dict[str, Any]) -> str | None:
    """Where the molecule stands against the toxicity model's applicability domain and, because that
    line is soft, the scaffold-CV ROC-AUC of compounds as far from their training folds; None if unknown."""
    domain = result.get("applicability_domain")
    if not isinstance(domain, dict) or domain.get("in_domain") is None:
        return None
    where = "inside" if domain["in_domain"] else "outside"
    auc = domain.get("cv_roc_auc")
    ranked = f", CV ROC-AUC {auc:.2f} at this similarity" if isinstance(auc, float) else ""
    return f"{where} the model's applicability domain{ranked}"


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
