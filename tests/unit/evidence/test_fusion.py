"""Reciprocal rank fusion arithmetic, checked against hand-computed sums."""

from __future__ import annotations

import pytest

from hygeia.evidence.fusion import reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)


def test_document_in_both_lists_beats_a_single_first_place() -> None:
    order = [item for item, _ in reciprocal_rank_fusion([["a", "b"], ["b", "c"]])]
    assert order == ["b", "a", "c"]


def test_ties_keep_first_appearance_and_k_changes_nothing_of_order_for_single_list() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y"], ["y", "x"]])] == ["x", "y"]
    assert [i for i, _ in reciprocal_rank_fusion([["p", "q", "r"]], k=0)] == ["p", "q", "r"]


def test_weights_and_validation() -> None:
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 3.0]))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(3.0)}
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=-1)
