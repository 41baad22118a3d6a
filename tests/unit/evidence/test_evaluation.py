"""Metric arithmetic for retrieval and candidate ranking on hand-made inputs."""

from __future__ import annotations

import math

import pytest

from hygeia.evidence.evaluation import rank_metrics
from hygeia.evidence.repurposing_eval import fold_of, ranking_metrics


def test_rank_metrics_single_relevant_document() -> None:
    m = rank_metrics([1, 2, None, 20], cutoff=10)
    assert m["recall@10"] == pytest.approx(0.5)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 4)
    assert m["mrr"] == pytest.approx((1 + 0.5 + 1 / 20) / 4)
    assert m["recall@1"] == pytest.approx(0.25)


def test_ranking_metrics_auroc_and_precision() -> None:
    scores = {"d1": {"a": 0.9, "b": 0.5, "c": 0.1}, "d2": {"a": 0.2, "b": 0.8, "c": 0.4}}
    positives = {"d1": {"a"}, "d2": {"c"}}
    m = ranking_metrics(scores, positives, {"d2": {"b"}})
    # pooled: positives 0.9, 0.4; negatives 0.5, 0.1, 0.2, 0.8 -> 4 + 2 of 8 pairs ordered right
    assert m["auroc"] == pytest.approx(6 / 8)
    assert m["auroc_mean_per_drug"] == pytest.approx((1.0 + 0.5) / 2)
    assert m["precision@1"] == pytest.approx(0.5)
    # positives a (0.9), c (0.4) against the one curated NOT, b (0.8): one of two pairs right
    assert m["auroc_vs_curated_non_indications"] == pytest.approx(0.5)


def test_folds_are_stable_and_balanced_enough() -> None:
    assert fold_of("DB00331") == fold_of("DB00331")
    counts = [sum(1 for i in range(1000) if fold_of(f"DB{i:05d}") == f) for f in range(5)]
    assert min(counts) > 150
