"""The network's input transform: sparse and dense paths agree, zeros stay zero, NaN is filled."""

from __future__ import annotations

import numpy as np

from hygeia.toxicity.network_inputs import fit_input_transform


def _features(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = (rng.uniform(size=(200, 30)) < 0.2) * rng.integers(1, 5, size=(200, 30))
    rare = np.zeros((200, 2))
    rare[0, 0] = 1  # seen once: dropped
    descriptors = rng.lognormal(3, 2, size=(200, 4))
    descriptors[5, 1] = np.nan
    return np.hstack([counts, rare, descriptors]).astype(np.float32)


def test_sparse_path_equals_dense_reference() -> None:
    x = _features()
    transform = fit_input_transform(x, min_count=3)
    assert np.allclose(transform.sparse(x).toarray(), transform(x), atol=1e-5)


def test_rare_columns_dropped_and_fingerprints_stay_sparse() -> None:
    x = _features()
    transform = fit_input_transform(x, min_count=3)
    assert 30 not in transform.columns and 31 not in transform.columns
    out = transform(x)
    fingerprint = out[:, : transform.n_sparse]
    assert np.array_equal(fingerprint == 0, x[:, transform.columns[: transform.n_sparse]] == 0)


def test_descriptors_are_scaled_and_missing_values_filled() -> None:
    x = _features()
    transform = fit_input_transform(x, min_count=3)
    dense = transform(x)[:, transform.n_sparse :]
    assert np.isfinite(dense).all()
    assert np.allclose(dense.mean(axis=0), 0, atol=0.2) and (np.abs(dense) <= transform.clip).all()
