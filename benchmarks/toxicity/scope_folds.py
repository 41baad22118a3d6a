"""Research for issue #12: is `organic-v2`'s PR-AUC loss (§16) the scope or the fold assignment?

    python -m benchmarks.toxicity.scope_folds --fold-seeds 2026,1,2 --cache var/scope-folds \
        --on-candidate-compounds --on-candidate-folds --json benchmarks/toxicity/scope_folds.json

§16 and §17 compared 2.6.0 (`largest-fragment-v1`) with `organic-v2` runs on the compounds both scopes
keep, pooling each run's out-of-fold scores. The two scopes hold different compounds, so the balanced
scaffold split gives them different folds, and the bootstrap over compounds leaves that variance out.
Here the training sets are cross-validated at several fold seeds with one recipe: the shipped boosters
(soft labels) and the ReLU network (3 seeds), blended at the shipped weight 0.25. To fit the cores, the
boosters learn at 2.5.0's rate (0.05, half the rounds) and the graph member is left out (~1 h a run);
the question is about the compounds, not the recipe. Two more arms take the question apart: the
reference scope's training set with the candidate's folds for the compounds both hold
(`--on-candidate-folds`: only the 33 compounds and 5 merged labels differ), and the reference scope on
the candidate's compounds (`--on-candidate-compounds`: same folds, only the 5 merged labels differ).
Reported per fold seed: each set's pooled mean ROC-AUC and PR-AUC on the compounds all sets keep with
the same labels, its difference from the reference set, and its own spread between fold seeds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.toxicity.blending import shipped_blend
from benchmarks.toxicity.scope_diff import endpoint_metrics
from hygeia.settings import get_settings
from hygeia.toxicity import CHEMISTRY_SCOPES, ENDPOINTS, LARGEST_FRAGMENT_SCOPE, ORGANIC_SCOPE
from hygeia.toxicity.dataset import ToxicityDataset, load_tox21
from hygeia.toxicity.members import SHIPPED_MEMBERS, cross_validate_member
from hygeia.toxicity.network_training import NETWORK_NAME, cross_validate_network
from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups, scaffold_key
from hygeia.toxicity.training import featurize_parts, member_matrix, network_matrix

# 2.5.0's rate and rounds: half of 2.6.0's booster cost (benchmarks README §12-§14)
MEMBERS = tuple(
    replace(m, params={**m.params, "learning_rate": 0.05}, rounds=m.rounds // 2) for m in SHIPPED_MEMBERS
)


@dataclass
class ScopeRuns:
    """One training set's compounds and its out-of-fold blends by fold seed."""

    dataset: ToxicityDataset
    oof: dict[int, np.ndarray] = field(default_factory=dict)
    folds_of: ScopeRuns | None = None  # take this set's folds for the compounds both hold

    def folds(self, fold_seed: int) -> np.ndarray:
        """The balanced scaffold folds, or those of `folds_of` for shared compounds; a compound only this
        set holds goes with its scaffold there, else to the smallest fold (the split stays by scaffold)."""
        own = balanced_scaffold_folds(scaffold_groups(self.dataset.mols), 5, fold_seed)
        if self.folds_of is None:
            return own
        other = self.folds_of.dataset
        theirs = self.folds_of.folds(fold_seed)
        by_smiles = dict(zip(other.smiles, theirs, strict=True))
        by_scaffold = {scaffold_key(m): f for m, f in zip(other.mols, theirs, strict=True)}
        folds = np.array([by_smiles.get(s, -1) for s in self.dataset.smiles])
        for i in np.flatnonzero(folds < 0):
            key = scaffold_key(self.dataset.mols[i])
            folds[i] = by_scaffold.get(key, np.argmin(np.bincount(folds[folds >= 0], minlength=5)))
            by_scaffold.setdefault(key, folds[i])
        return folds

    @classmethod
    def standardised(
        cls, scope: str, data: Path, limit: int | None = None, compounds: set[str] | None = None
    ) -> ScopeRuns:
        """The scope's training set, or only its `compounds` (their labels as this scope merged them)."""
        dataset = load_tox21(data, limit=limit, scope=scope)
        if compounds is not None:
            keep = [i for i, s in enumerate(dataset.smiles) if s in compounds]
            dataset = replace(
                dataset,
                smiles=[dataset.smiles[i] for i in keep],
                mols=[dataset.mols[i] for i in keep],
                labels=dataset.labels[keep],
                source_rows=[dataset.source_rows[i] for i in keep],
            )
        return cls(dataset)

    @cached_property
    def features(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        parts = featurize_parts(self.dataset.mols, {p for m in MEMBERS for p in m.features})
        return parts, network_matrix(self.dataset.mols, parts)

    def blend(self, fold_seed: int) -> np.ndarray:
        """Out-of-fold blend scores of every compound at one fold seed."""
        labels, (parts, network_x) = self.dataset.labels, self.features
        folds = self.folds(fold_seed)
        trees = np.mean(
            [
                cross_validate_member(m, member_matrix(parts, m), labels, folds, fold_seed, print).oof
                for m in MEMBERS
            ],
            axis=0,
        )
        network = cross_validate_network(network_x, labels, folds, log=print, name=NETWORK_NAME).oof
        return shipped_blend(trees, network)


def run_all(arms: dict[str, ScopeRuns], fold_seeds: list[int], cache: Path) -> None:
    """Seed by seed, every training set (cached as .npy: a run takes 6-12 min on 2 cores)."""
    for seed in fold_seeds:
        for name, runs in arms.items():
            path = cache / f"{name}-seed{seed}.npy"
            if not path.exists():
                started = time.perf_counter()
                np.save(path, runs.blend(seed))
                print(f"{name} fold seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
            runs.oof[seed] = np.load(path)


def _common_rows(arms: dict[str, ScopeRuns]) -> dict[str, np.ndarray]:
    """Per training set, the rows of the compounds every set keeps with the very same labels."""
    index = {name: {s: i for i, s in enumerate(runs.dataset.smiles)} for name, runs in arms.items()}
    first, *others = arms
    common = [
        s
        for s, i in index[first].items()
        if all(
            s in index[name]
            and np.array_equal(
                arms[first].dataset.labels[i], arms[name].dataset.labels[index[name][s]], equal_nan=True
            )
            for name in others
        )
    ]
    return {name: np.array([rows[s] for s in common]) for name, rows in index.items()}


def _means(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    roc, pr = endpoint_metrics(scores, labels).mean(axis=0)
    return {"roc_auc": round(float(roc), 4), "pr_auc": round(float(pr), 4)}


def compare(arms: dict[str, ScopeRuns], reference: str, fold_seeds: list[int]) -> dict[str, Any]:
    """Pooled out-of-fold means on the common compounds per set and seed, each set's difference from
    the reference set (with its mean and SD over seeds), and each set's own spread between seeds."""
    rows = _common_rows(arms)
    labels = arms[reference].dataset.labels[rows[reference]]
    scores = {name: {seed: runs.oof[seed][rows[name]] for seed in fold_seeds} for name, runs in arms.items()}
    pooled = {name: {seed: _means(s, labels) for seed, s in by.items()} for name, by in scores.items()}
    metrics = ("roc_auc", "pr_auc")
    result: dict[str, Any] = {"common_compounds_same_labels": len(labels), "reference": reference}
    for name in arms:
        diffs = np.array(
            [[pooled[name][s][m] - pooled[reference][s][m] for m in metrics] for s in fold_seeds]
        )
        result[name] = {
            "pooled_by_fold_seed": {str(s): pooled[name][s] for s in fold_seeds},
            "between_fold_seeds": {
                f"{a}-{b}": {m: round(pooled[name][b][m] - pooled[name][a][m], 4) for m in metrics}
                for a, b in combinations(fold_seeds, 2)
            },
        }
        if name == reference:
            continue
        result[name] |= {
            "diff_by_fold_seed": {
                str(s): dict(zip(metrics, d.round(4).tolist(), strict=True))
                for s, d in zip(fold_seeds, diffs, strict=True)
            },
            "diff_mean": dict(zip(metrics, diffs.mean(axis=0).round(4).tolist(), strict=True)),
            "diff_sd": dict(zip(metrics, diffs.std(axis=0, ddof=1).round(4).tolist(), strict=True))
            if len(fold_seeds) > 1
            else None,
            "pr_auc_diff_by_endpoint": {
                str(s): dict(
                    zip(
                        ENDPOINTS,
                        (
                            endpoint_metrics(scores[name][s], labels)[:, 1]
                            - endpoint_metrics(scores[reference][s], labels)[:, 1]
                        )
                        .round(4)
                        .tolist(),
                        strict=True,
                    )
                )
                for s in fold_seeds
            },
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold-seeds", default="2026,1,2")
    parser.add_argument("--reference", default=LARGEST_FRAGMENT_SCOPE, choices=sorted(CHEMISTRY_SCOPES))
    parser.add_argument("--candidate", default=ORGANIC_SCOPE, choices=sorted(CHEMISTRY_SCOPES))
    parser.add_argument(
        "--on-candidate-compounds",
        action="store_true",
        help="also the reference scope restricted to the candidate's compounds (which rows matter?)",
    )
    parser.add_argument(
        "--on-candidate-folds",
        action="store_true",
        help="also the reference scope with the candidate's folds for shared compounds (fold assignment?)",
    )
    parser.add_argument("--data", type=Path, default=get_settings().data_dir / "tox21" / "tox21.csv")
    parser.add_argument("--cache", type=Path, default=Path("var/scope-folds"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="first rows only (a smoke run)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.fold_seeds.split(",")]
    args.cache.mkdir(parents=True, exist_ok=True)
    arms = {
        scope: ScopeRuns.standardised(scope, args.data, args.limit)
        for scope in (args.reference, args.candidate)
    }
    if args.on_candidate_folds:
        aligned = ScopeRuns.standardised(args.reference, args.data, args.limit)
        aligned.folds_of = arms[args.candidate]
        arms[f"{args.reference}-on-{args.candidate}-folds"] = aligned
    if args.on_candidate_compounds:
        compounds = set(arms[args.candidate].dataset.smiles)
        name = f"{args.reference}-on-{args.candidate}-compounds"
        arms[name] = ScopeRuns.standardised(args.reference, args.data, args.limit, compounds)
    run_all(arms, seeds, args.cache)
    result = {
        "recipe": "shipped boosters at rate 0.05, half the rounds (soft labels) + ReLU network (3 seeds), "
        "weight 0.25; no graph member",
        **compare(arms, args.reference, seeds),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
