"""The graph ranking model: a regularised logistic regression over transformed graph features.

Transform as in Rephetio: DWPC -> asinh(DWPC / mean DWPC of that metapath), degrees -> log1p,
then standardised, so coefficients are comparable and a feature's contribution to the logit is
coefficient x standardised value. Stored as JSON (no pickle): transform means, scaler, weights.
Scoring needs only numpy, so the API never imports scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.evidence.graph_features import FeatureMatrix

REGULARISATION_C = 0.1  # 2.0.0's value, fixed before any evaluation for ~40 standardised features
# 2.1.0 picks C from this grid on the held-out PharmacotherapyDB folds (graph_eval.cross_validate):
# ~200 strongly correlated DWPC features need far stronger L2 than 2.0.0's 35.
REGULARISATION_GRID = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
MODEL_FILE = "graph_model.json"


@dataclass(frozen=True)
class GraphModel:
    features: list[str]
    dwpc_means: dict[str, float]
    center: list[float]
    scale: list[float]
    coefficients: list[float]
    intercept: float
    metapaths: list[str]
    damping: float
    regularisation_c: float = REGULARISATION_C

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """(..., n_features) raw values -> standardised model inputs."""
        return (transform(raw, self.features, self.dwpc_means) - np.array(self.center)) / np.array(self.scale)

    def logit(self, raw: np.ndarray) -> np.ndarray:
        return self.transform(raw) @ np.array(self.coefficients) + self.intercept

    def contributions(self, raw_row: np.ndarray) -> dict[str, float]:
        """Per-feature share of the logit (without the intercept) for one pair."""
        parts = self.transform(raw_row) * np.array(self.coefficients)
        return {name: float(v) for name, v in zip(self.features, parts, strict=True)}

    def save(self, folder: Path) -> Path:
        path = folder / MODEL_FILE
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> GraphModel:
        data: dict[str, Any] = json.loads((folder / MODEL_FILE).read_text())
        return cls(**data)


def dwpc_means(matrix: FeatureMatrix) -> dict[str, float]:
    """Mean DWPC per metapath over all pairs; a metapath that is all zero gets 1 (no rescaling)."""
    out = {}
    for name in matrix.names:
        if name.startswith("dwpc_"):
            mean = float(matrix.column(name).mean())
            out[name] = mean if mean > 0 else 1.0
    return out


def transform(raw: np.ndarray, names: Sequence[str], means: dict[str, float]) -> np.ndarray:
    out = np.array(raw, dtype=np.float64, copy=True)
    for k, name in enumerate(names):
        if name.startswith("dwpc_"):
            out[..., k] = np.arcsinh(out[..., k] / means[name])
        elif name.startswith("degree_"):
            out[..., k] = np.log1p(np.maximum(out[..., k], 0.0))
    return out


def fit_graph_model(
    raw: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    means: dict[str, float],
    metapaths: Sequence[str],
    damping: float,
    c: float = REGULARISATION_C,
) -> GraphModel:
    """raw: (n_pairs, n_features) training rows; labels 0/1."""
    from sklearn.linear_model import LogisticRegression

    x = transform(raw, names, means)
    center = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit((x - center) / scale, labels)
    return GraphModel(
        features=list(names),
        dwpc_means=dict(means),
        center=[float(v) for v in center],
        scale=[float(v) for v in scale],
        coefficients=[float(v) for v in clf.coef_[0]],
        intercept=float(clf.intercept_[0]),
        metapaths=list(metapaths),
        damping=damping,
        regularisation_c=c,
    )
