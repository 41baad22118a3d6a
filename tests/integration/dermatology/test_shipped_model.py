"""The shipped ONNX model on real HAM10000 test-split images, through the serving path (no torch).

Needs the data folder beside the repository (../shared/data/derm, or HYGEIA_DATA_DIR); it is
skipped with that reason where the data is absent.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hygeia.core.registry import verify_folder
from hygeia.dermatology.cli import CSV_COLUMNS, app
from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.images import decode_image, to_model_input
from hygeia.dermatology.inference import LesionClassifier, LesionPrediction

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "models" / "dermatology" / "1.2.0"  # the newest: what a fresh install serves
DATA = Path(os.environ.get("HYGEIA_DATA_DIR", REPO.parent / "shared" / "data")) / "derm"
PER_CLASS = 2

pytestmark = pytest.mark.skipif(not (DATA / "labels.csv").is_file(), reason=f"no dermatology data at {DATA}")


def sample_test_images() -> list[tuple[Path, str]]:
    """The first PER_CLASS test-split images of every class, per the split shipped with the model."""
    chosen: dict[str, list[Path]] = {c: [] for c in CLASSES}
    with (MODEL / "split.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["split"] == "test" and len(chosen[row["dx"]]) < PER_CLASS:
                chosen[row["dx"]].append(DATA / "images" / f"{row['image_id']}.jpg")
    return [(path, dx) for dx, paths in chosen.items() for path in paths]


@pytest.fixture(scope="module")
def classifier() -> LesionClassifier:
    verify_folder(MODEL)
    return LesionClassifier(MODEL)


def test_shipped_folder_is_verified_and_small():
    card = verify_folder(MODEL)
    assert card["name"] == "dermatology" and set(card["artifacts"]) >= {"model.onnx", "cam_head.npz"}
    assert (MODEL / "model.onnx").stat().st_size < 20 * 2**20
    assert 0.0 < card["metrics"]["ece_after_temperature"] < card["metrics"]["ece_before_temperature"]


def test_served_decision_is_the_cards_validation_fitted_rule(classifier):
    """1.1.0+ answer argmax p / prior^a with the card's a; 1.0.0 (no rule in its config) plain argmax."""
    card = verify_folder(MODEL)
    assert classifier.decision.exponent == card["metrics"]["decision_rule"]["exponent"] > 0
    assert LesionClassifier(REPO / "models" / "dermatology" / "1.0.0").decision.exponent == 0.0
    probs = np.array([[0.05, 0.05, 0.05, 0.05, 0.30, 0.45, 0.05]])  # melanoma second to naevus
    assert classifier.decision.decide(probs)[0] == CLASSES.index("mel")


def test_exported_head_reproduces_the_logits(classifier):
    """logits == mean-pooled features @ W.T + b: the premise that makes the numpy CAM exact Grad-CAM."""
    images = [decode_image(path.read_bytes()).rgb for path, _ in sample_test_images()[:4]]
    logits, features = classifier.run(np.stack([to_model_input(i) for i in images]))
    rebuilt = features.mean(axis=(2, 3)) @ classifier.head_weight.T + classifier.head_bias
    assert np.allclose(logits, rebuilt, atol=1e-3)


def test_predictions_on_real_test_images(classifier):
    cases = sample_test_images()
    outcomes = classifier.predict([decode_image(p.read_bytes()) for p, _ in cases])
    accepted = [(case, r) for case, r in zip(cases, outcomes, strict=True) if isinstance(r, LesionPrediction)]
    assert len(accepted) >= len(cases) - 2, outcomes  # the gate keeps ~95% of real test images
    correct_by_class: dict[str, list[bool]] = {c: [] for c in CLASSES}
    for (_, dx), result in accepted:
        assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert result.heatmap_png and result.heatmap_png.startswith(b"\x89PNG")
        assert 0.0 <= result.entropy <= 1.0 and result.tta_spread >= 0.0
        correct_by_class[dx].append(result.prediction == dx)
    balanced = np.mean([np.mean(v) for v in correct_by_class.values() if v])
    assert balanced >= 0.5, correct_by_class  # chance is 1/7; the card reports ~0.69 on the full split


def _white_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_cli_predict_writes_the_contract_csv(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for path, _ in sample_test_images()[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "white.png").write_bytes(_white_png())
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["predict", str(folder), "-o", str(out), "--model", str(MODEL)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == 5
    white = next(r for r in rows if r["image"].endswith("white.png"))
    assert white["status"] == "rejected" and "uniform" in white["rejection"] and not white["prediction"]
    broken = next(r for r in rows if r["image"].endswith("broken.jpg"))
    assert broken["error"] and not broken["prediction"]
    assert broken["status"] == "error"
    good = [r for r in rows if r["status"] == "ok"]
    assert good and all(r["prediction"] in CLASSES and r["uncertain"] in ("true", "false") for r in good)
    assert all(r["action"] in ("refer urgently", "refer", "routine check") for r in good)
    refused = [r for r in rows if r["status"] == "rejected"]
    assert all(r["rejection"] and not r["prediction"] and not r["mel"] for r in refused)


def test_serving_never_imports_torch():
    code = (
        "import sys, json; from pathlib import Path;"
        "from hygeia.dermatology import service;"
        f"ready = service.classifier_from_folder(Path({str(MODEL)!r}));"
        f"data = Path({str(sample_test_images()[0][0])!r}).read_bytes();"
        "r = service.analyse(ready, [('x.jpg', data)])[0];"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'prediction': r.prediction}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    result = json.loads(output.stdout.strip().splitlines()[-1])
    assert result["torch"] is False and result["prediction"] in CLASSES


def test_card_is_regenerated_exactly_from_the_measured_report(tmp_path):
    """card.json is derived from training_report.json by code, never edited by hand."""
    import shutil

    from hygeia.dermatology.card import publish_card

    copy = tmp_path / "model"
    shutil.copytree(MODEL, copy)
    shipped = json.loads((MODEL / "card.json").read_text())
    assert publish_card(copy) == shipped
    assert (copy / "MODEL_CARD.md").read_text() == (MODEL / "MODEL_CARD.md").read_text()
