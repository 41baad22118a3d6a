"""Drug-name normalisation for FAERS: one name per active ingredient (set), whatever the label said.

FAERS `drugname` is free text ("LIPITOR 20MG TABLETS", "atorvastatin calcium."), while `prod_ai`
holds the FDA-coded active ingredient(s). We prefer prod_ai, upper-case, drop dose/strength text,
punctuation and (optionally) salt or ester words, and sort multi-ingredient products so that
"HYDROCODONE\\ACETAMINOPHEN" and "ACETAMINOPHEN\\HYDROCODONE BITARTRATE" become one name. Salt
stripping is what lets FAERS names meet ingredient-level vocabularies (RxNorm, OMOP reference sets).
"""

from __future__ import annotations

import re
from functools import lru_cache

SALT_WORDS = frozenset(
    [
        "ACETATE",
        "ANHYDROUS",
        "BESYLATE",
        "BESILATE",
        "BITARTRATE",
        "BROMIDE",
        "CALCIUM",
        "CHLORIDE",
        "CITRATE",
        "DIHYDRATE",
        "DIHYDROCHLORIDE",
        "DIPROPIONATE",
        "DISODIUM",
        "FUMARATE",
        "HCL",
        "HEMIHYDRATE",
        "HYCLATE",
        "HYDROBROMIDE",
        "HYDROCHLORIDE",
        "HYDRATE",
        "LACTATE",
        "MAGNESIUM",
        "MALEATE",
        "MESYLATE",
        "MESILATE",
        "MONOHYDRATE",
        "NITRATE",
        "OXALATE",
        "PHOSPHATE",
        "POTASSIUM",
        "PROPIONATE",
        "SODIUM",
        "SUCCINATE",
        "SULFATE",
        "SULPHATE",
        "TARTRATE",
        "TRIHYDRATE",
        "TROMETHAMINE",
    ]
)
FORM_WORDS = frozenset(
    [
        "TABLET",
        "TABLETS",
        "TAB",
        "TABS",
        "CAPSULE",
        "CAPSULES",
        "CAP",
        "CAPS",
        "INJECTION",
        "INJECTABLE",
        "SOLUTION",
        "SUSPENSION",
        "CREAM",
        "OINTMENT",
        "GEL",
        "PATCH",
        "SPRAY",
        "SYRUP",
        "DROPS",
        "ORAL",
        "TOPICAL",
        "INTRAVENOUS",
        "IV",
        "FILM-COATED",
        "COATED",
        "CHEWABLE",
        "EXTENDED-RELEASE",
        "ER",
        "XR",
        "SR",
        "CR",
        "DR",
        "PEN",
        "POWDER",
    ]
)
_DOSE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:MG|MCG|UG|G|KG|ML|L|IU|UNITS?|MEQ|MMOL|%)(?:\s*/\s*\d*(?:\.\d+)?\s*"
    r"(?:MG|MCG|G|ML|L|H|HR|DAY|DOSE|ACTUATION))?\b"
)
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_NAME = re.compile(r"[^A-Z0-9\- ]+")
_SPACES = re.compile(r"\s+")


def _clean_ingredient(text: str, strip_salts: bool) -> str:
    text = _SPACES.sub(" ", _NON_NAME.sub(" ", text)).strip(" -")
    words = [w for w in text.split(" ") if not w.isdigit()]  # bare strengths such as "5/325"
    while len(words) > 1 and words[-1] in FORM_WORDS:
        words.pop()
    # strip trailing salt words, but never all of them: "SODIUM CHLORIDE" is the substance itself
    if strip_salts and any(w not in SALT_WORDS for w in words):
        while len(words) > 1 and words[-1] in SALT_WORDS:
            words.pop()
    return " ".join(words)


@lru_cache(maxsize=200_000)
def normalise_drug_name(drugname: str, prod_ai: str = "", strip_salts: bool = True) -> str:
    """The canonical name for one FAERS drug row; "" when neither field names anything."""
    raw = (prod_ai or "").strip() or (drugname or "").strip()
    if not raw:
        return ""
    text = _DOSE.sub(" ", _BRACKETS.sub(" ", raw.upper()))
    parts = [_clean_ingredient(p, strip_salts) for p in re.split(r"[\\/]", text)]
    unique = sorted({p for p in parts if p})
    return "\\".join(unique)
