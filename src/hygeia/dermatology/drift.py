"""Dermatology drift: the served model's outputs on live uploads against those on the validation split.

Signals: the top class's calibrated probability, the normalised entropy, the input gate's
feature-space distance and whether the gate refused the image (its rate). The reference histograms
come from running the served pipeline (gate, 8-view inference, calibration) over the validation
split's images and are written into card.json as `drift_reference`; the card is not an artifact, so
the model's sha256 does not change. Live values feed the platform's drift monitor per tenant.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.drift import drift_monitor, reference_histogram
from hygeia.dermatology.schemas import LesionResult
from hygeia.dermatology.service import ReadyClassifier, analyse, classifier_from_folder

SIGNALS = ("top_probability", "entropy", "ood_distance", "rejected")
REFERENCE_SPLIT = "val"
CHUNK = 16


def signal_values(results: Sequence[LesionResult]) -> dict[str, list[float]]:
    """Each signal's values in a set of answers; unreadable files say nothing about the model."""
    values: dict[str, list[float]] = {signal: [] for signal in SIGNALS}
    for result in results:
        if result.status == "error":
            continue
        values["rejected"].append(1.0 if result.status == "rejected" else 0.0)
        distance = result.ood_distance if result.rejection is None else result.rejection.ood_distance
        if distance is not None:
            values["ood_distance"].append(distance)
        if result.probabilities:
            values["top_probability"].append(max(result.probabilities.values()))
        if result.uncertainty is not None:
            values["entropy"].append(result.uncertainty.entropy)
    return values


def observe(ready: ReadyClassifier, results: Sequence[LesionResult]) -> None:
    if ready.registered is not None:
        drift_monitor.observe(ready.registered, signal_values(results))


def reference(values: dict[str, list[float]]) -> dict[str, Any]:
    """Histograms on fixed edges: probabilities and entropy on [0, 1], the gate distance up to twice
    the largest validation value, refusals as two bins (answered, refused)."""
    distance_top = float(np.max(values["ood_distance"])) * 2 if values["ood_distance"] else 1.0
    return {
        "top_probability": reference_histogram(values["top_probability"]),
        "entropy": reference_histogram(values["entropy"]),
        "ood_distance": reference_histogram(
            values["ood_distance"], value_range=(0.0, round(distance_top, 4))
        ),
        "rejected": reference_histogram(values["rejected"], bins=2),
    }


def validation_images(folder: Path, data_dir: Path, limit: int = 0) -> list[Path]:
    with (folder / "split.csv").open() as handle:
        ids = [row["image_id"] for row in csv.DictReader(handle) if row["split"] == REFERENCE_SPLIT]
    return [data_dir / "images" / f"{image_id}.jpg" for image_id in ids[: limit or None]]


def write_reference(
    folder: Path, data_dir: Path, limit: int = 0, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the served pipeline over the validation images and store the histograms in card.json."""
    ready = classifier_from_folder(folder)
    images = validation_images(folder, data_dir, limit)
    values: dict[str, list[float]] = {signal: [] for signal in SIGNALS}
    for start in range(0, len(images), CHUNK):
        uploads = [(path.name, path.read_bytes()) for path in images[start : start + CHUNK]]
        for signal, found in signal_values(analyse(ready, uploads, heatmaps=False)).items():
            values[signal].extend(found)
        log(f"drift reference: {min(start + CHUNK, len(images))} of {len(images)} validation images")
    histograms = reference(values)
    card_path = folder / "card.json"
    card = json.loads(card_path.read_text())
    card["drift_reference"] = histograms
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return histograms
