"""One line per lookup across the drugs a question compares, and why it does not rank them.

"Which is more likely to cause liver injury, ibuprofen or naproxen?" runs the labels lookup once per
drug; each result is its own line. A reader still has to put them side by side, and may read "both
labels list it" as "equally likely". This states the side-by-side reading, and for a comparative
question says what the source cannot tell: labels record whether an effect is listed, not how often;
disproportionality compares how drugs are reported, not how often they cause the effect.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from hygeia.agents.compose import Source

COMPARATIVE = re.compile(
    r"\b(?:more|less) (?:likely|often|common|frequent)\b|\b(?:higher|lower|greater) risk\b|\bsafer\b"
    r"|\bworse\b|\bcompar\w*|\bversus\b|\bvs\b|\bwhich\b",
    re.IGNORECASE,
)


class Reading(NamedTuple):
    listed: str  # what a "yes" says about a drug
    unlisted: str  # what a "no" says
    limit: str  # why the source cannot rank the drugs


READINGS = {
    "agents.side_effects": Reading(
        "labels list it",
        "labels do not list it",
        "drug labels record whether an effect is listed, not how often it occurs",
    ),
    "agents.signal_lookup": Reading(
        "spontaneous reports show a disproportionality alert",
        "reports show no alert",
        "disproportionality compares how drugs are reported, not how often they cause the effect",
    ),
}


def across_drugs(question: str, sources: list[Source]) -> list[str]:
    """The side-by-side line of each per-drug lookup that ran for two drugs or more."""
    lines = []
    for tool, reading in READINGS.items():
        said = _said_per_drug(tool, sources)
        if len(said) < 2:
            continue
        yes = [cited for cited, label in said.items() if label == "yes"]
        no = [cited for cited, label in said.items() if label == "no"]
        parts = [f"{_names(yes)}: {reading.listed}"] if yes else []
        parts += [f"{_names(no)}: {reading.unlisted}"] if no else []
        line = f"Side by side: {'; '.join(parts)}."
        if yes and COMPARATIVE.search(question):
            line += f" {reading.limit.capitalize()}, so this does not tell which drug is more likely."
        lines.append(line)
    return lines


def _said_per_drug(tool: str, sources: list[Source]) -> dict[str, str]:
    """'Drug [n]' -> "yes" or "no", for the drugs whose result states either."""
    said = {}
    for source in sources:
        output: dict[str, Any] = source.output or {}
        if source.kind != "tool_result" or source.tool != tool or not output.get("drug"):
            continue
        label = (output.get("verdict") or {}).get("label")
        asked = output.get("asks_about_effect", True)  # "What are the side effects of X and Y?" asks none
        if label is None and tool == "agents.side_effects" and asked and not output.get("named_in_question"):
            label = "no" if output.get("n_side_effects") else None  # effects known, none of those asked
        if label in ("yes", "no"):
            said[f"{output['drug']} [{source.number}]"] = label
    return said


def _names(cited: list[str]) -> str:
    return cited[0] if len(cited) == 1 else f"{', '.join(cited[:-1])} and {cited[-1]}"
