"""Labelled side effects of a drug (SIDER 4.1 via Hetionet's `CcSE` edges), a citable source for
"does X cause Y?" and "is X hepatotoxic?".

Read in place from the data directory (`evidence/hetionet/edges-CcSE.tsv.gz` and the node names), never
copied into the repository. A side effect listed on a label is not a measured rate or a causal estimate;
the fact says so. Drug names resolve through the same DrugBank table as toxicity by name.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.agents.drug_classes import DrugClass, drug_class, members, named_class
from hygeia.agents.drugs import find_named_drugs, lookup
from hygeia.agents.spelling import misspelt_drug
from hygeia.core.errors import InputError
from hygeia.core.tools import register_tool
from hygeia.settings import get_settings

FOLDER = Path("evidence") / "hetionet"
EFFECT_CUE = re.compile(
    r"\bcause[sd]?\b|\bside[- ]effects?\b|\badverse (?:effects?|reactions?|events?)\b|\w*toxic\w*"
    r"|\binduced?\b|\bteratogen\w*|\bassociated with\b|\blinked (?:to|with)\b"
    r"|\bprolong\w* (?:the )?qtc?\b|\bqtc?(?: interval)? prolong\w*",  # "Does erythromycin prolong the QT?"
    re.IGNORECASE,
)
STEM = 5  # "hepatotoxic", "hepatic" and "hepatitis" share "hepat"; "rhabdomyolysis" is "rhabd"
GENERIC_STEMS = """failu disor disea syndr incre decre abnor injur infec react acute chron sever cause cases
effec induc upper lower funct tract level count total condi probl risks devel letha fatal medic drugs
treat patie child adult elder older women human peopl takin doses dosag commo often reall known toxic
damag assoc linke likel which highe great safer worse bette rates adver event"""
# name no effect on their own: "renal failure" is not any failure, and "more likely" or "which drug has a
# higher risk" compare drugs, whose labels are looked up one by one
GENERIC = frozenset(GENERIC_STEMS.split())
SHORT_ORGANS = {  # organ words under five letters, and "lungs", which the labels call pulmonary
    "lung": "pulmo", "lungs": "pulmo", "skin": "skin", "bone": "bone", "bones": "bone", "eye": "eye",
    "eyes": "eye",
}  # fmt: skip
HARM = re.compile(r"toxic|damag|injur|poison", re.IGNORECASE)  # asked about harm: effects naming it first
LESION = re.compile(r"necros|failure(?! to)|pathy|lysis|itis", re.IGNORECASE)  # then effects naming a lesion
ORGAN_ROOTS = {  # an organ the labels name by a Greek root: "muscle damage" is Myopathy, Rhabdomyolysis
    "muscl": ("myopath", "myosit", "myalg", "rhabdomyol"), "pulmo": ("pneumon",),
    "neuro": ("neurit",), "cardi": ("myocard",), "joint": ("arthr",),
    "terat": ("congenit", "malform"),  # "teratogenic": Teratogenicity, Congenital anomaly
    "pain": ("algia",),  # "muscle pain": Myalgia; "joint pain": Arthralgia
    "glyca": ("glycaem", "glucose"),  # "blood sugar" (LAY_TERMS): Hyperglycaemia, Blood glucose increased
}  # fmt: skip
# the labels' (MedDRA's) British spelling, so "hyperglycemia" is the labels' own word "Hyperglycaemia"
BRITISH = (
    (re.compile(r"(?<=[a-z])(?<!a)emia\b"), "aemia"), (re.compile(r"rrhea\b"), "rrhoea"),
    (re.compile(r"\bedema\b"), "oedema"), (re.compile(r"\bhem(?=[ao])"), "haem"),
    (re.compile(r"(?<!a)esthesi"), "aesthesi"), (re.compile(r"\besophag"), "oesophag"),
    (re.compile(r"\btumor"), "tumour"), (re.compile(r"\bischem"), "ischaem"),
    (re.compile(r"\bestrogen"), "oestrogen"), (re.compile(r"\bfet(?=al\b|us\b)"), "foet"),
)  # fmt: skip
LIST_SEPARATOR = re.compile(r"\s*(?:[,;]|\band/or\b|\bor\b|\band\b)\s*")  # effects a question lists
LAY_TERMS = (  # plain phrases -> the labels' words
    (re.compile(r"\bblood (?:sugar|glucose)\b"), "glycaemia"),
    (re.compile(r"\bhair loss\b|\blos(?:e|ing) (?:my |their |your )?hair\b"), "alopecia"),
    (re.compile(r"\bqtc?(?: interval)?\b"), "qt"),  # the labels' "Electrocardiogram QT prolonged"
)
# asked for a drug's effects in general ("What are the side effects of ibuprofen?"): the answer is the list
LISTING = re.compile(r"\bside[- ]effects?\b|\badverse (?:effects?|reactions?|events?)\b", re.IGNORECASE)
# which effects such a list shows first: a grave outcome, then a lesion (LESION); a word rule, not a
# grading of seriousness, which the source does not give
GRAVE = re.compile(
    r"failure(?! to)|necros|haemorrh|hemorrh|infarct|perforat|arrest|anaphyla|agranulocyt|aplastic"
    r"|death|suicid|convuls|seizure",  # "Failure to thrive" names no organ failing
    re.IGNORECASE,
)
NOT_A_DRUG_EFFECT = re.compile(r"\bnormal\b|\btraumatic\b", re.IGNORECASE)  # "Liver function test normal"
SYNONYMS = {  # plain and Latin/Greek organ words -> the stem the labels (MedDRA terms) use
    "liver": "hepat", "kidne": "renal", "nephr": "renal", "heart": "cardi", "bleed": "haemo",
    "hemor": "haemo", "stoma": "gastr", "anemi": "anaem", "leuko": "leuco", "nerve": "neuro",
    "hives": "urtic", "itchi": "pruri", "itchy": "pruri", "itch": "pruri",
}  # fmt: skip
# SIDER's one-word effect terms under five letters, which a five-letter stem would never reach ("Can
# ibuprofen cause rash?"), "itch" (SYNONYMS: Pruritus) and "qt" (Electrocardiogram QT prolonged); read
# whole, and from plurals ("rashes")
SHORT_EFFECTS = frozenset({
    "ache", "acne", "aura", "burn", "coma", "cyst", "fall", "fear", "gas", "gout", "itch", "mass", "pain",
    "qt", "rage", "rash", "scab", "scar", "tic",
})  # fmt: skip
SHOWN = 8
BASIS_SHOWN = 3
LOWER = r"\b(?:decreas\w*|loss|lose|losing|reduc\w*|lower\w*|low|drops?|fall\w*)\b"
HIGHER = r"\b(?:increas\w*|gain\w*|rais\w*|elevat\w*|high\w*|rises?|rising)\b"
OPPOSITE_DIRECTION = {  # a direction word of an effect's name -> the question's words for the other one
    "increas": LOWER, "decreas": HIGHER, "hyper": LOWER, "hypo": HIGHER,
}  # fmt: skip


@lru_cache(maxsize=2)
def _side_effects(folder: str) -> dict[str, list[str]]:
    """DrugBank id -> side-effect names."""
    names: dict[str, str] = {}
    with open(Path(folder) / "hetionet-v1.0-nodes.tsv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["kind"] == "Side Effect":
                names[row["id"]] = row["name"]
    by_drug: dict[str, list[str]] = {}
    with gzip.open(Path(folder) / "edges-CcSE.tsv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            by_drug.setdefault(row["source"].removeprefix("Compound::"), []).append(names[row["target"]])
    return by_drug


def side_effects_of(drugbank_id: str) -> list[str]:
    folder = get_settings().data_dir / FOLDER
    if not (folder / "edges-CcSE.tsv.gz").is_file():
        raise InputError("the SIDER side-effect table (Hetionet CcSE edges) is not in the data directory")
    return sorted(_side_effects(str(folder)).get(drugbank_id, []))


def matching(effects: list[str], query: str, names: tuple[str, ...]) -> list[str]:
    """Side effects the question names: the effect and the question (less the drug's `names`) share a
    specific word stem, not only a generic one ("Cardiac failure" is not "acute liver failure"), and
    the effect's direction does not contradict the question's ("Weight decreased" is not "weight gain")."""
    lowered, asked = query.lower(), asked_stems(query, names)
    return [
        e
        for e in effects
        if effect_stems(e) & asked and not _opposed(e.lower(), lowered) and not NOT_A_DRUG_EFFECT.search(e)
    ]


def covering(named: list[str], query: str, names: tuple[str, ...]) -> list[str]:
    """The named effects that carry every specific stem the question asks about: the basis of a "yes"
    ("Myocardial infarction" for "acute myocardial infarction", not "Myocardial depression"). A stem is
    five letters, so where an effect holds the question's own word, effects spelling that stem with
    another word drop out ("Angioedema", not "Angiopathy", for angioedema; a stem reached through an
    organ's root or the labels' synonym keeps its effects). When the question asks about harm ("toxic to
    the lungs", "kidney damage"), effects that name it come first, then those naming a lesion (failure,
    necrosis, -pathy, -itis)."""
    asked = asked_stems(query, names)
    covered = [e for e in named if asked <= effect_stems(e)]
    for stem, words in _asked_words(query, names, asked).items():
        if any(words & _words(e) for e in covered):
            covered = [e for e in covered if words & _words(e) or stem not in {w[:STEM] for w in _words(e)}]
    if HARM.search(query):  # stable: alphabetical within each tier
        covered.sort(key=lambda e: 0 if HARM.search(e) else 1 if LESION.search(e) else 2)
    return covered


def listed_basis(named: list[str], query: str, names: tuple[str, ...]) -> list[str]:
    """`covering` for each effect a question lists ("rash or hives", "nausea and vomiting"): with "or"
    one of them labelled is a basis, with "and" or a comma list every one must be; one effect asked
    about is `covering` itself."""
    parts = [part for part in LIST_SEPARATOR.split(asked_text(query, names)) if asked_stems(part, ())]
    if len(parts) < 2:
        return covering(named, query, names)
    covered = [covering(named, part, names) for part in parts]
    if not re.search(r"\bor\b", query, re.IGNORECASE) and not all(covered):
        return []
    return list(dict.fromkeys(effect for effects in covered for effect in effects))


def _words_in_order(text: str) -> list[str]:
    return re.findall("[a-z]+", text.lower())


def _words(text: str) -> set[str]:
    return set(_words_in_order(text))


def _asked_words(query: str, names: tuple[str, ...], asked: set[str]) -> dict[str, set[str]]:
    """Asked stem -> the question's words that spell it literally (not through a synonym)."""
    spelled: dict[str, set[str]] = {}
    for word in _words(asked_text(query, names)):
        if len(word) >= STEM and word[:STEM] in asked:
            spelled.setdefault(word[:STEM], set()).add(word)
    return spelled


def asked_text(query: str, names: tuple[str, ...]) -> str:
    """The question as the labels would word it: without the drugs' names, in British spelling, plain
    phrases in the labels' words ("blood sugar" -> glycaemia)."""
    text = query.lower()
    for name in names:
        text = text.replace(name.lower(), " ")
    for pattern, replacement in (*BRITISH, *LAY_TERMS):
        text = pattern.sub(replacement, text)
    return text


def asked_stems(query: str, names: tuple[str, ...]) -> set[str]:
    return word_stems(asked_text(query, names)) - GENERIC


def effect_stems(effect: str) -> set[str]:
    """An effect's word stems, plus the organ its Greek root names ("Rhabdomyolysis" is a muscle effect)."""
    lowered = effect.lower()
    organs = {organ for organ, roots in ORGAN_ROOTS.items() if any(root in lowered for root in roots)}
    return word_stems(lowered) | organs


def word_stems(text: str) -> set[str]:
    """First five letters of each 5+ letter word, a few short organ and effect words whole, organ and
    plain words folded onto the labels' terms ("lungs" -> pulmonary, "liver" -> hepatic, "hives" ->
    urticaria)."""
    stems = {stem for word in re.findall("[a-z]+", text) if (stem := _stem(word))}
    return {SYNONYMS.get(stem, stem) for stem in stems}


def _stem(word: str) -> str | None:
    if word in SHORT_ORGANS:
        return SHORT_ORGANS[word]
    singular = (word, word[:-1], word[:-2]) if word.endswith("s") else (word,)
    short = next((w for w in singular if w in SHORT_EFFECTS), None)
    return short or (word[:STEM] if len(word) >= STEM else None)


def _opposed(effect: str, question: str) -> bool:
    return any(
        stem in effect and stem not in question and re.search(opposite, question)
        for stem, opposite in OPPOSITE_DIRECTION.items()
    )


def side_effect_lookup(drug: str, query: str = "") -> dict[str, Any]:
    """Agent tool: the drug's labelled side effects, and which of them the question names."""
    found = lookup(drug)
    group = drug_class(drug) if found is None else None
    if group is not None:
        return class_side_effects(group, query)
    if found is None:
        raise InputError(f"no DrugBank entry known for {drug!r}, so no side effects can be looked up")
    effects = side_effects_of(found.drugbank_id)
    # every drug the query names is no effect asked about: a comparison's other drug, the drug of the
    # question a follow-up ("And for naproxen?") is searched with, or the drug as misspelt
    misspelt = misspelt_drug(query)
    names = (drug, found.name, *find_named_drugs(query, limit=10), *(misspelt[:1] if misspelt else ()))
    named = matching(effects, query, names)
    basis_effects = listed_basis(named, query, names)
    asked = bool(asked_stems(query, names))
    verdict = {}
    if not effects:
        fact = (
            f"SIDER 4.1 (via Hetionet) has no entry for {found.name}: absence there is not evidence of safety"
        )
    elif not asked:
        fact = _listing(found.name, effects)
    elif named:  # only the effects that carry every word asked, when there are such
        listed = ", ".join(basis_effects or named)
        fact = (
            f"SIDER 4.1 (via Hetionet CcSE) lists {listed} among the {len(effects)} labelled side "
            f"effects of {found.name}{_unnamed(named, query, names)} (drug labels: listed, not a rate or "
            "proof of causation)"
        )
        if basis_effects:
            verdict = {"verdict": {"label": "yes", "basis": _basis(found.name, basis_effects)}}
    else:
        fact = (
            f"SIDER 4.1 (via Hetionet CcSE) lists {len(effects)} labelled side effects for {found.name}; "
            f"none matches the question's terms (e.g. {', '.join(effects[:SHOWN])})"
        )
    answers = bool(verdict) or (bool(effects) and not asked and bool(LISTING.search(query)))
    return {"drug": found.name, "drugbank_id": found.drugbank_id, "asks_about_effect": asked,
            "named_in_question": named, "n_side_effects": len(effects), "side_effects": effects,
            "fact": fact, "answers": answers, **verdict}  # fmt: skip


def class_side_effects(group: DrugClass, query: str) -> dict[str, Any]:
    """A drug class's labelled effects, drug by drug, since labels are per drug: "yes" when the labels of
    any of its drugs list what the question names, said as how many of those with a SIDER entry do."""
    drugs = members(group)
    if not drugs:
        raise InputError(f"no drugs of the {group.name} are in the DrugBank structures table")
    said = named_class(query)
    names = (group.name, *((said[1],) if said else ()), *find_named_drugs(query, limit=10))
    by_drug = {d.name: side_effects_of(d.drugbank_id) for d in drugs}
    listed = {name: effects for name, effects in by_drug.items() if effects}
    asked = bool(asked_stems(query, names))
    named = {name: matching(effects, query, names) for name, effects in listed.items()} if asked else {}
    basis = {name: listed_basis(effects, query, names) for name, effects in named.items()}
    labelled = {name: effects for name, effects in basis.items() if effects}
    unlisted = [d.name for d in drugs if d.name not in listed]
    missing = f"; no SIDER entry: {', '.join(unlisted)}" if unlisted else ""
    of = f"the {len(listed)} {group.phrase()} with a SIDER entry (of {len(drugs)} in DrugBank)"
    verdict = {}
    if not listed:
        fact = f"SIDER 4.1 (via Hetionet) has no entry for any of the {len(drugs)} {group.phrase()}"
    elif not asked:
        fact = _class_listing(group, listed, len(drugs)) + missing
    elif labelled:
        shown = "; ".join(
            f"{name} ({', '.join(e[:BASIS_SHOWN])})" for name, e in list(labelled.items())[:SHOWN]
        )
        shown += f"; and {len(labelled) - SHOWN} more (in this result)" if len(labelled) > SHOWN else ""
        others = [name for name in listed if name not in labelled]
        fact = (
            f"SIDER 4.1 (via Hetionet CcSE): the drug labels of {len(labelled)} of {of} list effects the "
            f"question names: {shown}"
            + (f"; not listed for {', '.join(others)}" if others else "")
            + f"{missing} (drug labels: listed, not a rate or proof of causation)"
        )
        effects = ", ".join(_most_listed(labelled)[:BASIS_SHOWN])
        basis_text = (
            f"the drug labels of {len(labelled)} of {of} list {effects} (SIDER 4.1): labelled for those "
            "drugs, not a rate or proof of causation"
        )
        verdict = {"verdict": {"label": "yes", "basis": basis_text}}
    else:
        fact = f"SIDER 4.1 (via Hetionet CcSE): the labels of none of {of} list an effect the question names"
        fact += missing
    named_effects = sorted({e for effects in named.values() for e in effects})
    answers = bool(verdict) or (bool(listed) and not asked and bool(LISTING.search(query)))
    n_effects = len({e for effects in listed.values() for e in effects})
    return {"drug": group.name, "drug_class": group.name, "atc": list(group.atc),
            "members": [d.name for d in drugs], "asks_about_effect": asked,
            "named_in_question": named_effects, "n_side_effects": n_effects, "side_effects_by_drug": listed,
            "fact": fact, "answers": answers, **verdict}  # fmt: skip


def _most_listed(by_drug: dict[str, list[str]]) -> list[str]:
    """Effects by how many drugs' labels list them, most first (alphabetical among equals)."""
    counts = Counter(e for effects in by_drug.values() for e in effects)
    return sorted(counts, key=lambda e: (-counts[e], e))


def _class_listing(group: DrugClass, listed: dict[str, list[str]], n_drugs: int) -> str:
    """The effects on most of a class's labels; among those on as many, a grave outcome, then a lesion
    first, as `_listing` orders one drug's."""
    counts = Counter(e for effects in listed.values() for e in effects if not NOT_A_DRUG_EFFECT.search(e))
    ranked = sorted(counts, key=lambda e: (-counts[e], _tier(e), e))
    common = ", ".join(f"{e} ({counts[e]})" for e in ranked[:SHOWN])
    return (
        f"SIDER 4.1 (via Hetionet CcSE) lists {len(counts)} labelled side effects for {len(listed)} of the "
        f"{n_drugs} {group.phrase()} (drug labels: listed, not a rate or proof of causation); those on most "
        f"of their labels (number of drugs): {common}; each drug's list is in this result"
    )


def _listing(drug: str, effects: list[str]) -> str:
    """A drug's labelled effects when the question names none, those naming a grave outcome first, then
    a lesion (alphabetical within each; the source grades neither seriousness nor frequency)."""
    tiers = {e: _tier(e) for e in effects}
    ranked = sorted((e for e in effects if not NOT_A_DRUG_EFFECT.search(e)), key=tiers.__getitem__)
    grave = sum(tiers[e] < 2 for e in ranked)
    which = f"{grave} name a grave outcome or a lesion (a word rule), first:" if grave else "e.g."
    return (
        f"SIDER 4.1 (via Hetionet CcSE) lists {len(effects)} labelled side effects for {drug} (drug labels: "
        f"listed, not a rate or proof of causation); {which} {', '.join(ranked[:SHOWN])}; the full list is "
        "in this result"
    )


def _tier(effect: str) -> int:
    return 0 if GRAVE.search(effect) else 1 if LESION.search(effect) else 2


def _unnamed(named: list[str], query: str, names: tuple[str, ...]) -> str:
    """', none naming "lactic" as asked' when the listed effects carry only part of the question's words
    (Metformin's labels list Acidosis; the question asked about lactic acidosis)."""
    carried = set().union(*(effect_stems(e) for e in named))
    missing = asked_stems(query, names) - carried
    words = [w for w in dict.fromkeys(_words_in_order(asked_text(query, names))) if word_stems(w) & missing]
    return f", none naming {', '.join(repr(w) for w in words)} as asked" if words else ""


def _basis(drug: str, effects: list[str]) -> str:
    shown, rest = effects[:BASIS_SHOWN], len(effects) - BASIS_SHOWN
    more = f" and {rest} more of the effects the question names" if rest > 0 else ""
    listed = f"{drug}'s drug labels list {', '.join(shown)}{more} (SIDER 4.1)"
    return f"{listed}: labelled, not a rate or proof of causation"


def register() -> None:
    register_tool(
        "agents.side_effects",
        "Labelled side effects of a drug (SIDER via Hetionet): does a drug cause an adverse effect",
        side_effect_lookup,
        input_schema={
            "type": "object",
            "properties": {"drug": {"type": "string", "maxLength": 200}, "query": {"type": "string"}},
            "required": ["drug"],
            "additionalProperties": False,
        },
    )
