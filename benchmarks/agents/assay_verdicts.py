"""How often the agents' predicted Tox21 assay call is right: `python -m benchmarks.agents.assay_verdicts`.

`agents.tox21_assay` answers "Does X activate the estrogen receptor?" from what Tox21 measured when X
is a training compound. For any other compound it states the model's call: "active" at the card's
threshold (calibrated probability >= 0.5), "inactive" when the Mondrian conformal set at the card's
significance excludes active, otherwise undecided. This measures that rule on the served model's own
scaffold-CV out-of-fold scores (the stored conformal calibration set, reporting folds rebuilt from the
data with the card's seed), with every part cross-fitted: each fold's probabilities come from a
calibrator fitted on the other folds, and its conformal sets from the other folds' compounds of the
same applicability-domain side. So each number is what a user would have seen for a compound of an
unseen scaffold: how often a "yes" was measured active, how often a "no" was measured active after
all, and how often the rule declined to call.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.conformal_domain import served_draws
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.calibration import cross_fitted
from hygeia.toxicity.conformal import (
    SMOOTHED,
    card_category_edges,
    cross_conformal_sets,
    similarity_categories,
)
from hygeia.toxicity.dataset import load_tox21, trained_scope
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

REPO = Path(__file__).resolve().parents[2]
THRESHOLD = 0.5  # the card's overall-call rule: assays with calibrated probability >= 0.5
OUT = Path(__file__).with_name("assay_verdicts.json")


def endpoint_calls(
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    category: np.ndarray,
    j: int,
    method: str,
    level: float,
    draws: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the compounds tested in endpoint j: (labels, said yes, said no, conformal set {active}),
    all cross-fitted, with the served smoothing draws where the model has them. The last is the rule
    not taken: a {active} set as a "yes"."""
    tested = ~np.isnan(labels[:, j])
    y = labels[tested, j].astype(int)
    probability = cross_fitted(scores[tested, j].astype(np.float64), y, folds[tested], method)
    sets = cross_conformal_sets(scores, labels, folds, j, level, category, draws)[tested]
    yes = probability >= THRESHOLD
    no = sets[:, 0] & ~sets[:, 1] & ~yes
    return y, yes, no, sets[:, 1] & ~sets[:, 0]


def summary(y: np.ndarray, yes: np.ndarray, no: np.ndarray, active_set: np.ndarray) -> dict[str, Any]:
    actives = int(y.sum())
    return {
        "tested": int(y.size),
        "active": actives,
        "said_yes": int(yes.sum()),
        "yes_measured_active": _share(y[yes] == 1),
        "said_no": int(no.sum()),
        "no_measured_active": _share(y[no] == 1),
        "undecided": _share(~(yes | no)),
        "actives_said_yes": _share(yes[y == 1]),
        "actives_said_no": _share(no[y == 1]),
        "base_rate_active": _share(y == 1),
        "active_set": int(active_set.sum()),
        "active_set_measured_active": _share(y[active_set] == 1),
    }


def _share(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if flags.size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "toxicity" / "2.13.0")
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--seed", type=int, default=2026, help="the card's fold seed")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args()
    card = json.loads((args.model / "card.json").read_text())
    scores, labels, similarity = np.load(args.model / card["conformal"]["file"], allow_pickle=False)
    methods = {e: c["method"] for e, c in json.loads((args.model / "calibration.json").read_text()).items()}
    dataset = load_tox21(args.data, scope=trained_scope(card))
    if dataset.sha256 != card["training_data"]["sha256"] or not np.array_equal(
        np.isnan(labels), np.isnan(dataset.labels)
    ):
        raise SystemExit("the data file is not the one this model was trained on")
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), args.folds, args.seed)
    category = similarity_categories(similarity[:, 0], card_category_edges(card))  # as served
    level = float(card["conformal"]["significance"])
    draws = served_draws(args.model, card) if card["conformal"].get("p_values") == SMOOTHED else None
    per_endpoint, pooled = {}, []
    for j, endpoint in enumerate(ENDPOINTS):
        calls = endpoint_calls(scores, labels, folds, category, j, methods[endpoint], level, draws)
        per_endpoint[endpoint] = summary(*calls)
        pooled.append(calls)
    result = {
        "model": f"toxicity {card['version']}",
        "data_sha256": dataset.sha256,
        "folds": args.folds,
        "seed": args.seed,
        "rule": f"yes: calibrated probability >= {THRESHOLD}; no: conformal set at significance {level} "
        "excludes active; otherwise undecided",
        "pooled": summary(*(np.concatenate(parts) for parts in zip(*pooled, strict=True))),
        "endpoints": per_endpoint,
    }
    print(json.dumps(result, indent=2))
    args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
