"""Would known pharmacology lift the receptor assays? A ceiling, on the served model's scaffold CV.

    python -m benchmarks.toxicity.known_targets models/toxicity/2.6.0 \
        --json benchmarks/toxicity/known_targets.json

Seven Tox21 assays read out one protein (NR-AR and NR-AR-LBD the androgen receptor, NR-ER and
NR-ER-LBD the oestrogen receptors, NR-Aromatase CYP19A1, NR-PPAR-gamma PPARG, NR-AhR AHR). About 15 %
of Tox21 compounds are approved drugs, and Hetionet records which proteins each drug binds (its CbG
edges, from DrugBank, ChEMBL, BindingDB and DrugCentral). That is information the members do not read:
would a model that knew a drug binds the assay's protein rank better?

This measures the most a perfect use of that knowledge could add, before building anything: in the
model's stored out-of-fold scores (each compound scored by the run that did not train on it), every
known binder of an assay's protein is moved above every other compound, and the card's metric (mean
over folds and endpoints of ROC-AUC) is recomputed on the card's own folds. Compounds are matched to
DrugBank by the InChIKey connectivity block of the standardised parent. It also reports where the
binders already rank (percentile of the out-of-fold score among the endpoint's tested compounds), and
the fold where the model ranks worst, with the scaffold group that fills it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, rdBase

from benchmarks.toxicity.scope_diff import stored_scores
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.evaluation import fold_metrics
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups, scaffold_key

# Entrez gene ids (Hetionet's Gene nodes) of the protein each single-target assay reads out
ASSAY_TARGETS: dict[str, dict[str, int]] = {
    "NR-AR": {"AR": 367},
    "NR-AR-LBD": {"AR": 367},
    "NR-ER": {"ESR1": 2099, "ESR2": 2100},
    "NR-ER-LBD": {"ESR1": 2099, "ESR2": 2100},
    "NR-Aromatase": {"CYP19A1": 1588},
    "NR-PPAR-gamma": {"PPARG": 5468},
    "NR-AhR": {"AHR": 196},
}


def drug_targets(evidence: Path) -> dict[str, set[int]]:
    """InChIKey connectivity block -> Entrez ids of the genes the approved drug binds (Hetionet CbG)."""
    genes: dict[str, set[int]] = defaultdict(set)
    with gzip.open(evidence / "hetionet" / "edges-CbG.tsv.gz", "rt") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            genes[row["source"].split("::")[1]].add(int(row["target"].split("::")[1]))
    by_block: dict[str, set[int]] = {}
    with open(evidence / "drugbank-structures" / "drugbank-slim.tsv") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            key = row["inchikey"].removeprefix("InChIKey=")
            if key and row["drugbank_id"] in genes:
                by_block.setdefault(key[:14], set()).update(genes[row["drugbank_id"]])
    return by_block


def percentile(scores: np.ndarray, rows: np.ndarray) -> float | None:
    """Median share of the endpoint's tested compounds scoring below each of `rows`."""
    if not rows.size:
        return None
    return round(float(np.median([(scores < scores[r]).mean() for r in rows])), 4)


def ceiling(folder: Path, data: Path, evidence: Path, seed: int) -> dict[str, Any]:
    card, dataset, scores, labels = stored_scores(folder, data)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, seed)
    targets = drug_targets(evidence)
    with rdBase.BlockLogs():
        known = [targets.get(Chem.MolToInchiKey(mol)[:14], set()) for mol in dataset.mols]
    binders = np.array([[bool(set(ASSAY_TARGETS.get(e, {}).values()) & g) for e in ENDPOINTS] for g in known])
    lifted = np.where(binders, scores + 2.0, scores)  # scores are probabilities: +2 puts binders first
    served = np.array([v["roc_auc"] for v in fold_metrics(scores, labels, folds).values()])
    top = np.array([v["roc_auc"] for v in fold_metrics(lifted, labels, folds).values()])
    endpoints: dict[str, Any] = {}
    for j, endpoint in enumerate(ENDPOINTS):
        if endpoint not in ASSAY_TARGETS:
            continue
        s, y, binder = scores[:, j], labels[:, j], binders[:, j]
        tested = ~np.isnan(y)
        rank = s[tested]
        active, inactive = (binder & (y == 1))[tested], (binder & (y == 0))[tested]
        endpoints[endpoint] = {
            "targets": sorted(ASSAY_TARGETS[endpoint]),
            "binders_tested": int((binder & tested).sum()),
            "binders_active": int(active.sum()),
            "base_rate_active": round(float(np.nanmean(y)), 4),
            "median_percentile_active_binders": percentile(rank, np.flatnonzero(active)),
            "median_percentile_inactive_binders": percentile(rank, np.flatnonzero(inactive)),
            "roc_auc_served": round(float(served[j].mean()), 4),
            "roc_auc_binders_first": round(float(top[j].mean()), 4),
        }
    return {
        "model": f"{card['name']} {card['version']}",
        "folds": card["metrics"]["evaluation"],
        "approved_drugs_matched": int(sum(bool(g) for g in known)),
        "compounds": len(known),
        "endpoints": endpoints,
        "mean_roc_auc_served": round(float(np.mean(served)), 4),
        "mean_roc_auc_binders_first": round(float(np.mean(top)), 4),
        "hardest_fold": hardest_fold(dataset.mols, labels, folds, served),
    }


def hardest_fold(
    mols: list[Chem.Mol], labels: np.ndarray, folds: np.ndarray, served: np.ndarray
) -> dict[str, Any]:
    """The fold with the lowest mean ROC-AUC, its largest scaffold group, and how many of each
    endpoint's actives there belong to that group."""
    worst = int(np.argmin(served.mean(axis=0)))
    keys = np.array([scaffold_key(mol) for mol in mols])
    inside = folds == worst
    group, size = max(((k, int((keys[inside] == k).sum())) for k in set(keys[inside])), key=lambda kv: kv[1])
    in_group = inside & (keys == group)
    return {
        "fold": worst,
        "compounds": int(inside.sum()),
        "fold_mean_roc_auc": [round(float(v), 4) for v in served.mean(axis=0)],
        "largest_scaffold": group,
        "largest_scaffold_compounds": size,
        "actives_in_fold_and_in_that_scaffold": {
            e: [int((inside & (labels[:, j] == 1)).sum()), int((in_group & (labels[:, j] == 1)).sum())]
            for j, e in enumerate(ENDPOINTS)
        },
        "roc_auc_in_fold": {e: round(float(served[j, worst]), 4) for j, e in enumerate(ENDPOINTS)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a model folder with stored out-of-fold scores")
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--evidence", type=Path, default=get_settings().data_dir / "evidence")
    parser.add_argument("--seed", type=int, default=2026, help="the card's fold seed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = ceiling(args.model, args.data, args.evidence, args.seed)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
