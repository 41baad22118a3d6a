"""The network's input transform, fitted in numpy (no torch) so it can be tested and inspected alone.

Count fingerprints and descriptors span orders of magnitude (a count of 0-255, Ipc up to 1e12), so
each kept column gets a signed log and a scale, then a clip: without it a few huge descriptors
dominate the first layer. Only dense columns (descriptors, non-zero in most compounds) are also
centred; fingerprint columns keep zero at zero, so a molecule's input stays sparse (~300 of ~6,000
columns non-zero) and training on two shared CPU cores stays affordable. Columns almost never
non-zero (hashed bits seen in under `min_count` compounds) carry no learnable signal and are
dropped. No labels are used, so fitting the transform on a training fold leaks nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse

CLIP = 6.0
DENSE_FRACTION = 0.5  # columns non-zero in more compounds than this (or ever missing) are centred


@dataclass(frozen=True)
class NetworkConfig:
    """Fixed hyperparameters, chosen by network-only scaffold CV on the selection folds (seed 0,
    `benchmarks/toxicity/network_selection.py`). Heavy input dropout and weight decay are what
    counted: with ~7,800 compounds and ~2,000 kept columns the network overfits the fingerprints."""

    hidden: tuple[int, ...] = (256, 128)
    input_dropout: float = 0.7
    dropout: float = 0.5
    epochs: int = 15
    batch_size: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-3
    min_column_count: int = 30
    # "relu" (ReLU + dropout) or "selu" (self-normalising: SELU + alpha dropout + LeCun-normal weights,
    # the SNN of Klambauer et al. 2017, second on the Tox21 challenge set)
    activation: str = "relu"

    def as_dict(self) -> dict[str, object]:
        """JSON-shaped (lists, not tuples), so a card renders the same before and after it is stored."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass(frozen=True)
class InputTransform:
    columns: np.ndarray  # int64 indices of the kept raw columns: sparse ones first, then dense ones
    fill: np.ndarray  # per kept column: value for NaN (training median; 0 for sparse columns)
    mean: np.ndarray  # of the signed-log values; 0 for sparse columns
    scale: np.ndarray
    n_sparse: int  # the first n_sparse kept columns are fingerprint-like (never centred)
    clip: float = CLIP

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Dense reference implementation (what the exported ONNX graph computes)."""
        x = features[:, self.columns]
        x = np.where(np.isnan(x), self.fill, x)
        return np.clip((signed_log(x) - self.mean) / self.scale, -self.clip, self.clip).astype(np.float32)

    def sparse(self, features: np.ndarray) -> sparse.csr_matrix:
        """The same values as `__call__`, built without materialising the dense transformed matrix."""
        head = sparse.csr_matrix(features[:, self.columns[: self.n_sparse]], dtype=np.float32)
        scale = self.scale[: self.n_sparse]
        head.data = np.clip(signed_log(head.data) / scale[head.indices], -self.clip, self.clip)
        tail = self._dense_tail(features)
        return sparse.hstack([head, sparse.csr_matrix(tail)], format="csr", dtype=np.float32)

    def _dense_tail(self, features: np.ndarray) -> np.ndarray:
        k = self.n_sparse
        x = features[:, self.columns[k:]]
        x = np.where(np.isnan(x), self.fill[k:], x)
        z = (signed_log(x) - self.mean[k:]) / self.scale[k:]
        return np.clip(z, -self.clip, self.clip).astype(np.float32)


def fit_input_transform(features: np.ndarray, min_count: int) -> InputTransform:
    n = len(features)
    has_nan = np.isnan(features).any(axis=0)
    nonzero = np.count_nonzero(features, axis=0)  # NaN counts as non-zero: such columns are dense
    kept = nonzero >= min_count
    dense_mask = kept & ((nonzero > DENSE_FRACTION * n) | has_nan)
    sparse_cols = np.flatnonzero(kept & ~dense_mask)
    dense_cols = np.flatnonzero(dense_mask)
    head = sparse.csc_matrix(features[:, sparse_cols], dtype=np.float64)
    head.data = signed_log(head.data) ** 2
    sparse_scale = np.sqrt(np.asarray(head.sum(axis=0)).ravel() / n)
    block = features[:, dense_cols].astype(np.float64)
    fill = np.array([np.median(c[~np.isnan(c)]) if (~np.isnan(c)).any() else 0.0 for c in block.T])
    logged = signed_log(np.where(np.isnan(block), fill, block))
    dense_mean = logged.mean(axis=0)
    dense_scale = logged.std(axis=0)
    scale = np.concatenate([sparse_scale, dense_scale])
    return InputTransform(
        columns=np.concatenate([sparse_cols, dense_cols]).astype(np.int64),
        fill=np.concatenate([np.zeros(len(sparse_cols)), fill]).astype(np.float32),
        mean=np.concatenate([np.zeros(len(sparse_cols)), dense_mean]).astype(np.float32),
        scale=np.where(scale > 1e-6, scale, 1.0).astype(np.float32),
        n_sparse=len(sparse_cols),
    )
