"""Retraining with consented outcome images, on real HAM10000 images with the tiny recipe (5 images a class
per split, 2 epochs of batch 16): production's network is rebuilt from its ONNX graph, fine-tuned,
registered in staging (never promoted), and its card compares it with production on production's own
test lesions and on held-out outcome images.

The outcome stream is simulated: test-split images beyond the 5 a class the tiny recipe scores are posted
as if a clinic had sent them with their histopathology result (the HAM10000 label); each outcome's
source says so. Needs torch (the `train` extra).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")

from hygeia.core.auth import Principal
from hygeia.core.candidate_report import staged_candidates
from hygeia.core.jobs import JobContext
from hygeia.core.registry import PRODUCTION, STAGING, get_registry, verify_folder
from hygeia.core.retraining import outcome_ids_sha256, training_outcomes
from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.outcome_images import ImageOutcome, add_image_outcomes
from hygeia.dermatology.retraining import TINY_PER_CLASS, run_retrain_job
from hygeia.dermatology.service import MODEL_NAME, analyse, classifier_from_registry

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "derm"
SOURCE = "simulated stream: HAM10000 label replayed by a test as a histopathology result"
PER_CLASS = 9


def _simulated_outcomes(production: Path) -> list[ImageOutcome]:
    """Test-split images after the first 5 of their class (which the tiny recipe scores), up to
    PER_CLASS a class."""
    with (production / "split.csv").open() as handle:
        test = [row for row in csv.DictReader(handle) if row["split"] == "test"]
    chosen: list[ImageOutcome] = []
    for i, row in enumerate(test):
        scored = sum(r["dx"] == row["dx"] for r in test[:i]) < TINY_PER_CLASS
        if not scored and sum(o.observed == row["dx"] for o in chosen) < PER_CLASS:
            data = (DATA / "images" / f"{row['image_id']}.jpg").read_bytes()
            chosen.append(ImageOutcome(row["image_id"], data, row["dx"], SOURCE))
    return chosen


@pytest.mark.slow  # ~4.5 min on a busy 2-core CPU: a few fine-tuning steps, export, 4 scored sets
def test_a_candidate_fine_tuned_with_outcome_images_is_compared_and_never_promoted(  # type: ignore[no-untyped-def]
    platform, make_key, monkeypatch
) -> None:
    if not (DATA / "labels.csv").is_file():
        pytest.skip(f"no dermatology data at {DATA}")
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(DATA.parent))
    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", "10")
    production = classifier_from_registry()
    make_key("clinic", "analyst")
    posted = _simulated_outcomes(production.folder)
    results = add_image_outcomes(Principal("clinic", "analyst", "test", "standard"), posted, consent=True)
    assert [r.status for r in results] == ["accepted"] * len(posted) and len(posted) > 40

    result = run_retrain_job({"tiny": True, "reasons": ["a test asked"]}, JobContext("-", "clinic"))

    version = result["model"]["version"]
    assert version.startswith(f"{production.version}+outcomes.") and result["stage"] == STAGING
    registry = get_registry()
    stages = {row.version: row.stage for row in registry.versions(MODEL_NAME)}
    assert stages[version] == STAGING and stages[production.version] == PRODUCTION
    [row] = [r for r in registry.versions(MODEL_NAME) if r.version == version]
    card = verify_folder(Path(row.path))  # the comparison is inside the hashed card
    info = card["retraining"]
    assert (
        info["requested_because"] == ["a test asked"] and info["production"]["version"] == production.version
    )

    given = info["accepted_outcomes"]
    assert given["outcomes"] == len(posted) and given["tenants"] == {"clinic": len(posted)}
    assert given["outcome_ids_sha256"] == outcome_ids_sha256(training_outcomes(["clinic"], MODEL_NAME))
    assert given["images"]["training"] + given["images"]["held_out"] == len(posted)
    assert sum(given["per_class"]["held_out"].values()) == given["images"]["held_out"] > 0
    assert given["not_usable"] == {"without_consented_image": 0, "image_no_longer_stored": 0}

    split = info["held_out_split"]
    assert (
        split["images"] == 7 * TINY_PER_CLASS and split["left_out_as_trained_on"] == 0 and split["same_split"]
    )
    outcomes = info["outcome_set"]
    assert outcomes["images"] == given["images"]["held_out"] and outcomes["left_out_as_trained_on"] == 0
    for block, n in ((split, 7 * TINY_PER_CLASS), (outcomes, outcomes["images"])):
        for model in ("production", "candidate"):
            scored = block[model]["diagnosis"]
            estimate = scored["metrics"]["balanced_accuracy"]
            assert scored["n"] == n and 0 <= estimate["ci_low"] <= estimate["value"] <= estimate["ci_high"]
            assert block["balanced_accuracy"][model] == estimate["value"]
    [staged] = [c for c in staged_candidates() if c["version"] == version]  # the console's reading
    assert staged["same_split"] and staged["trained_beside"] == production.version
    assert [r["metric"] for r in staged["split_rows"]] == ["balanced_accuracy"]
    assert [label["label"] for label in staged["on_outcomes"]["candidate"]] == ["diagnosis"]
    assert card["sha256"] != production.sha256
    assert "## Retrained with outcome images" in (Path(row.path) / "MODEL_CARD.md").read_text()
    print("tiny recipe:", result["summary"])

    candidate = classifier_from_registry(version)  # servable as a shadow or canary
    [answer] = analyse(candidate, [("x.jpg", posted[0].data)], heatmaps=False)
    assert answer.status == "ok" and answer.prediction in CLASSES  # no gate of its own yet


def test_production_network_is_rebuilt_from_its_onnx_graph_with_the_served_logits() -> None:
    import numpy as np

    from hygeia.dermatology.images import decode_image, to_model_input
    from hygeia.dermatology.warm_start import PARITY, check_parity, network_from_onnx

    if not (DATA / "labels.csv").is_file():
        pytest.skip(f"no dermatology data at {DATA}")
    graph = Path(__file__).resolve().parents[3] / "models" / "dermatology" / "1.2.0" / "model.onnx"
    images = sorted((DATA / "images").glob("*.jpg"))[:3]
    inputs = np.stack([to_model_input(decode_image(path.read_bytes()).rgb) for path in images])
    model = network_from_onnx(graph)
    assert check_parity(model, graph, inputs) < PARITY
    model._fc.bias.data += 0.01  # type: ignore[operator, union-attr]  # one shift breaks parity
    assert check_parity(model, graph, inputs) > PARITY
