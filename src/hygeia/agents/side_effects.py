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
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.agents.drugs import lookup
from hygeia.core.errors import InputError
from hygeia.core.tools import register_tool
from hygeia.settings import get_settings

FOLDER = Path("evidence") / "hetionet"
EFFECT_CUE = re.compile(
    r"\bcause[sd]?\b|\bside[- ]effects?\b|\badverse (?:effects?|reactions?)\b|\w*toxic\w*|\binduced?\b",
    re.IGNORECASE,
)
STEM = 5  # "hepatotoxic", "hepatic" and "hepatitis" share "hepat"; "rhabdomyolysis" is "rhabd"
MIN_WORD = 6
SHOWN = 8
OPPOSITE_DIRECTION = {  # a direction word of an effect's name -> the question's words for the other one
    "increas": r"\b(?:decreas\w*|loss|lose|losing|reduc\w*|lower\w*|low|drops?|fall\w*)\b",
    "decreas": r"\b(?:increas\w*|gain\w*|rais\w*|elevat\w*|high\w*|rises?|rising)\b",
}


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


def matching(effects: list[str], query: str, drug: str) -> list[str]:
    """Side effects the question names: a 6+ letter word of the effect shares its first five letters
    with a 6+ letter word of the question (other than the drug's name), and the effect's direction
    does not contradict the question's ("Weight decreased" is not "weight gain")."""
    pattern = f"[a-z]{{{MIN_WORD},}}"
    lowered = query.lower()
    words = {w[:STEM] for w in re.findall(pattern, lowered) if w not in drug.lower()}
    return [
        e
        for e in effects
        if any(p[:STEM] in words for p in re.findall(pattern, e.lower())) and not _opposed(e.lower(), lowered)
    ]


def _opposed(effect: str, question: str) -> bool:
    return any(
        stem in effect and stem not in question and re.search(opposite, question)
        for stem, opposite in OPPOSITE_DIRECTION.items()
    )


def side_effect_lookup(drug: str, query: str = "") -> dict[str, Any]:
    """Agent tool: the drug's labelled side effects, and which of them the question names."""
    found = lookup(drug)
    if found is None:
        raise InputError(f"no DrugBank entry known for {drug!r}, so no side effects can be looked up")
    effects = side_effects_of(found.drugbank_id)
    named = matching(effects, query, found.name)
    verdict = {}
    if not effects:
        fact = (
            f"SIDER 4.1 (via Hetionet) has no entry for {found.name}: absence there is not evidence of safety"
        )
    elif named:
        fact = (
            f"SIDER 4.1 (via Hetionet CcSE) lists {', '.join(named)} among the {len(effects)} labelled side "
            f"effects of {found.name} (drug labels: listed, not a rate or proof of causation)"
        )
        more = f" and {len(named) - 1} more of the effects the question names" if len(named) > 1 else ""
        basis = (
            f"{found.name}'s drug labels list {named[0]}{more} (SIDER 4.1): labelled, not a rate or proof "
            "of causation"
        )
        verdict = {"verdict": {"label": "yes", "basis": basis}}
    else:
        fact = (
            f"SIDER 4.1 (via Hetionet CcSE) lists {len(effects)} labelled side effects for {found.name}; "
            f"none matches the question's terms (e.g. {', '.join(effects[:SHOWN])})"
        )
    return {"drug": found.name, "drugbank_id": found.drugbank_id, "named_in_question": named,
            "n_side_effects": len(effects), "side_effects": effects, "fact": fact,
            "answers": bool(named), **verdict}  # fmt: skip


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
