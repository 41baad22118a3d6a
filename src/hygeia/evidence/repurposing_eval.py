"""Held-out evaluation of candidate-indication ranking against PharmacotherapyDB.

Leakage rules:
- PharmacotherapyDB is the answer key, so its three features are hidden for every drug scored.
- DrugCentral's file carries a `category` column that is PharmacotherapyDB's label joined onto
  DrugCentral pairs (checked: 461/461 overlapping rows agree, all 210 others are blank); only the
  pair's presence in DrugCentral is a feature, never the category.
- Weights learned from feedback come from other drugs: 5 folds by a hash of the DrugBank id; the
  feedback of the 4 training folds is replayed as votes a curator would have cast on the top-10
  suggestions (PharmacotherapyDB DM/SYM = upvote, anything else = downvote) plus the curated
  non-indications (downvote). The held-out fold is scored before (prior weights) and after.
Candidates are the 97 PharmacotherapyDB diseases; for a drug, its DM/SYM diseases are positives and
all others (its NOT rows included) negatives.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from hygeia.evidence.features import PHARMACOTHERAPY_FEATURES, EvidenceGraph
from hygeia.evidence.ranking import PRIOR_WEIGHTS, FeedbackExample, fit_weights
from hygeia.evidence.repurposing import rank_diseases
from hygeia.evidence.sources import Indication

FOLDS = 5
REPLAY_TOP = 10
CUTOFFS = (1, 5, 10)
INDEPENDENT_OF_LABELS = ("drugcentral", "approved")  # ablation: sources that share provenance with labels


def fold_of(drug_id: str, folds: int = FOLDS) -> int:
    return int(hashlib.sha256(drug_id.encode()).hexdigest(), 16) % folds


def label_sets(rows: Sequence[Indication]) -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]]:
    positives: dict[str, set[str]] = defaultdict(set)
    not_rows: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        (positives if row.category in ("DM", "SYM") else not_rows)[row.drugbank_id].add(row.doid)
    diseases = sorted({row.doid for row in rows})
    return positives, not_rows, diseases


def _scores(
    graph: EvidenceGraph,
    drugs: Sequence[str],
    diseases: Sequence[str],
    weights: Mapping[str, float],
    hidden: Sequence[str],
) -> dict[str, dict[str, float]]:
    return {
        drug: {c.disease_id: c.confidence for c in rank_diseases(graph, drug, diseases, weights, hidden)}
        for drug in drugs
    }


def ranking_metrics(
    scores: Mapping[str, Mapping[str, float]],
    positives: Mapping[str, set[str]],
    not_rows: Mapping[str, set[str]],
) -> dict[str, float]:
    """Pooled AUROC, mean per-drug AUROC, precision@k, recall@10, AUROC against curated NOT only."""
    y, s, per_drug, hard_y, hard_s = [], [], [], [], []
    at_k: dict[int, list[float]] = {k: [] for k in CUTOFFS}
    recall10 = []
    for drug, by_disease in scores.items():
        pos = positives.get(drug, set())
        labels = [1 if d in pos else 0 for d in by_disease]
        values = list(by_disease.values())
        y += labels
        s += values
        if 0 < sum(labels) < len(labels):
            per_drug.append(roc_auc_score(labels, values))
        order = sorted(by_disease, key=lambda d: (-by_disease[d], d))
        for k in CUTOFFS:
            at_k[k].append(sum(1 for d in order[:k] if d in pos) / k)
        recall10.append(sum(1 for d in order[:10] if d in pos) / max(len(pos), 1))
        for d in not_rows.get(drug, set()) | pos:
            if d in by_disease:
                hard_y.append(1 if d in pos else 0)
                hard_s.append(by_disease[d])
    metrics = {
        "auroc": roc_auc_score(y, s),
        "auroc_mean_per_drug": float(np.mean(per_drug)),
        "recall@10": float(np.mean(recall10)),
        **{f"precision@{k}": float(np.mean(v)) for k, v in at_k.items()},
    }
    if 0 < sum(hard_y) < len(hard_y):
        metrics["auroc_vs_curated_non_indications"] = roc_auc_score(hard_y, hard_s)
    return {k: round(float(v), 4) for k, v in metrics.items()}


def replayed_feedback(
    graph: EvidenceGraph,
    drugs: Sequence[str],
    diseases: Sequence[str],
    positives: Mapping[str, set[str]],
    not_rows: Mapping[str, set[str]],
    hidden: Sequence[str],
) -> list[FeedbackExample]:
    """Votes on each training drug's top suggestions under the prior, judged by the curated labels."""
    examples = []
    for drug in drugs:
        ranked = rank_diseases(graph, drug, diseases, PRIOR_WEIGHTS, hidden, k=REPLAY_TOP)
        judged = {c.disease_id for c in ranked}
        for c in ranked:
            examples.append(
                FeedbackExample(c.features, "up" if c.disease_id in positives.get(drug, ()) else "down")
            )
        for disease in sorted(not_rows.get(drug, set()) - judged):
            examples.append(FeedbackExample(graph.features(drug, disease, hidden), "down"))
    return examples


def evaluate_repurposing(graph: EvidenceGraph, pharmacotherapy: Sequence[Indication]) -> dict[str, Any]:
    positives, not_rows, diseases = label_sets(pharmacotherapy)
    drugs = sorted(positives)
    variants = {
        "all_evidence": tuple(PHARMACOTHERAPY_FEATURES),
        "without_drugcentral_and_approvals": tuple(PHARMACOTHERAPY_FEATURES) + INDEPENDENT_OF_LABELS,
    }
    report: dict[str, Any] = {
        "protocol": __doc__.strip().splitlines()[0] if __doc__ else "",
        "drugs": len(drugs),
        "candidate_diseases": len(diseases),
        "positives": sum(len(p) for p in positives.values()),
        "positive_rate": round(sum(len(p) for p in positives.values()) / (len(drugs) * len(diseases)), 4),
        "folds": FOLDS,
    }
    for name, hidden in variants.items():
        report[name] = _cross_validate(graph, drugs, diseases, positives, not_rows, hidden)
    report["popularity_baseline"] = _popularity(drugs, diseases, positives, not_rows)
    return report


def _cross_validate(
    graph: EvidenceGraph,
    drugs: list[str],
    diseases: list[str],
    positives: Mapping[str, set[str]],
    not_rows: Mapping[str, set[str]],
    hidden: Sequence[str],
) -> dict[str, Any]:
    before = _scores(graph, drugs, diseases, PRIOR_WEIGHTS, hidden)
    after: dict[str, dict[str, float]] = {}
    fitted = []
    for fold in range(FOLDS):
        train = [d for d in drugs if fold_of(d) != fold]
        test = [d for d in drugs if fold_of(d) == fold]
        feedback = replayed_feedback(graph, train, diseases, positives, not_rows, hidden)
        weights = fit_weights(feedback, PRIOR_WEIGHTS, frozen=hidden)
        fitted.append(weights)
        after.update(_scores(graph, test, diseases, weights, hidden))
    return {
        "hidden_features": list(hidden),
        "before_feedback_prior_weights": ranking_metrics(before, positives, not_rows),
        "after_feedback_learned_weights": ranking_metrics(after, positives, not_rows),
        "learned_weights_mean_over_folds": {
            k: round(float(np.mean([w[k] for w in fitted])), 3) for k in fitted[0]
        },
    }


def _popularity(
    drugs: list[str], diseases: list[str], positives: Mapping[str, set[str]], not_rows: Mapping[str, set[str]]
) -> dict[str, float]:
    """Score = how often the disease is an indication of the training-fold drugs (no drug evidence)."""
    scores: dict[str, dict[str, float]] = {}
    for fold in range(FOLDS):
        train = [d for d in drugs if fold_of(d) != fold]
        counts = {dis: sum(1 for d in train if dis in positives[d]) / len(train) for dis in diseases}
        scores.update({d: dict(counts) for d in drugs if fold_of(d) == fold})
    return ranking_metrics(scores, positives, not_rows)
