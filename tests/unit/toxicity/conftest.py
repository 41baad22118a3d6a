"""The shipped model folder, loaded once: tests of loading, prediction, explanation and the CLI use it;
and made-up out-of-fold predictions for the research scripts' reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks.toxicity.blending import SHIPPED_NETWORKS

from hygeia.toxicity.loading import bundled_folder, load_folder
from hygeia.toxicity.model import ToxicityModel

REPO_ROOT = Path(__file__).resolve().parents[3]
N, ENDPOINTS = 500, 12  # made-up out-of-fold rows and endpoints


@pytest.fixture(scope="session")
def shipped_folder() -> Path:
    folder = bundled_folder(REPO_ROOT / "models")
    assert folder is not None, "no models/toxicity/<version>/card.json: run `hygeia toxicity train`"
    return folder


@pytest.fixture(scope="session")
def shipped_model(shipped_folder: Path) -> ToxicityModel:
    return load_folder(shipped_folder)


@pytest.fixture
def made_up(tmp_path: Path):  # type: ignore[no-untyped-def]
    """labels, folds and a `scores(signal)` maker; the networks' folder written already."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, (N, ENDPOINTS)).astype(float)
    labels[rng.random((N, ENDPOINTS)) < 0.1] = np.nan  # untested
    folds = np.arange(N) % 5

    def scores(signal: float) -> np.ndarray:
        return np.clip(np.nan_to_num(labels) * signal + rng.random((N, ENDPOINTS)), 1e-3, 1 - 1e-3) / 2

    (tmp_path / "networks").mkdir()
    for name in SHIPPED_NETWORKS:
        np.save(tmp_path / "networks" / f"{name}.npy", scores(0.1))
    return labels, folds, scores
