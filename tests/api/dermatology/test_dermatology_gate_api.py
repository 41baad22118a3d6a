"""The input gate over HTTP: what is not a dermatoscopic lesion gets `status: rejected`, never a class.

The accepted case uses a real HAM10000 test-split image from the data folder beside the repository
(../shared/data/derm or HYGEIA_DATA_DIR) and is skipped where the data is absent; the refusals use
generated images and scikit-image's bundled sample photographs.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from benchmarks.dermatology.negatives import png
from PIL import Image

from hygeia.dermatology.dataset import CLASSES
from tests.conftest import auth_header

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("HYGEIA_DATA_DIR", REPO.parent / "shared" / "data")) / "derm"


def natural_photo() -> bytes:
    from skimage import data

    return png(data.astronaut())


def first_test_image(dx: str) -> Path:
    with (REPO / "models" / "dermatology" / "1.2.0" / "split.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["split"] == "test" and row["dx"] == dx:
                return DATA / "images" / f"{row['image_id']}.jpg"
    raise LookupError(dx)


NEGATIVES = {
    "white.png": (lambda: png(Image.new("RGB", (600, 450), "white")), "uniform"),
    "one-pixel.png": (lambda: png(Image.new("RGB", (1, 1), "black")), "too_small"),
    "noise.png": (
        lambda: png(np.random.default_rng(0).integers(0, 256, (450, 600, 3), dtype=np.uint8)),
        "out_of_distribution",
    ),
    "astronaut.png": (natural_photo, "out_of_distribution"),
}


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_non_lesion_images_are_rejected_without_a_class(client, make_key, name):
    make, check = NEGATIVES[name]
    analyst = auth_header(make_key("clinic", "analyst"))
    response = client.post(
        "/api/v1/dermatology/predict", files={"image": (name, make(), "image/png")}, headers=analyst
    )
    assert response.status_code == 200, response.text
    body = response.json()
    result = body["result"]
    assert result["status"] == "rejected" and result["rejection"]["check"] == check
    assert result["rejection"]["reason"]
    assert result["prediction"] is None and result["probabilities"] is None and result["risk"] is None
    assert body["model"]["version"] == "1.2.0" and "not a diagnosis" in body["notice"].lower()


@pytest.mark.skipif(not (DATA / "labels.csv").is_file(), reason=f"no dermatology data at {DATA}")
def test_a_real_dermatoscopic_image_is_classified_with_its_risk_group(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    image = first_test_image("mel")
    response = client.post(
        "/api/v1/dermatology/predict",
        files={"image": (image.name, image.read_bytes(), "image/jpeg")},
        headers=analyst,
    )
    result = response.json()["result"]
    assert response.status_code == 200 and result["status"] == "ok", result
    assert result["prediction"] in CLASSES and result["rejection"] is None
    assert result["risk"]["action"] in ("refer urgently", "refer", "routine check")
    assert result["ood_distance"] is not None


@pytest.mark.skipif(not (DATA / "labels.csv").is_file(), reason=f"no dermatology data at {DATA}")
def test_a_greyscale_copy_of_a_real_lesion_is_refused_as_such(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    grey = png(Image.open(first_test_image("mel")).convert("L"))
    response = client.post(
        "/api/v1/dermatology/predict", files={"image": ("grey.png", grey, "image/png")}, headers=analyst
    )
    result = response.json()["result"]
    assert result["status"] == "rejected" and result["rejection"]["check"] == "greyscale", result
    assert "upload the colour original" in result["rejection"]["reason"] and result["prediction"] is None


@pytest.mark.skipif(not (DATA / "labels.csv").is_file(), reason=f"no dermatology data at {DATA}")
def test_batch_mixes_classified_rejected_and_error_rows_in_order(client, make_key):
    analyst = auth_header(make_key("clinic", "analyst"))
    real = first_test_image("nv")
    files = [
        ("images", ("white.png", png(Image.new("RGB", (300, 300), "white")), "image/png")),
        ("images", (real.name, real.read_bytes(), "image/jpeg")),
        ("images", ("broken.jpg", b"\xff\xd8\xff broken", "image/jpeg")),
    ]
    response = client.post("/api/v1/dermatology/predict/batch", files=files, headers=analyst)
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "ok", "error"]
    assert results[0]["prediction"] is None and results[1]["prediction"] in CLASSES


def test_console_shows_the_refusal_not_a_class(client, platform):
    from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in

    sign_in(client, platform.admin_key)
    response = client.post(
        "/ui/dermatology/predict",
        files={"image": ("white.png", png(Image.new("RGB", (400, 300), "white")), "image/png")},
        headers={**HTMX, **SAME_ORIGIN},
    )
    assert response.status_code == 200, response.text
    assert 'id="derm-rejected"' in response.text and "nearly uniform" in response.text
    assert 'id="derm-prediction"' not in response.text and "Not a diagnostic device" in response.text


def test_a_request_past_its_deadline_is_a_504_and_the_next_one_is_served(client, make_key, monkeypatch):
    from hygeia.dermatology import service

    analyst = auth_header(make_key("clinic", "analyst"))
    upload = {"image": ("white.png", png(Image.new("RGB", (600, 450), "white")), "image/png")}
    monkeypatch.setattr(service, "DEADLINE_S", 1e-6)
    slow = client.post("/api/v1/dermatology/predict", files=upload, headers=analyst)
    assert slow.status_code == 504, slow.text
    assert slow.headers["content-type"] == "application/problem+json"
    assert "did not finish" in slow.json()["detail"]
    monkeypatch.setattr(service, "DEADLINE_S", 20.0)
    served = client.post("/api/v1/dermatology/predict", files=upload, headers=analyst)
    assert served.status_code == 200 and served.json()["result"]["status"] == "rejected"


def test_in_a_batch_a_timeout_is_an_error_row_not_a_failed_request(client, make_key, monkeypatch):
    from hygeia.dermatology import service

    analyst = auth_header(make_key("clinic", "analyst"))
    monkeypatch.setattr(service, "DEADLINE_S", 1e-6)
    white = png(Image.new("RGB", (300, 300), "white"))
    files = [("images", (f"{i}.png", white, "image/png")) for i in range(2)]
    response = client.post("/api/v1/dermatology/predict/batch", files=files, headers=analyst)
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    assert [r["status"] for r in rows] == ["error", "error"] and "did not finish" in rows[0]["error"]
