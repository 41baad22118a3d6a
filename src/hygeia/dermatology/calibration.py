"""Temperature scaling, calibration error, and the "uncertain — refer" rule (numpy only).

All three are fitted on the validation split and only measured on the test split, so the test
numbers say how they behave on images they were not tuned on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from hygeia.dermatology.decision import DecisionRule

ECE_BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    probs = softmax(logits, temperature)
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels] + 1e-12)))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """One scalar T minimising validation NLL: it rescales confidence without changing any argmax,
    so balanced accuracy is untouched while over- or under-confidence is corrected."""
    result = minimize_scalar(
        lambda log_t: nll(logits, labels, math.exp(log_t)), bounds=(-3.0, 3.0), method="bounded"
    )
    return float(math.exp(result.x))


def reliability(probs: np.ndarray, labels: np.ndarray, n_bins: int = ECE_BINS) -> dict[str, Any]:
    """Top-label reliability diagram data and its expected calibration error (equal-width bins)."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        mask = index == b
        count = int(mask.sum())
        if count:
            conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
            ece += count / len(labels) * abs(acc - conf)
        else:
            conf = acc = float("nan")
        bins.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "confidence": _finite(conf),
                "accuracy": _finite(acc),
            }
        )
    return {"ece": float(ece), "n_bins": n_bins, "bins": bins}


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def normalised_entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy / log(C): 0 for a certain answer, 1 for a uniform one, comparable across class counts."""
    p = np.clip(probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=-1) / math.log(probs.shape[-1])


def tta_spread(view_probs: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Std over augmented views (V, N, C) of the probability of the predicted class: an answer that
    changes when the lesion is merely rotated or mirrored should not be trusted."""
    chosen = view_probs[:, np.arange(view_probs.shape[1]), predicted]
    return chosen.std(axis=0)


@dataclass(frozen=True)
class ReferralRule:
    """Flag "uncertain — refer" when entropy or TTA spread exceeds its validation-chosen threshold."""

    entropy_threshold: float
    spread_threshold: float
    max_refer_rate: float
    quantile: float

    def flags(self, entropy: np.ndarray, spread: np.ndarray) -> np.ndarray:
        return (entropy > self.entropy_threshold) | (spread > self.spread_threshold)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _decide(probs: np.ndarray, decision: DecisionRule | None) -> np.ndarray:
    return probs.argmax(axis=1) if decision is None else decision.decide(probs)


def _balanced_accuracy(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    recalls = [np.mean(predicted[labels == c] == c) for c in range(n_classes) if np.any(labels == c)]
    return float(np.mean(recalls)) if recalls else float("nan")


def choose_referral_rule(
    probs: np.ndarray,
    view_probs: np.ndarray,
    labels: np.ndarray,
    max_refer_rate: float = 0.30,
    decision: DecisionRule | None = None,
) -> ReferralRule:
    """Same quantile q for both signals; pick the q whose retained validation cases have the best
    balanced accuracy while at most `max_refer_rate` of cases are referred.

    One shared quantile keeps the search to one dimension, which a validation set of ~900 images
    can support without overfitting the rule.
    """
    predicted = _decide(probs, decision)
    entropy, spread = normalised_entropy(probs), tta_spread(view_probs, predicted)
    best: tuple[float, ReferralRule] | None = None
    for q in np.arange(0.70, 1.0001, 0.01):
        rule = ReferralRule(
            float(np.quantile(entropy, min(q, 1.0))),
            float(np.quantile(spread, min(q, 1.0))),
            max_refer_rate,
            float(round(q, 2)),
        )
        referred = rule.flags(entropy, spread)
        if referred.mean() > max_refer_rate or referred.all():
            continue
        score = _balanced_accuracy(labels[~referred], predicted[~referred], probs.shape[1])
        if best is None or score > best[0] + 1e-9:
            best = (score, rule)
    if best is None:
        raise ValueError("no referral threshold keeps the refer rate under the limit")
    return best[1]


def referral_summary(
    rule: ReferralRule,
    probs: np.ndarray,
    view_probs: np.ndarray,
    labels: np.ndarray,
    decision: DecisionRule | None = None,
) -> dict[str, float]:
    """What the rule does on a split: how many are referred and how accurate the rest are."""
    predicted = _decide(probs, decision)
    referred = rule.flags(normalised_entropy(probs), tta_spread(view_probs, predicted))
    n_classes = probs.shape[1]
    kept = ~referred
    return {
        "refer_rate": float(referred.mean()),
        "balanced_accuracy_all": _balanced_accuracy(labels, predicted, n_classes),
        "balanced_accuracy_retained": _balanced_accuracy(labels[kept], predicted[kept], n_classes),
        "accuracy_referred": float(np.mean(predicted[referred] == labels[referred]))
        if referred.any()
        else 1.0,
        "accuracy_retained": float(np.mean(predicted[kept] == labels[kept])) if kept.any() else float("nan"),
    }
