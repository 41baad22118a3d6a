"""Per-drug lookups read side by side, and what they cannot say about which drug is more likely."""

from __future__ import annotations

from typing import Any

from hygeia.agents.comparison import across_drugs
from hygeia.agents.compose import Source


def _result(number: int, tool: str, output: dict[str, Any]) -> Source:
    return Source(number, "tool_result", tool, 1, f"call{number}", f"{tool} result", "", output=output)


def _labels(number: int, drug: str, named: list[str], effects: int = 300) -> Source:
    verdict = {"verdict": {"label": "yes", "basis": "listed"}} if named else {}
    return _result(
        number,
        "agents.side_effects",
        {"drug": drug, "named_in_question": named, "n_side_effects": effects, **verdict},
    )


def test_two_drugs_whose_labels_both_list_the_effect_are_not_ranked() -> None:
    sources = [_labels(1, "Ibuprofen", ["Hepatic failure"]), _labels(2, "Naproxen", ["Hepatitis"])]
    which = "Which is more likely to cause liver injury, ibuprofen or naproxen?"
    (line,) = across_drugs(which, sources)
    assert line.startswith("Side by side: Ibuprofen [1] and Naproxen [2]: labels list it.")
    assert "not how often" in line and "does not tell which drug is more likely" in line
    # asked of both, not compared: the side-by-side reading without the ranking caveat
    (both,) = across_drugs("Do ibuprofen and naproxen cause liver injury?", sources)
    assert both == "Side by side: Ibuprofen [1] and Naproxen [2]: labels list it."


def test_a_drug_without_the_effect_and_one_without_labels() -> None:
    sources = [
        _labels(1, "Ibuprofen", ["Hepatic failure"]),
        _labels(2, "Naproxen", []),
        _labels(3, "Obscurine", [], effects=0),  # no SIDER entry: says nothing either way
    ]
    (line,) = across_drugs("Is ibuprofen safer than naproxen or obscurine for the liver?", sources)
    assert "Ibuprofen [1]: labels list it; Naproxen [2]: labels do not list it." in line
    assert "Obscurine" not in line


def test_one_drug_or_other_tools_give_no_side_by_side_line() -> None:
    assert across_drugs("Which is safer?", [_labels(1, "Ibuprofen", ["Hepatic failure"])]) == []
    toxicity = [_result(n, "agents.toxicity_by_name", {"drug": d}) for n, d in ((1, "A"), (2, "B"))]
    assert across_drugs("Which is more toxic, A or B?", toxicity) == []


def test_signal_alerts_side_by_side_say_reporting_is_not_incidence() -> None:
    sources = [
        _result(4, "agents.signal_lookup", {"drug": "simvastatin", "verdict": {"label": "yes"}}),
        _result(5, "agents.signal_lookup", {"drug": "pravastatin", "verdict": {"label": "no"}}),
        _result(6, "agents.signal_lookup", {"drug": "rosuvastatin"}),  # no data: left out
    ]
    (line,) = across_drugs("Does simvastatin or pravastatin have a higher risk of rhabdomyolysis?", sources)
    assert line.startswith(
        "Side by side: simvastatin [4]: spontaneous reports show a disproportionality alert; "
        "pravastatin [5]: reports show no alert."
    )
    assert "how drugs are reported" in line and "rosuvastatin" not in line
