"""Probability calibration fitted on out-of-fold predictions and stored as plain JSON parameters.

Gradient-boosted scores rank well but their values are not frequencies; a safety reviewer reading
"0.3" must be able to trust that about 30 % of such compounds are active. Calibrators are fitted on
scaffold-CV out-of-fold predictions (never on the data a member was trained on) and the reported
calibration error is cross-fitted across folds, so it is not measured on the calibrator's own data.

Only strictly increasing maps are fitted (Platt, beta): a sorted library keeps the order of the raw
ensemble scores. Isotonic regression was dropped in 2.0 because its steps tied hundreds of distinct
scores to ~20 values on external data and cost ranking; it is still read so 1.0.0 can be rolled back to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

EPS = 1e-6
METHODS = ("platt", "beta")  # fitted now: both strictly increasing in the raw score
LOADABLE = ("isotonic", *METHODS)  # isotonic only to load models trained before 2.0
MIN_SLOPE = 1e-3  # keeps a fitted map strictly increasing even if the data suggest a flat one


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPS, 1 - EPS)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class Calibrator:
    """Monotone map from raw ensemble score to probability; `params` is all that is stored."""

    method: str
    params: dict[str, Any]

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(scores, self.params["x"], self.params["y"])
        if self.method == "platt":
            z = self.params["a"] * _logit(scores) + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "beta":
            p = np.clip(scores, EPS, 1 - EPS)
            z = self.params["a"] * np.log(p) - self.params["b"] * np.log1p(-p) + self.params["c"]
            return 1.0 / (1.0 + np.exp(-z))
        raise ValueError(f"unknown calibration method {self.method!r}")

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        if data.get("method") not in LOADABLE:
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(str(data["method"]), dict(data["params"]))


def fit_calibrator(scores: np.ndarray, labels: np.ndarray, method: str) -> Calibrator:
    """Platt (logistic on the logit) or beta calibration (Kull et al. 2017: logistic on ln p and
    -ln(1-p), both slopes kept positive so the map stays increasing). With one class present (tiny
    subsets) the scores are only shifted to that rate, which keeps their order."""
    scores = np.asarray(scores, dtype=np.float64)
    if np.unique(labels).size < 2:
        rate = float(np.clip(np.mean(labels), EPS, 1 - EPS)) if len(labels) else 0.5
        shift = float(np.log(rate / (1 - rate)) - np.median(_logit(scores))) if len(scores) else 0.0
        return Calibrator("platt", {"a": 1.0, "b": shift})
    if method == "platt":
        return _platt(scores, labels)
    if method == "beta":
        p = np.clip(scores, EPS, 1 - EPS)
        design = np.column_stack([np.log(p), -np.log1p(-p)])
        logistic = LogisticRegression(C=1e4).fit(design, labels)
        a, b = (float(v) for v in logistic.coef_[0])
        if a < MIN_SLOPE or b < MIN_SLOPE:  # a negative slope would bend the map: Platt instead
            return _platt(scores, labels)
        return Calibrator("beta", {"a": a, "b": b, "c": float(logistic.intercept_[0])})
    raise ValueError(f"unknown calibration method {method!r}")


def _platt(scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    logistic = LogisticRegression(C=1e4).fit(_logit(scores).reshape(-1, 1), labels)
    slope = max(float(logistic.coef_[0, 0]), MIN_SLOPE)
    return Calibrator("platt", {"a": slope, "b": float(logistic.intercept_[0])})


def cross_fitted(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, method: str) -> np.ndarray:
    """Each fold calibrated by a calibrator fitted on the other folds: an honest calibration estimate."""
    out = np.empty_like(scores, dtype=np.float64)
    for fold in np.unique(folds):
        test = folds == fold
        out[test] = fit_calibrator(scores[~test], labels[~test], method)(scores[test])
    return out


def brier(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((probabilities - labels) ** 2))


def reliability_curve(
    probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10
) -> list[dict[str, Any]]:
    """Equal-width bins over [0, 1]: mean predicted vs observed active fraction, with counts."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, n_bins - 1)
    curve = []
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        curve.append(
            {
                "bin": [round(float(edges[b]), 2), round(float(edges[b + 1]), 2)],
                "count": count,
                "mean_predicted": float(probabilities[inside].mean()) if count else None,
                "fraction_active": float(labels[inside].mean()) if count else None,
            }
        )
    return curve


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """Count-weighted mean |predicted - observed| over the reliability bins."""
    total = len(probabilities)
    error = 0.0
    for row in reliability_curve(probabilities, labels, n_bins):
        if row["count"]:
            error += row["count"] / total * abs(row["mean_predicted"] - row["fraction_active"])
    return float(error)


def choose_calibrator(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray
) -> tuple[Calibrator, dict[str, Any]]:
    """Pick the method with the lower cross-fitted Brier score, then refit it on all OOF scores.

    Returns the calibrator and a report: ECE and reliability curve before and after calibration.
    """
    candidates = {method: cross_fitted(scores, labels, folds, method) for method in METHODS}
    scores_by_method = {method: brier(p, labels) for method, p in candidates.items()}
    method = min(scores_by_method, key=lambda m: scores_by_method[m])
    calibrated = candidates[method]
    report = {
        "method": method,
        "brier_cross_fitted": {m: round(v, 5) for m, v in scores_by_method.items()},
        "brier_uncalibrated": round(brier(scores, labels), 5),
        "ece_uncalibrated": round(expected_calibration_error(scores, labels), 4),
        "ece_calibrated_cross_fitted": round(expected_calibration_error(calibrated, labels), 4),
        "reliability_calibrated_cross_fitted": reliability_curve(calibrated, labels),
    }
    return fit_calibrator(scores, labels, method), report
