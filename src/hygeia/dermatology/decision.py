"""Which class to answer, given calibrated probabilities: argmax of p(c | x) / prior(c)^exponent.

Temperature-scaled probabilities are calibrated to the training mix, where naevi are 72% of images,
so their argmax favours naevus and under-calls the rare classes, melanoma among them. Dividing by
the training prior gives the rule that maximises balanced accuracy for perfectly calibrated
probabilities (exponent 1); real probabilities are not perfect, so the exponent between 0 (plain
argmax) and 1 is chosen on validation balanced accuracy. The probabilities themselves are untouched:
only the decision moves, so calibration, AUC and the card's reliability curves stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hygeia.dermatology.evaluation import balanced_accuracy

EXPONENTS = tuple(round(x, 2) for x in np.arange(0.0, 1.0001, 0.05))


@dataclass(frozen=True)
class DecisionRule:
    prior: tuple[float, ...]  # class frequencies of the training split
    exponent: float

    @classmethod
    def most_probable(cls, n_classes: int) -> DecisionRule:
        """Plain argmax: what a model folder without a decision rule does."""
        return cls((1.0,) * n_classes, 0.0)

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, n_classes: int) -> DecisionRule:
        if not config:
            return cls.most_probable(n_classes)
        prior = tuple(float(p) for p in config["prior"])
        if len(prior) != n_classes or min(prior) <= 0:
            raise ValueError(f"decision rule needs {n_classes} positive prior frequencies, got {prior}")
        return cls(prior, float(config["exponent"]))

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.prior, dtype=np.float64) ** -self.exponent

    def scores(self, probs: np.ndarray) -> np.ndarray:
        """Per-class decision scores; argmax is the decision, and each column is a constant multiple of
        the probability, so per-class AUCs computed from them equal the probabilities' AUCs."""
        return np.asarray(probs) * self.weights

    def decide(self, probs: np.ndarray) -> np.ndarray:
        return self.scores(probs).argmax(axis=-1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "prior": list(self.prior),
            "exponent": self.exponent,
            "rule": "argmax p(c|x) / prior(c)^exponent",
        }


def class_prior(labels: np.ndarray, n_classes: int) -> tuple[float, ...]:
    counts = np.bincount(np.asarray(labels), minlength=n_classes).astype(np.float64)
    if np.any(counts == 0):
        raise ValueError("every class needs training examples to estimate its prior")
    return tuple(float(c) for c in counts / counts.sum())


def fit_decision_rule(
    probs: np.ndarray, labels: np.ndarray, prior: tuple[float, ...]
) -> tuple[DecisionRule, dict[float, float]]:
    """The exponent with the best validation balanced accuracy (the smallest one on a tie), and the
    balanced accuracy of every exponent tried, for the card. One parameter: ~900 validation images
    can choose it without fitting their noise, which a free weight per class would."""
    tried = {e: balanced_accuracy(labels, DecisionRule(prior, e).decide(probs)) for e in EXPONENTS}
    best = max(tried, key=lambda e: (tried[e], -e))
    return DecisionRule(prior, best), tried
