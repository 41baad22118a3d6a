"""How often the side-effect lookup's "yes" is right: `python -m benchmarks.agents.label_verdicts`.

Each drug-outcome pair of the OHDSI reference sets in `pv/refset` (OMOP: 399 pairs, 4 outcomes; EU-ADR:
93 pairs, 10 outcomes; ground truth from expert review of labels and literature) is asked as "Does
<drug> cause <outcome>?" through `agents.side_effects` (SIDER 4.1 via Hetionet). A "yes" verdict is a
positive call; no verdict is a negative one. Pairs whose drug has no SIDER entry are counted apart.

Caveat: the reference sets' positives were largely chosen from product labels, which is what SIDER
holds, so this measures how faithfully the lookup reads the labels for the outcome asked, not the
causal truth of a label listing. The matching rules were revised once after a first OMOP run (a shared
generic word such as "failure" matched any failure); EU-ADR was not looked at before the final rules.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from hygeia.agents.side_effects import side_effect_lookup
from hygeia.core.errors import InputError
from hygeia.settings import get_settings

OUTCOMES = {  # OHDSI health outcome of interest -> how a user would name it
    "OMOP Acute Liver Failure 1": "acute liver failure",
    "OMOP Acute Renal Failure 1": "acute renal failure",
    "OMOP Acute myocardial Infarction  1": "acute myocardial infarction",
    "HOI Upper GI #3": "upper gastrointestinal bleeding",
    "OMOP Aplastic Anemia 1": "aplastic anemia",
    "Anaphylaxis #1": "anaphylaxis",
    "Stevens-Johnson Syndrome #1": "Stevens-Johnson syndrome",
    "Leukopenia Including Neutropenia and Agranulocytosis": "leukopenia",
    "Rhabdomyolysis #1": "rhabdomyolysis",
    "Cardiac Valve Fibrosis #1": "cardiac valve fibrosis",
}
SETS = {"OMOP": "omopReferenceSet.csv", "EU-ADR": "euadrReferenceSet.csv"}
OUT = Path(__file__).with_name("label_verdicts.json")


def evaluate(path: Path) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_outcome: dict[str, Counter[str]] = {}
    for row in csv.DictReader(path.open(encoding="utf-8")):
        outcome = OUTCOMES[row["outcomeName"]]
        drug = row["exposureName"].lower()
        try:
            found = side_effect_lookup(drug, f"Does {drug} cause {outcome}?")
        except InputError:  # no DrugBank name
            found = {"n_side_effects": 0}
        if not found["n_side_effects"]:  # a name DrugBank knows but SIDER labels nothing for counts here too
            counts["drug not in SIDER"] += 1
            by_outcome.setdefault(outcome, Counter())["drug not in SIDER"] += 1
            continue
        call = "yes" if found.get("verdict") else "none"
        cell = f"{call}|{'positive' if row['groundTruth'] == '1' else 'negative'}"
        counts[cell] += 1
        by_outcome.setdefault(outcome, Counter())[cell] += 1
    return summary(counts) | {"by_outcome": {k: summary(v) for k, v in sorted(by_outcome.items())}}


def summary(counts: Counter[str]) -> dict[str, Any]:
    tp, fp = counts["yes|positive"], counts["yes|negative"]
    fn, tn = counts["none|positive"], counts["none|negative"]
    return {
        "pairs_scored": tp + fp + fn + tn,
        "drug_not_in_sider": counts["drug not in SIDER"],
        "yes_on_positives": f"{tp}/{tp + fn}",
        "yes_on_negatives": f"{fp}/{fp + tn}",
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args()
    folder = get_settings().data_dir / "pv" / "refset"
    results = {name: evaluate(folder / file) for name, file in SETS.items()}
    for name, result in results.items():
        print(name, {k: v for k, v in result.items() if k != "by_outcome"})
    args.json.write_text(json.dumps({"question": "Does <drug> cause <outcome>?", **results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
