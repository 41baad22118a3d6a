"""Evidence-type weights: a logistic model over candidate features, re-fitted from user feedback.

The prior weights below were set by hand from what each evidence type means (an approval is strong,
a phase-3 failure says the indication was plausible, a curated non-indication counts against) before
any evaluation was run (except `disease_treatment_count`, added after the first run showed that
pairs without evidence all tied); they are what a tenant gets with no feedback. Feedback (upvote = 1,
downvote/flag = 0) is replayed into an L2-regularised logistic regression pulled towards the prior,
so a handful of votes nudges the weights and many votes can overrule the prior.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from hygeia.evidence.features import FEATURES

BIAS = "bias"
PRIOR_WEIGHTS: dict[str, float] = {
    BIAS: -4.0,
    "approved": 3.0,
    "trial_max_phase": 1.5,
    "trial_count": 0.5,
    "drugcentral": 3.0,
    "pharmacotherapy_dm": 4.0,
    "pharmacotherapy_sym": 3.0,
    "pharmacotherapy_not": -3.0,
    "literature": 1.0,
    "related_indication": 4.0,
    "drug_approved_any": 0.5,
    "disease_treatment_count": 0.3,
    "graph_score": 0.0,  # 1.0.0 has no graph model; 2.0.0's ranking.json sets its own prior
}
DEFAULT_L2 = 1.0
VOTE_LABEL = {"up": 1.0, "down": 0.0, "flag": 0.0}


@dataclass(frozen=True)
class FeedbackExample:
    features: Mapping[str, float]
    vote: str  # up, down, flag


def as_vector(weights: Mapping[str, float]) -> np.ndarray:
    return np.array([weights.get(BIAS, 0.0)] + [weights.get(f, 0.0) for f in FEATURES], dtype=np.float64)


def as_weights(vector: np.ndarray) -> dict[str, float]:
    return {BIAS: float(vector[0])} | {f: float(v) for f, v in zip(FEATURES, vector[1:], strict=True)}


def design_row(features: Mapping[str, float]) -> np.ndarray:
    return np.array([1.0] + [float(features.get(f, 0.0)) for f in FEATURES], dtype=np.float64)


def confidence(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Model probability that the candidate is a real indication under these weights."""
    z = float(design_row(features) @ as_vector(weights))
    return 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0)))


def contributions(features: Mapping[str, float], weights: Mapping[str, float]) -> dict[str, float]:
    """Per-feature share of the logit, shown to users so a score is never a black box."""
    return {f: round(weights.get(f, 0.0) * v, 4) for f, v in features.items() if v}


def fit_weights(
    examples: Sequence[FeedbackExample],
    prior: Mapping[str, float] = PRIOR_WEIGHTS,
    l2: float = DEFAULT_L2,
    frozen: Sequence[str] = (),
) -> dict[str, float]:
    """MAP logistic regression with a Gaussian prior centred on `prior`; `frozen` weights stay put."""
    w0 = as_vector(prior)
    if not examples:
        return as_weights(w0)
    X = np.stack([design_row(e.features) for e in examples])
    y = np.array([VOTE_LABEL[e.vote] for e in examples])
    free = np.array([name not in frozen for name in (BIAS, *FEATURES)])

    def loss(w_free: np.ndarray) -> tuple[float, np.ndarray]:
        w = w0.copy()
        w[free] = w_free
        z = X @ w
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        grad = X.T @ (1.0 / (1.0 + np.exp(-z)) - y) + l2 * (w - w0)
        return nll + 0.5 * l2 * float(np.sum((w - w0) ** 2)), grad[free]

    result = minimize(loss, w0[free], jac=True, method="L-BFGS-B")
    w = w0.copy()
    w[free] = result.x
    return as_weights(w)
