"""The torch half of retraining with outcome images: warm start, fine-tune, export, compare, register.

Both comparisons score production and candidate with the same served-path code (ONNX Runtime, the 8
flips/rotations, each model's own temperature and decision rule) and report balanced accuracy with
a bootstrap CI as live performance does. An image either model trained on is not unseen, so it is
left out and counted: a test image that came back as a training outcome, and a held-out outcome
image that is one of the training split's images.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.db import utcnow
from hygeia.core.errors import InputError
from hygeia.core.live_metrics import multiclass_performance
from hygeia.core.outcomes import LifecycleSettings
from hygeia.core.registry import get_registry
from hygeia.core.retraining import candidate_version
from hygeia.dermatology.card import publish_card
from hygeia.dermatology.dataset import CLASSES, LesionImage, labels_sha256
from hygeia.dermatology.images import decode_image, to_model_input
from hygeia.dermatology.inference import LesionClassifier, combine_views
from hygeia.dermatology.retraining import Log, OutcomeImage, OutcomeImages, RetrainRecipe
from hygeia.dermatology.service import MODEL_NAME, ReadyClassifier, classifier_from_registry
from hygeia.settings import get_settings

RETRAINING_FILE = "retraining.json"
LABEL = "diagnosis"
BATCH = 8


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def served_answers(classifier: LesionClassifier, images: Sequence[bytes]) -> tuple[list[str], list[dict]]:
    """The class each image gets and its calibrated probabilities, computed as serving computes them
    (without the input gate, which would leave each model a different set of cases)."""
    answered: list[str] = []
    probabilities: list[dict[str, float]] = []
    for start in range(0, len(images), BATCH):
        batch = np.stack([to_model_input(decode_image(data).rgb) for data in images[start : start + BATCH]])
        probs = combine_views(classifier.view_logits(batch)[0], classifier.temperature)[0]
        scores = classifier.decision.scores(probs)
        answered += [classifier.classes[i] for i in scores.argmax(axis=1)]
        probabilities += [dict(zip(classifier.classes, map(float, row), strict=True)) for row in probs]
    return answered, probabilities


def _both(
    production: Path, candidate: Path, images: Sequence[bytes], observed: Sequence[str]
) -> dict[str, Any]:
    """Each model's performance on the one label, keyed by label as live performance (and the
    console's candidates table) reads it, and the balanced-accuracy pair where both could be scored."""
    settings = LifecycleSettings()
    scored: dict[str, Any] = {"minimum_cases": settings.min_outcomes}
    for name, folder in (("production", production), ("candidate", candidate)):
        answered, probabilities = served_answers(LesionClassifier(folder), images)
        result = multiclass_performance(
            LABEL, observed, answered, probabilities, settings.min_outcomes, settings.bootstrap_resamples
        )
        scored[name] = {LABEL: asdict(result)}
    pair = {
        name: scored[name][LABEL]["metrics"].get("balanced_accuracy") for name in ("production", "candidate")
    }
    if all(pair.values()):
        scored["balanced_accuracy"] = {name: estimate["value"] for name, estimate in pair.items()}
    return scored


def held_out_split(
    production: ReadyClassifier,
    candidate: Path,
    test: Sequence[LesionImage],
    trained_on: set[str],
    data_dir: Path,
) -> dict[str, Any]:
    """Both models on production's test lesions (the recipe's share of them), less any image the
    candidate trained on as an outcome."""
    files = [(record, record.path.read_bytes()) for record in test]
    unseen = [(record, data) for record, data in files if _sha(data) not in trained_on]
    theirs, ours = production.card.get("training_data", {}).get("sha256"), labels_sha256(data_dir)
    return {
        "same_split": theirs == ours,  # the lesions are production's by construction; the labels?
        "why_not": [] if theirs == ours else [f"labels.csv sha256: production {theirs}, now {ours}"],
        "split": f"test (lesion-level), production {production.version}'s split.csv",
        "images": len(files),
        "left_out_as_trained_on": len(files) - len(unseen),
        **_both(production.folder, candidate, [d for _, d in unseen], [r.dx for r, _ in unseen]),
    }


def outcome_set(
    production: Path, candidate: Path, held_out: Sequence[OutcomeImage], training_images: set[str]
) -> dict[str, Any]:
    """Both models on the held-out outcome images, less any that is one of the training split's."""
    unseen = [image for image in held_out if _sha(image.data) not in training_images]
    return {
        "images": len(held_out),
        "left_out_as_trained_on": len(held_out) - len(unseen),
        **_both(production, candidate, [i.data for i in unseen], [i.outcome.observed for i in unseen]),
    }


def _training_hashes(production: Path, data_dir: Path) -> set[str]:
    """sha256 of every image of production's training split (which the candidate trained on too)."""
    hashes = set()
    with (production / "split.csv").open() as handle:
        for line in handle.read().splitlines()[1:]:
            image_id, _, _, split = line.split(",")
            if split == "train":
                hashes.add(_sha((data_dir / "images" / f"{image_id}.jpg").read_bytes()))
    return hashes


def _split_file(split_csv: Path, per_class: int | None, scratch: Path) -> Path:
    """Production's split.csv, or (tiny recipe) its first `per_class` images of each class per split."""
    if per_class is None:
        return split_csv
    with split_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    seen: Counter[tuple[str, str]] = Counter()
    kept = []
    for row in rows:
        seen[row["split"], row["dx"]] += 1
        if seen[row["split"], row["dx"]] <= per_class:
            kept.append(row)
    target = scratch / "tiny_split.csv"
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return target


def train_candidate(
    recipe: RetrainRecipe,
    images: OutcomeImages,
    extra: list[LesionImage],
    scratch: Path,
    *,
    out: Path | None,
    version: str | None,
    reasons: Sequence[str],
    log: Log,
) -> dict[str, Any]:
    """Fine-tune production on its own split plus `extra`, write the folder, compare, register
    (`scratch`: a temporary folder for files the run needs only while it runs)."""
    from hygeia.dermatology.export import write_artifacts
    from hygeia.dermatology.training import TrainConfig, train
    from hygeia.dermatology.warm_start import production_network

    production = classifier_from_registry()  # the production version, hash-verified
    version = version or candidate_version(production.version, utcnow())
    out = out or get_settings().var_dir / "registry" / MODEL_NAME / version
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} already holds a model; pick another --out")
    cfg = TrainConfig(
        data_dir=recipe.data_dir,
        out_dir=out,
        version=version,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        warmup_epochs=0.5,
        max_minutes=recipe.max_minutes,
        split_file=_split_file(production.folder / "split.csv", recipe.per_class, scratch),
        frozen_batch_norm=True,
        seed=recipe.seed,
    )
    probe = np.stack([to_model_input(decode_image(r.data).rgb) for r in images.training[:4]])
    start = production_network(production.folder, probe, log)
    trained = train(cfg, log, start=start, extra=extra)
    write_artifacts(trained, cfg, log)
    trained_on = {_sha(image.data) for image in images.training}
    retraining = {
        "status": "candidate (registered in staging); never promoted automatically",
        "requested_because": list(reasons),
        "recipe": recipe.as_dict(),
        "production": production.reference().model_dump(),
        "accepted_outcomes": images.provenance,
        "held_out_split": held_out_split(
            production, out, trained.splits["test"], trained_on, recipe.data_dir
        ),
        "outcome_set": outcome_set(
            production.folder, out, images.held_out, _training_hashes(production.folder, recipe.data_dir)
        ),
        "classes": list(CLASSES),
    }
    (out / RETRAINING_FILE).write_text(json.dumps(retraining, indent=2) + "\n")
    card = publish_card(out)  # card.json gains the comparison (card_fields reads retraining.json)
    get_registry().register(out)  # staging
    return card
