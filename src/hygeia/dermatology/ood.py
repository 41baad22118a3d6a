"""Out-of-distribution gate on the network's own penultimate embedding (class-conditional Mahalanobis).

The embedding is the global-average-pooled last feature map, the exact input of the linear head, so
it is what the classifier "sees". Distance is the smallest Mahalanobis distance to a class mean with
one shared (tied), shrunk covariance, fitted on the training split (Lee et al., NeurIPS 2018). An
image far from every class is not a dermatoscopic lesion the model knows, and gets no class.

Statistics live in `gate.npz` (plain float arrays, loaded with allow_pickle=False) and the threshold
and provenance in `gate.json`; both are listed with their sha256 in the model card like every other
artifact, so a tampered gate fails verification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.dermatology.quality import QualityLimits

GATE_ARRAYS = "gate.npz"
GATE_CONFIG = "gate.json"


def embedding(features: np.ndarray) -> np.ndarray:
    """(N, K, h, w) feature maps -> (N, K) pooled embedding, the linear head's input."""
    return features.mean(axis=(2, 3), dtype=np.float64)


@dataclass(frozen=True)
class FeatureGate:
    class_means: np.ndarray  # (C, K)
    precision: np.ndarray  # (K, K), inverse of the shrunk tied covariance
    threshold: float  # squared distances above this are refused
    quality: QualityLimits

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, K) -> (N,) smallest squared Mahalanobis distance to any class mean."""
        x = np.asarray(embeddings, dtype=np.float64)
        best = np.full(x.shape[0], np.inf)
        for mean in self.class_means:
            centred = x - mean
            best = np.minimum(best, np.einsum("nk,kj,nj->n", centred, self.precision, centred))
        return best

    def accepts(self, embeddings: np.ndarray) -> np.ndarray:
        return self.distances(embeddings) <= self.threshold

    @classmethod
    def load(cls, folder: Path) -> FeatureGate | None:
        """The folder's gate, or None for model versions shipped before the gate existed."""
        folder = Path(folder)
        if not (folder / GATE_CONFIG).is_file():
            return None
        config = json.loads((folder / GATE_CONFIG).read_text())
        with np.load(folder / GATE_ARRAYS, allow_pickle=False) as arrays:
            means = arrays["class_means"].astype(np.float64)
            precision = arrays["precision"].astype(np.float64)
        if precision.shape != (means.shape[1], means.shape[1]):
            raise ValueError(
                f"{folder / GATE_ARRAYS}: precision {precision.shape} does not fit {means.shape}"
            )
        return cls(
            means, precision, float(config["threshold"]), QualityLimits.from_dict(config.get("quality"))
        )


def fit_statistics(
    embeddings: np.ndarray, labels: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Class means and the Ledoit-Wolf-shrunk tied covariance's inverse. Shrinkage matters: 1,280
    dimensions from ~4,000 images gives a singular sample covariance."""
    from sklearn.covariance import LedoitWolf

    x = np.asarray(embeddings, dtype=np.float64)
    means = np.stack([x[labels == c].mean(axis=0) for c in range(n_classes)])
    within = x - means[labels]
    covariance = LedoitWolf(assume_centered=True).fit(within).covariance_
    return means, np.linalg.inv(covariance)


def threshold_for_keep(distances: np.ndarray, keep: float) -> float:
    """The distance that accepts the fraction `keep` of the given (validation) images."""
    return float(np.quantile(np.asarray(distances, dtype=np.float64), keep, method="higher"))


def threshold_with_bound(distances: np.ndarray, max_reject: float, confidence: float = 0.95) -> float:
    """The smallest distance limit whose validation rejection rate has a one-sided Clopper-Pearson
    upper bound <= `max_reject`. Matching the rate on validation exactly (the plain quantile) leaves
    a new sample of real images rejected more often about half the time; the bound leaves a margin
    sized by the validation set, so the promise (keep >= 1 - max_reject) holds on new images too."""
    from scipy.stats import beta

    ordered = np.sort(np.asarray(distances, dtype=np.float64))[::-1]
    n = len(ordered)
    rejected = 0
    while rejected + 1 < n and beta.ppf(confidence, rejected + 2, n - rejected - 1) <= max_reject:
        rejected += 1
    return float(ordered[rejected])


def save_gate(folder: Path, gate: FeatureGate, provenance: dict[str, Any]) -> None:
    """float32 arrays (half the size, no measurable change in distance) + JSON threshold/provenance."""
    np.savez(
        Path(folder) / GATE_ARRAYS,
        class_means=gate.class_means.astype(np.float32),
        precision=gate.precision.astype(np.float32),
    )
    config = {
        "method": "class-conditional Mahalanobis, tied Ledoit-Wolf covariance, pooled last feature map",
        "threshold": gate.threshold,
        "quality": gate.quality.as_dict(),
        **provenance,
    }
    (Path(folder) / GATE_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
