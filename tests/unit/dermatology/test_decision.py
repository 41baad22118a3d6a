"""The decision rule: argmax of p / prior^exponent, its exponent chosen on validation balanced accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hygeia.dermatology.decision import DecisionRule, class_prior, fit_decision_rule
from hygeia.dermatology.evaluation import balanced_accuracy

PRIOR = (0.8, 0.15, 0.05)


def skewed_probabilities(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated-looking probabilities for a 3-class problem with an 80/15/5 class mix, where the
    rare classes' probabilities stay below the common class's on many of their own cases."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=PRIOR)
    evidence = rng.normal(0.0, 1.0, (n, 3))
    evidence[np.arange(n), labels] += 1.2
    logits = evidence + np.log(PRIOR)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, labels


def test_exponent_zero_is_plain_argmax():
    probs, _ = skewed_probabilities()
    assert np.array_equal(DecisionRule.most_probable(3).decide(probs), probs.argmax(axis=1))
    assert np.array_equal(DecisionRule(PRIOR, 0.0).decide(probs), probs.argmax(axis=1))


def test_fitted_exponent_raises_balanced_accuracy_on_held_out_cases():
    probs, labels = skewed_probabilities(seed=1)
    rule, tried = fit_decision_rule(probs, labels, class_prior(labels, 3))
    assert 0.0 < rule.exponent <= 1.0 and tried[rule.exponent] == max(tried.values())
    held_probs, held_labels = skewed_probabilities(seed=2)
    argmax_ba = balanced_accuracy(held_labels, held_probs.argmax(axis=1))
    assert balanced_accuracy(held_labels, rule.decide(held_probs)) > argmax_ba + 0.05


def test_scores_keep_every_per_class_auc():
    probs, labels = skewed_probabilities()
    scores = DecisionRule(PRIOR, 0.7).scores(probs)
    for c in range(3):
        expected = roc_auc_score(labels == c, probs[:, c])
        assert roc_auc_score(labels == c, scores[:, c]) == pytest.approx(expected)


def test_config_round_trip_and_refusals():
    rule = DecisionRule(PRIOR, 0.55)
    assert DecisionRule.from_config(rule.as_dict(), 3) == rule
    assert DecisionRule.from_config(None, 3) == DecisionRule.most_probable(3)
    with pytest.raises(ValueError, match="3 positive prior"):
        DecisionRule.from_config({"prior": [0.5, 0.5], "exponent": 0.5}, 3)
    with pytest.raises(ValueError, match="every class"):
        class_prior(np.array([0, 0, 1]), 3)
