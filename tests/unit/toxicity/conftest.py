"""The shipped model folder, loaded once: tests of loading, prediction, explanation and the CLI use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.toxicity.loading import bundled_folder, load_folder
from hygeia.toxicity.model import ToxicityModel

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def shipped_folder() -> Path:
    folder = bundled_folder(REPO_ROOT / "models")
    assert folder is not None, "no models/toxicity/<version>/card.json: run `hygeia toxicity train`"
    return folder


@pytest.fixture(scope="session")
def shipped_model(shipped_folder: Path) -> ToxicityModel:
    return load_folder(shipped_folder)
