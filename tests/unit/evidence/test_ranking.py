"""Feedback moves evidence weights in the direction of the votes, and only as far as they justify."""

from __future__ import annotations

import pytest

from hygeia.evidence.ranking import PRIOR_WEIGHTS, FeedbackExample, confidence, contributions, fit_weights


def test_no_feedback_returns_the_prior() -> None:
    assert fit_weights([]) == pytest.approx(PRIOR_WEIGHTS)


def test_upvotes_raise_and_downvotes_lower_the_voted_feature() -> None:
    up = [FeedbackExample({"literature": 1.0}, "up")] * 20
    down = [FeedbackExample({"literature": 1.0}, "down")] * 20
    assert fit_weights(up)["literature"] > PRIOR_WEIGHTS["literature"]
    assert fit_weights(down)["literature"] < PRIOR_WEIGHTS["literature"]
    assert fit_weights(down)["approved"] == pytest.approx(PRIOR_WEIGHTS["approved"], abs=1e-6)


def test_flags_count_as_negative_and_more_votes_move_further() -> None:
    few = fit_weights([FeedbackExample({"trial_max_phase": 1.0}, "flag")] * 2)
    many = fit_weights([FeedbackExample({"trial_max_phase": 1.0}, "flag")] * 50)
    prior = PRIOR_WEIGHTS["trial_max_phase"]
    assert many["trial_max_phase"] < few["trial_max_phase"] < prior


def test_frozen_weights_stay_at_the_prior() -> None:
    votes = [FeedbackExample({"pharmacotherapy_dm": 1.0, "literature": 1.0}, "down")] * 10
    fitted = fit_weights(votes, frozen=["pharmacotherapy_dm"])
    assert fitted["pharmacotherapy_dm"] == PRIOR_WEIGHTS["pharmacotherapy_dm"]


def test_confidence_is_the_logistic_of_the_weighted_sum() -> None:
    weights = {"bias": -1.0, "approved": 2.0}
    assert confidence({"approved": 1.0}, weights) == pytest.approx(1 / (1 + 2.718281828459045**-1.0))
    assert confidence({}, weights) == pytest.approx(1 / (1 + 2.718281828459045))
    assert contributions({"approved": 1.0, "literature": 0.0}, weights) == {"approved": 2.0}
