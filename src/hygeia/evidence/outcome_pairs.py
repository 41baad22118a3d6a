"""Accepted clinical results as labelled compound-disease pairs, with a compound-grouped hold-out.

An evidence outcome is a trial result (positive or negative) for a repurposing candidate
`drug_id|disease_id`. It can become a training label only where both ends are graph nodes (a
Hetionet compound and a DO-slim disease): elsewhere the graph model has no features for the pair; the
card counts those. Tenants' reports of one pair are merged by majority; a tie is left out as
conflicting rather than guessed.

Outcome compounds are split by a seeded hash of the DrugBank id: a held-out compound's outcomes are
never trained on, so candidate and production are scored on pairs of compounds the candidate never
learned an outcome of.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from hygeia.core.retraining import TrainingOutcome, held_out_group, outcome_ids_sha256
from hygeia.evidence.lifecycle import LABEL

GROUPING = "compound (DrugBank id)"


@dataclass
class OutcomePairs:
    """Unique (compound, disease) pairs with their merged clinical result (1 positive, 0 negative)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pairs)

    def counts(self) -> dict[str, int]:
        return {
            "pairs": len(self.pairs),
            "positive": sum(self.labels),
            "negative": len(self.labels) - sum(self.labels),
            "compounds": len({c for c, _ in self.pairs}),
        }


@dataclass
class PairSplit:
    training: OutcomePairs
    held_out: OutcomePairs
    provenance: dict[str, Any]


def _merged(
    outcomes: Sequence[TrainingOutcome], compounds: Collection[str], diseases: Collection[str]
) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    votes: dict[tuple[str, str], list[int]] = {}
    unusable = {"unknown_label": 0, "outside_graph": 0, "conflicting": 0}
    for outcome in outcomes:
        compound, _, disease = outcome.input_key.partition("|")
        if outcome.label != LABEL:
            unusable["unknown_label"] += 1
        elif compound not in compounds or disease not in diseases:
            unusable["outside_graph"] += 1
        else:
            votes.setdefault((compound, disease), []).append(int(outcome.observed))
    merged: dict[tuple[str, str], int] = {}
    for pair, values in votes.items():
        tally = Counter(values)
        if tally[1] == tally[0]:
            unusable["conflicting"] += len(values)
        else:
            merged[pair] = int(tally[1] > tally[0])
    return merged, unusable


def split_pairs(
    outcomes: Sequence[TrainingOutcome],
    compounds: Collection[str],
    diseases: Collection[str],
    holdout: float,
    seed: int,
) -> PairSplit:
    """Outcomes -> unique graph pairs -> training and held-out sides by compound."""
    merged, unusable = _merged(outcomes, set(compounds), set(diseases))
    sides = {True: OutcomePairs(), False: OutcomePairs()}
    for pair, label in sorted(merged.items()):
        side = sides[held_out_group(pair[0], holdout, seed)]
        side.pairs.append(pair)
        side.labels.append(label)
    tenants = Counter(o.tenant_id for o in outcomes)
    provenance = {
        "outcomes": len(outcomes),
        "tenants": dict(sorted(tenants.items())),
        "outcome_ids_sha256": outcome_ids_sha256(outcomes),
        "not_usable": unusable,
        "pairs": {"training": sides[False].counts(), "held_out": sides[True].counts()},
        "holdout": {"fraction": holdout, "seed": seed, "grouping": GROUPING},
    }
    return PairSplit(sides[False], sides[True], provenance)
