"""Drug classes named in questions ("Do fluoroquinolones cause tendon rupture?", "Is there a signal for
statins and rhabdomyolysis?"), resolved to the drugs of the DrugBank structures table by the WHO ATC
codes DrugBank 4.2 records for them (`atc_codes` of `evidence/drugbank-structures/drugbank-slim.tsv`,
read in place).

A class is what the ATC classification calls it, at the level that names it (statins are C10AA,
"HMG CoA reductase inhibitors"); the words are how a question names it. Membership is by code, not by
name stem, so pitavastatin is a statin and nystatin is not. A few codes DrugBank 4.2 files under the
wrong drug are left out (`MISFILED`): a level-5 code names one substance, and these name another one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from hygeia.agents.drugs import TABLE, Drug, known_drugs
from hygeia.settings import get_settings


@dataclass(frozen=True)
class DrugClass:
    name: str  # plural, as answers name it
    atc: tuple[str, ...]  # code prefixes of its members
    words: tuple[str, ...]  # singular ways a question names it (lower case, spaces for hyphens)
    except_atc: tuple[str, ...] = ()  # code prefixes within `atc` that are not the class

    def phrase(self) -> str:
        return f"{self.name} (ATC {', '.join(self.atc)})"


CLASSES = (
    DrugClass("statins", ("C10AA",), ("statin", "hmg coa reductase inhibitor")),
    DrugClass("fluoroquinolones", ("J01MA",), ("fluoroquinolone", "quinolone antibiotic")),
    DrugClass("quinolones", ("J01M",), ("quinolone",)),
    DrugClass("beta blockers", ("C07A",), ("beta blocker", "beta adrenergic blocker")),
    DrugClass("ACE inhibitors", ("C09AA",), ("ace inhibitor", "angiotensin converting enzyme inhibitor")),
    DrugClass("angiotensin receptor blockers", ("C09CA",), (
        "angiotensin receptor blocker", "angiotensin ii receptor blocker",
        "angiotensin ii receptor antagonist",
        "arb", "sartan",
    )),
    DrugClass("NSAIDs", ("M01A",), (
        "nsaid", "non steroidal anti inflammatory drug", "nonsteroidal anti inflammatory drug",
    )),
    DrugClass("COX-2 inhibitors", ("M01AH",), ("cox 2 inhibitor", "coxib")),
    DrugClass("proton pump inhibitors", ("A02BC",), ("proton pump inhibitor", "ppi")),
    DrugClass("SSRIs", ("N06AB",), ("ssri", "selective serotonin reuptake inhibitor")),
    DrugClass("tricyclic antidepressants", ("N06AA",), ("tricyclic antidepressant", "tricyclic")),
    DrugClass("MAO inhibitors", ("N06AF",), ("maoi", "mao inhibitor", "monoamine oxidase inhibitor")),
    DrugClass("benzodiazepines", ("N05BA", "N05CD", "N03AE"), ("benzodiazepine",)),
    DrugClass("opioids", ("N02A",), ("opioid", "opiate")),
    DrugClass("bisphosphonates", ("M05BA",), ("bisphosphonate",)),
    DrugClass("sulfonylureas", ("A10BB",), ("sulfonylurea", "sulphonylurea")),
    DrugClass("DPP-4 inhibitors", ("A10BH",), ("dpp 4 inhibitor", "dpp4 inhibitor", "gliptin")),
    DrugClass("thiazolidinediones", ("A10BG",), ("thiazolidinedione", "glitazone")),
    DrugClass("thiazide diuretics", ("C03AA",), ("thiazide", "thiazide diuretic")),
    DrugClass("loop diuretics", ("C03CA",), ("loop diuretic",)),
    DrugClass("calcium channel blockers", ("C08",), ("calcium channel blocker", "calcium antagonist", "ccb")),
    DrugClass("tetracyclines", ("J01AA",), ("tetracyclines", "tetracycline antibiotic")),
    DrugClass("macrolides", ("J01FA",), ("macrolide",)),
    DrugClass("penicillins", ("J01CA", "J01CE", "J01CF"), ("penicillin", "penicillin antibiotic")),
    DrugClass("cephalosporins", ("J01DB", "J01DC", "J01DD", "J01DE"), ("cephalosporin",)),
    DrugClass("carbapenems", ("J01DH",), ("carbapenem",)),
    DrugClass("aminoglycosides", ("J01GB",), ("aminoglycoside",)),
    DrugClass("triptans", ("N02CC",), ("triptan",)),
    DrugClass("antipsychotics", ("N05A",), ("antipsychotic", "neuroleptic"), except_atc=("N05AN",)),  # Li
    DrugClass("systemic glucocorticoids", ("H02AB",), ("glucocorticoid", "corticosteroid")),
    DrugClass("vitamin K antagonists", ("B01AA",), ("vitamin k antagonist", "coumarin anticoagulant")),
    DrugClass("direct oral anticoagulants", ("B01AF", "B01AE07"), ("direct oral anticoagulant", "doac")),
    DrugClass("antiepileptics", ("N03A",), ("antiepileptic", "anticonvulsant")),
    DrugClass("aromatase inhibitors", ("L02BG",), ("aromatase inhibitor",)),
    DrugClass("protein kinase inhibitors", ("L01XE",), (
        "protein kinase inhibitor", "kinase inhibitor", "tyrosine kinase inhibitor", "tki",
    )),
    DrugClass("platinum compounds", ("L01XA",), ("platinum compound", "platinum drug", "platinum agent")),
    DrugClass("anthracyclines", ("L01DB",), ("anthracycline",)),
    DrugClass("antihistamines", ("R06A",), ("antihistamine", "h1 antihistamine", "h1 blocker")),
)  # fmt: skip
MISFILED = frozenset({  # (drug, code) pairs in DrugBank 4.2 whose code names another substance
    ("Loratadine", "C09AA03"),  # lisinopril's code
    ("Cyclophosphamide", "L01DB07"),  # mitoxantrone's
    ("Procaine", "J01CE09"),  # procaine benzylpenicillin, a salt of penicillin, not procaine itself
    ("N-Acetyl-D-glucosamine", "M01AX05"),  # glucosamine, not an anti-inflammatory drug
})  # fmt: skip


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    words = sorted({w for group in CLASSES for w in group.words}, key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", "[ -]+") for w in words)
    return re.compile(rf"\b(?:{alternatives})s?\b", re.IGNORECASE)


def named_class(question: str) -> tuple[DrugClass, str] | None:
    """The first drug class the question names, and the words it used ("Beta-blockers")."""
    match = _pattern().search(question)
    group = drug_class(match.group(0)) if match else None
    return (group, match.group(0)) if group and match else None


def drug_class(name: str) -> DrugClass | None:
    """The class a name is: its display name ("statins") or a way a question names it ("Beta-blockers")."""
    key = re.sub(r"[ -]+", " ", name.strip().lower())
    return next(
        (c for c in CLASSES if key == c.name.lower() or key in c.words or key.removesuffix("s") in c.words),
        None,
    )


@lru_cache(maxsize=2)
def _codes(path: str) -> dict[str, tuple[str, ...]]:
    """DrugBank id -> ATC codes, less the misfiled ones."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {
        row["drugbank_id"]: tuple(
            code
            for code in (row.get("atc_codes") or "").split("|")
            if code and (row["name"], code) not in MISFILED
        )
        for row in rows
    }


def members(group: DrugClass) -> list[Drug]:
    """The structures table's drugs in the class, by name; empty without the table."""
    path = get_settings().data_dir / TABLE
    if not path.is_file():
        return []
    codes = _codes(str(path))
    found = [
        drug
        for drug in known_drugs().values()
        if any(
            c.startswith(group.atc) and not c.startswith(group.except_atc)
            for c in codes.get(drug.drugbank_id, ())
        )
    ]
    return sorted(found, key=lambda d: d.name.lower())
