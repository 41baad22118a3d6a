"""How far to trust a tested neighbour: the nearest Tox21 compound's measured outcome as a guess for
the query's, on the reporting folds' scaffold split (seed 2026, 5 folds).

    python -m benchmarks.toxicity.read_across --json benchmarks/toxicity/read_across.json

Each compound is the query once; its nearest compound (ECFP4 Tanimoto) is searched in the other four
folds only, as for a new molecule whose scaffold the training set lacks. Per similarity band, over
every endpoint where both are tested: how often the query is active when the neighbour is active
(precision), and inactive when the neighbour is inactive, against the base rate of actives. This is
what the console's read-across table can tell a reader; it is not a model and ships no artifact.
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path

import numpy as np

from hygeia.settings import get_settings
from hygeia.toxicity.applicability import FingerprintIndex, packed_fingerprints
from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.featurize import MorganBitFeaturizer
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

BANDS = (0.0, 0.4, 0.5, 0.7, 0.9, 1.0001)


def nearest_in_other_folds(bits: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each compound's nearest compound outside its own fold: (index, similarity)."""
    index, similarity = np.zeros(len(bits), dtype=int), np.zeros(len(bits))
    for fold in np.unique(folds):
        query, reference = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
        search = FingerprintIndex.from_bits(bits[reference])
        for row in query:
            scores = search.similarities(np.flatnonzero(bits[row]))
            best = int(np.argmax(scores))
            index[row], similarity[row] = reference[best], scores[best]
    return index, similarity


def band_table(labels: np.ndarray, neighbour: np.ndarray, similarity: np.ndarray) -> list[dict]:
    rows = []
    for low, high in pairwise(BANDS):
        inside = (similarity >= low) & (similarity < high)
        query, guess = labels[inside], labels[neighbour[inside]]
        both = ~np.isnan(query) & ~np.isnan(guess)
        active, inactive = both & (guess == 1), both & (guess == 0)
        rows.append(
            {
                "band": [low, min(high, 1.0)],
                "compounds": int(inside.sum()),
                "pairs_tested_in_both": int(both.sum()),
                "base_rate_active": _share(query[both] == 1),
                "neighbour_active": int(active.sum()),
                "query_active_when_neighbour_active": _share(query[active] == 1),
                "query_inactive_when_neighbour_inactive": _share(query[inactive] == 0),
            }
        )
    return rows


def _share(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if flags.size else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dataset = load_tox21(args.data)
    featurizer = MorganBitFeaturizer()
    bits = np.unpackbits(packed_fingerprints(dataset.mols, featurizer), axis=1, count=featurizer.size)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), args.folds, args.seed)
    neighbour, similarity = nearest_in_other_folds(bits, folds)
    result = {
        "data_sha256": dataset.sha256,
        "compounds": len(dataset),
        "folds": args.folds,
        "seed": args.seed,
        "bands": band_table(dataset.labels, neighbour, similarity),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
