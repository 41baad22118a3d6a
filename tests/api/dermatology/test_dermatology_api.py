"""Dermatology over HTTP: upload, batch with per-row errors, model card, roles, missing model -> 503."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.decision import DecisionRule
from tests.conftest import auth_header


def lesion_like_jpeg(seed: int = 0) -> bytes:
    """A generated brown blob on skin tone: any image the model must answer about, not real data."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:300, 0:400]
    blob = np.exp(-(((xx - 200) / 90.0) ** 2 + ((yy - 150) / 70.0) ** 2))[..., None]
    skin, lesion = np.array([225, 180, 160]), np.array([110, 60, 40])
    pixels = skin * (1 - blob) + lesion * blob + rng.normal(0, 6, size=(300, 400, 3))
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def real_lesion_jpeg(index: int = 0) -> bytes:
    """A real HAM10000 test-split image the shipped gate accepts (the synthetic blob above is, rightly,
    refused as not dermatoscopic); skips the test where the data folder is absent."""
    from tests.api.dermatology.test_dermatology_gate_api import DATA, first_test_image

    if not (DATA / "labels.csv").is_file():
        pytest.skip(f"no dermatology data at {DATA}")
    return first_test_image(("nv", "bkl", "mel")[index]).read_bytes()


def test_single_prediction_has_everything_a_reader_needs(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    response = client.post(
        "/api/v1/dermatology/predict",
        files={"image": ("lesion.jpg", real_lesion_jpeg(), "image/jpeg")},
        headers=analyst,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    result = body["result"]
    assert set(result["probabilities"]) == set(CLASSES)
    assert abs(sum(result["probabilities"].values()) - 1.0) < 1e-6
    card = client.get("/api/v1/dermatology/model", headers=analyst).json()["card"]
    rule = DecisionRule.from_config(card["metrics"]["decision_rule"], len(CLASSES))
    probabilities = np.array([[result["probabilities"][c] for c in CLASSES]])
    assert result["prediction"] == CLASSES[int(rule.decide(probabilities)[0])]
    assert isinstance(result["uncertain"], bool)
    assert 0.0 <= result["uncertainty"]["entropy"] <= 1.0
    assert base64.b64decode(result["heatmap_png_base64"]).startswith(b"\x89PNG")
    assert result["status"] == "ok" and result["risk"]["group"] in ("malignant", "pre-malignant", "benign")
    assert body["model"]["name"] == "dermatology" and len(body["model"]["sha256"]) == 12
    assert "not a diagnosis" in body["notice"].lower()
    from hygeia.core.audit import list_events

    [event] = list_events("clinic", action="predict:dermatology")
    assert event.model_version == body["model"]["version"] and len(event.input_sha256) == 64


def test_batch_returns_one_row_per_file_with_errors_in_place(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    files = [
        ("images", ("a.jpg", real_lesion_jpeg(1), "image/jpeg")),
        ("images", ("fake.png", b"GIF89a not really", "image/png")),
        ("images", ("b.jpg", real_lesion_jpeg(2), "image/jpeg")),
    ]
    response = client.post("/api/v1/dermatology/predict/batch", files=files, headers=analyst)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["image"] for r in results] == ["a.jpg", "fake.png", "b.jpg"]
    assert results[1]["error"] and "magic bytes" in results[1]["error"] and results[1]["prediction"] is None
    assert results[0]["prediction"] in CLASSES and results[0]["heatmap_png_base64"] is None


def test_bad_upload_is_a_problem_json_422(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    response = client.post(
        "/api/v1/dermatology/predict",
        files={"image": ("x.jpg", b"\xff\xd8\xff broken", "image/jpeg")},
        headers=analyst,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "corrupt" in response.json()["detail"]


def test_viewer_reads_the_card_but_cannot_predict(client, make_key):
    viewer = auth_header(make_key("clinic", "viewer"))
    card = client.get("/api/v1/dermatology/model", headers=viewer)
    assert card.status_code == 200
    body = card.json()
    assert body["card"]["metrics"]["balanced_accuracy"] > 0 and "Subgroups" in body["markdown"]
    denied = client.post(
        "/api/v1/dermatology/predict",
        files={"image": ("a.jpg", lesion_like_jpeg(), "image/jpeg")},
        headers=viewer,
    )
    assert denied.status_code == 403


def test_missing_model_is_503_with_the_reason(client, make_key, monkeypatch):
    from hygeia.core.registry import ModelNotFound
    from hygeia.dermatology import service

    class EmptyRegistry:
        def load(self, name: str, version: str | None = None):
            raise ModelNotFound(f"model {name!r} has no a production version registered")

    monkeypatch.setattr(service, "get_registry", lambda: EmptyRegistry())
    analyst = auth_header(make_key("clinic", "analyst"))
    response = client.post(
        "/api/v1/dermatology/predict",
        files={"image": ("a.jpg", lesion_like_jpeg(), "image/jpeg")},
        headers=analyst,
    )
    assert response.status_code == 503
    assert "hygeia dermatology train" in response.json()["detail"]
    assert response.json()["capability"] == "dermatology"
