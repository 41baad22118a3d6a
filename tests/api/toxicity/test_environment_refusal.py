"""Over HTTP: a production model whose recorded answers this environment does not reproduce is refused
with a 503 problem that says what differs, and readiness and the capability list carry the reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from hygeia.core.registry import get_registry, write_card
from hygeia.toxicity import MODEL_NAME
from hygeia.toxicity.environment_check import CHECK_FILE, ReferenceAnswers
from hygeia.toxicity.loading import clear_cache
from tests.conftest import REPO_ROOT, auth_header

SERVED = REPO_ROOT / "models" / "toxicity" / "2.13.1"


def _answers_recorded_elsewhere(tmp_path: Path) -> Path:
    """2.13.1's files as a version 9.9.9 whose recorded probabilities another environment would give."""
    folder = tmp_path / "9.9.9"
    shutil.copytree(SERVED, folder)
    recorded = ReferenceAnswers.load(folder / CHECK_FILE)
    recorded.probabilities[:, 0] = np.clip(recorded.probabilities[:, 0] + 0.05, 0.0, 1.0)
    np.savez_compressed(folder / CHECK_FILE, **recorded.arrays())  # type: ignore[arg-type]
    card = json.loads((folder / "card.json").read_text())
    write_card(folder, {**card, "version": "9.9.9"})
    return folder


def test_a_model_answering_otherwise_here_is_refused_with_the_reason(  # type: ignore[no-untyped-def]
    client, make_key, tmp_path: Path
) -> None:
    registry = get_registry()
    registry.register(_answers_recorded_elsewhere(tmp_path))
    registry.promote(MODEL_NAME, "9.9.9")
    clear_cache()
    analyst = auth_header(make_key("acme", "analyst"))

    response = client.post("/api/v1/toxicity/predict", json={"smiles": "CCO"}, headers=analyst)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:hygeia:model-environment"
    assert "toxicity 9.9.9 does not reproduce its recorded answers here" in problem["detail"]
    assert "48 of 48 reference compounds' probabilities differ" in problem["detail"]
    assert "Traceback" not in response.text

    status = client.get("/api/v1/capabilities", headers=analyst).json()
    assert status["toxicity"]["available"] is False
    assert status["toxicity"]["reason"] == problem["detail"]
    ready = client.get("/ready").json()
    assert ready["status"] == "degraded" and ready["capabilities"]["toxicity"]["reason"] == problem["detail"]

    registry.promote(MODEL_NAME, "2.13.1")  # the recorded answers of the shipped model hold: served again
    clear_cache()
    assert client.post("/api/v1/toxicity/predict", json={"smiles": "CCO"}, headers=analyst).status_code == 200
    assert client.get("/api/v1/capabilities", headers=analyst).json()["toxicity"]["available"] is True
