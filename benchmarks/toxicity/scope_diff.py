"""Two toxicity models trained under different chemistry scopes, compared on the compounds they share.

    python -m benchmarks.toxicity.scope_diff models/toxicity/2.6.0 models/toxicity/2.7.0 [--json OUT]

`card_diff` pairs the folds of two runs on the same compounds. A change of chemistry scope (2.7.0's
`organic-v2` refuses the metal complexes and inorganics 2.6.0 learned as ligands) changes the compound
set, so the scaffold folds differ and per-fold means no longer pair. What still compares is each
model's stored out-of-fold blend score (the conformal calibration set: every compound scored by the
run that did not train on it) on the compounds both kept, with the same measured labels. This pools
those scores per endpoint and bootstraps the compounds (paired: one resample scores both models) for
the difference of the mean ROC-AUC and PR-AUC over the 12 endpoints. That interval leaves out the
variance of the fold assignment itself, which differs between the two runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import ToxicityDataset, load_tox21, trained_scope

RESAMPLES = 1000


def stored_scores(folder: Path, data: Path) -> tuple[dict[str, Any], ToxicityDataset, np.ndarray, np.ndarray]:
    """A model's card, its training set rebuilt under its scope (refused if `data` is another file),
    and its stored out-of-fold scores and labels (compounds x endpoints)."""
    card = json.loads((folder / "card.json").read_text())
    dataset = load_tox21(data, scope=trained_scope(card))
    if dataset.sha256 != card["training_data"]["sha256"]:
        raise SystemExit(f"{data} is not the file {folder.name} was trained on")
    scores, labels, _ = np.load(folder / card["conformal"]["file"], allow_pickle=False)
    return card, dataset, scores, labels


def out_of_fold(folder: Path, data: Path) -> tuple[dict[str, int], np.ndarray, np.ndarray, str]:
    """Standardised SMILES -> row, the out-of-fold scores and labels (compounds x endpoints), the scope."""
    _, dataset, scores, labels = stored_scores(folder, data)
    return {s: i for i, s in enumerate(dataset.smiles)}, scores, labels, dataset.scope


def shared_compounds(
    reference: tuple[dict[str, int], np.ndarray, np.ndarray, str],
    candidate: tuple[dict[str, int], np.ndarray, np.ndarray, str],
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices into each model of the compounds both kept with the very same merged labels."""
    ref_rows, _, ref_labels, _ = reference
    new_rows, _, new_labels, _ = candidate
    pairs = [(ref_rows[s], new_rows[s]) for s in ref_rows if s in new_rows]
    same = [(r, n) for r, n in pairs if np.array_equal(ref_labels[r], new_labels[n], equal_nan=True)]
    ref_index, new_index = (np.array(side) for side in zip(*same, strict=True))
    return ref_index, new_index


def endpoint_metrics(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(ROC-AUC, PR-AUC) per endpoint (rows), each on its tested compounds."""
    per_endpoint = []
    for j in range(labels.shape[1]):
        tested = ~np.isnan(labels[:, j])
        y, s = labels[tested, j], scores[tested, j]
        per_endpoint.append((roc_auc_score(y, s), average_precision_score(y, s)))
    return np.asarray(per_endpoint)


def mean_metrics(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(mean ROC-AUC, mean PR-AUC) over the endpoints."""
    return endpoint_metrics(scores, labels).mean(axis=0)


def _card_cv(folder: Path) -> dict[str, float]:
    """The card's own headline: mean over endpoints of the per-fold scores on that model's folds."""
    shipped = json.loads((folder / "card.json").read_text())["metrics"]["scaffold_cv"]["shipped"]
    return {m: shipped["mean_over_endpoints"][m]["mean"] for m in ("roc_auc", "pr_auc")}


def compare(reference: Path, candidate: Path, data: Path, seed: int = 0) -> dict[str, Any]:
    ref, new = out_of_fold(reference, data), out_of_fold(candidate, data)
    ref_index, new_index = shared_compounds(ref, new)
    ref_scores, new_scores, labels = ref[1][ref_index], new[1][new_index], new[2][new_index]
    ref_endpoints, new_endpoints = endpoint_metrics(ref_scores, labels), endpoint_metrics(new_scores, labels)
    ref_value, new_value = ref_endpoints.mean(axis=0), new_endpoints.mean(axis=0)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(RESAMPLES):
        pick = rng.integers(0, len(labels), len(labels))
        diffs.append(
            mean_metrics(new_scores[pick], labels[pick]) - mean_metrics(ref_scores[pick], labels[pick])
        )
    low, high = np.percentile(np.asarray(diffs), [2.5, 97.5], axis=0)
    result: dict[str, Any] = {
        "reference": f"{reference.name} ({ref[3]}, {len(ref[0])} compounds)",
        "candidate": f"{candidate.name} ({new[3]}, {len(new[0])} compounds)",
        "shared_compounds_same_labels": len(labels),
        "pooled_out_of_fold": "blend scores of the scaffold-CV runs in the cards, pooled over folds",
        "card_scaffold_cv": {reference.name: _card_cv(reference), candidate.name: _card_cv(candidate)},
    }
    for k, metric in enumerate(("roc_auc", "pr_auc")):
        result[metric] = {
            "reference": round(float(ref_value[k]), 4),
            "candidate": round(float(new_value[k]), 4),
            "diff": round(float(new_value[k] - ref_value[k]), 4),
            "diff_95ci": [round(float(low[k]), 4), round(float(high[k]), 4)],
            "endpoints": {
                e: [round(float(ref_endpoints[j, k]), 4), round(float(new_endpoints[j, k]), 4)]
                for j, e in enumerate(ENDPOINTS)
            },
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = compare(args.reference, args.candidate, args.data)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
