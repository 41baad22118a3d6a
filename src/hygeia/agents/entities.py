"""What a question gives a tool chain to start from: the query text, explicit `name=value` inputs,
SMILES strings, a job or prediction id (32 hex digits, as the platform issues them), a drug (and the
drugs a comparison names) and an adverse event when the wording makes them plain.

Deliberately conservative: a wrong binding sends a tool the wrong input, which is worse than not
calling it, so a SMILES must parse in RDKit and a drug must look like a drug name.
"""

from __future__ import annotations

import re
from typing import Any

KEY_VALUE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;]+)")
SMILES_CHARS = re.compile(r"^[A-Za-z0-9@+\-\[\]\(\)=#$/\\%.]+$")
SMILES_MARKERS = re.compile(r"[=#()\[\]@1-9]")
JOB_ID = re.compile(r"\b[0-9a-f]{32}\b")
DRUG_SUFFIXES = (
    "statin", "pril", "sartan", "olol", "mab", "nib", "azole", "cillin", "mycin", "prazole", "floxacin",
    "vir", "dipine", "parin", "gliptin", "gliflozin", "sone", "olone", "azepam", "zolam", "oxetine",
    "triptan", "profen", "tidine", "cycline", "platin", "taxel", "formin", "glitazone", "lukast",
    "setron", "semide", "thiazide", "terol", "pramine", "afil", "coxib", "dronate", "kinra", "zumab",
)  # fmt: skip
EVENT_CUE = re.compile(
    r"\b(?:risk of|cause[sd]?|causing|induced?|associated with|signal (?:of|for)|reports? of)\s+"
    r"([a-z][a-z\- ]{2,60}?)(?=\s+(?:with|and|in|for|by|from|after|when|among)\b|[?.,;]|$)",
    re.IGNORECASE,
)
ALIASES: dict[str, str] = {
    "question": "query", "q": "query", "text": "query", "prompt": "query", "search": "query",
    "drug_name": "drug", "medicine": "drug", "compound": "drug",
    "reaction": "event", "adverse_event": "event", "outcome": "event", "ae": "event",
    "smile": "smiles", "molecule": "smiles",
}  # fmt: skip
LIMIT_NAMES = ("k", "top_k", "limit", "top", "n", "max_results")


def canonical(name: str) -> str:
    key = name.lower()
    return ALIASES.get(key, key)


def question_context(question: str) -> dict[str, Any]:
    """The bindings a question provides, by canonical parameter name."""
    from hygeia.agents.drugs import find_named_drugs

    context: dict[str, Any] = {"query": question.strip()}
    for key, raw in KEY_VALUE.findall(question):
        context[canonical(key)] = _scalar(raw)
    smiles = find_smiles(question)
    if smiles and "smiles" not in context:
        context["smiles"] = smiles[0]
    drug = find_drug(question) or (_drug_of(context["smiles"]) if "smiles" in context else None)
    if drug and "drug" not in context:
        context["drug"] = drug
        context.update(_read_as(question, drug))
    compared = find_named_drugs(question)  # more than one: a comparison, each drug gets its own lookups
    if len(compared) > 1 and "drugs" not in context:
        context["drugs"] = compared
    event = find_event(question)
    if event and "event" not in context:
        context["event"] = event
    platform_id = JOB_ID.search(question)  # a job's or a recorded prediction's: the cue tells which
    if platform_id:
        context.setdefault("job_id", platform_id.group(0))
        context.setdefault("prediction_id", platform_id.group(0))
    return context


def _read_as(question: str, drug: str) -> dict[str, str]:
    """The answer's note when the drug was read from a brand name or a misspelling: the user sees which
    drug was meant."""
    from hygeia.agents.drugs import BRAND_NAMES
    from hygeia.agents.spelling import misspelt_drug

    if drug in BRAND_NAMES:
        return {"read_as": f"read {drug!r} as {BRAND_NAMES[drug]} (its US brand name)"}
    misspelt = misspelt_drug(question)
    if misspelt is None or misspelt[1] != drug:
        return {}
    return {"read_as": f"read {misspelt[0]!r} as {drug} (the DrugBank name it spells by sound)"}


def _scalar(raw: str) -> Any:
    text = raw.strip("\"'")
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _tokens(question: str) -> list[str]:
    return [t.strip(",;:?!\"'") for t in question.split()]


def find_smiles(question: str) -> list[str]:
    """Tokens after the word SMILES, or tokens with SMILES syntax, that RDKit parses."""
    tokens = _tokens(question)
    found = []
    for index, token in enumerate(tokens):
        token = token.rstrip(".")
        after_keyword = index > 0 and tokens[index - 1].lower().rstrip(":") == "smiles"
        looks_like = len(token) >= 3 and SMILES_MARKERS.search(token) is not None
        if (after_keyword or looks_like) and SMILES_CHARS.match(token) and _parses(token):
            found.append(token)
    return found


def _parses(smiles: str) -> bool:
    try:
        from rdkit import Chem, RDLogger
    except ImportError:  # without RDKit only the explicit "SMILES xyz" form is trusted
        return True
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    return Chem.MolFromSmiles(smiles) is not None


def find_drug(question: str) -> str | None:
    """A DrugBank name or synonym in the question, else a drug class it names ("statins"; its lookups
    go drug by drug), else a drug name it misspells ("ibuprophen"), else a word with a drug-class suffix."""
    from hygeia.agents.drug_classes import named_class
    from hygeia.agents.drugs import find_named_drug
    from hygeia.agents.spelling import misspelt_drug

    named = find_named_drug(question)
    if named:
        return named
    group = named_class(question)
    if group is not None:
        return group[0].name
    misspelt = misspelt_drug(question)
    if misspelt is not None:
        return misspelt[1]
    for token in _tokens(question):
        word = token.strip(".()").lower()
        if word.isalpha() and len(word) > 5 and word.endswith(DRUG_SUFFIXES):
            return word
    return None


def _drug_of(smiles: str) -> str | None:
    """A SMILES that is a DrugBank drug binds that drug's name too (its labels answer "is X hepatotoxic")."""
    from hygeia.agents.drugs import drug_of_structure

    known = drug_of_structure(str(smiles))
    return known.name.lower() if known else None


def find_event(question: str) -> str | None:
    """The event after a cue; not a drug's name ("a signal for atorvastatin and rhabdomyolysis")."""
    from hygeia.agents.drug_classes import drug_class
    from hygeia.agents.drugs import lookup
    from hygeia.agents.spelling import misspelt_drug

    match = EVENT_CUE.search(question)
    if not match:
        return None
    event = match.group(1).strip().lower()
    named_drug = any(found is not None for found in (lookup(event), drug_class(event), misspelt_drug(event)))
    return event if event not in {"the", "a", "an", "it", "this"} and not named_drug else None


def bind_inputs(
    schema: dict[str, Any], context: dict[str, Any], limit: int
) -> tuple[dict[str, Any], list[str]]:
    """Inputs for a tool from the context; returns (inputs, required names that could not be bound)."""
    properties: dict[str, Any] = schema.get("properties") or {}
    required: list[str] = list(schema.get("required") or [])
    inputs: dict[str, Any] = {}
    for name, spec in properties.items():
        value = _lookup(name, context)
        if value is None and name in LIMIT_NAMES and spec.get("type") == "integer":
            value = _clamp(limit, spec)
        if value is not None:
            inputs[name] = _coerce(value, spec)
    if not properties and "query" in context:
        inputs["query"] = context["query"]  # an undeclared schema: the one input every tool here takes
    return inputs, [name for name in required if name not in inputs]


def _lookup(name: str, context: dict[str, Any]) -> Any:
    if name in context:
        return context[name]
    return context.get(canonical(name))


def _clamp(value: int, spec: dict[str, Any]) -> int:
    low, high = spec.get("minimum", value), spec.get("maximum", value)
    return max(int(low), min(int(high), value))


def _coerce(value: Any, spec: dict[str, Any]) -> Any:
    kind = spec.get("type")
    if kind == "array" and not isinstance(value, list):
        return [value]
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if kind == "number" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
