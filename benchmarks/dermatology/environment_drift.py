"""How much another ONNX Runtime, NumPy or Pillow release changes the lesion classifier's answers.

Run `score` once in each environment (a venv with other releases and this checkout installed), then
`compare` the two files: probabilities, predicted class, uncertainty flag and the input gate's distance
for every 20th HAM10000 image (300), decoded and scored as the API does.

    python -m benchmarks.dermatology.environment_drift score --out here.npz
    /tmp/old/bin/python -m benchmarks.dermatology.environment_drift score --out there.npz
    python -m benchmarks.dermatology.environment_drift compare here.npz there.npz
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np

from benchmarks.environments import drift_main
from hygeia.dermatology.images import decode_image
from hygeia.dermatology.inference import LesionClassifier, LesionPrediction

MODEL = Path("models/dermatology/1.2.0")
EVERY, IMAGES, BATCH = 20, 300, 16


def score(model: Path, data: Path, out: Path) -> None:
    classifier = LesionClassifier(model, threads=1)
    files = sorted((data / "derm" / "images").glob("*.jpg"))[::EVERY][:IMAGES]
    probabilities, predicted, uncertain, distance = [], [], [], []
    for start in range(0, len(files), BATCH):
        images = [decode_image(f.read_bytes()) for f in files[start : start + BATCH]]
        for result in classifier.predict(images, heatmaps=False):
            served = isinstance(result, LesionPrediction)
            probabilities.append(list(result.probabilities.values()) if served else [np.nan] * 7)
            predicted.append(result.prediction if served else "outside the gate")
            uncertain.append(served and result.uncertain)
            distance.append(result.ood_distance)
    np.savez(
        out,
        probabilities=np.array(probabilities),
        predicted=np.array(predicted),
        uncertain=np.array(uncertain),
        distance=np.array(distance, dtype=float),
        versions=json.dumps({p: version(p) for p in ("onnxruntime", "numpy", "pillow")}),
    )


def compare(first: Path, second: Path) -> dict[str, object]:
    a, b = np.load(first), np.load(second)
    both = ~np.isnan(a["probabilities"]).any(axis=1) & ~np.isnan(b["probabilities"]).any(axis=1)
    return {
        "environments": [json.loads(str(a["versions"])), json.loads(str(b["versions"]))],
        "images": len(a["predicted"]),
        "same_prediction": int((a["predicted"] == b["predicted"]).sum()),
        "same_uncertain_flag": int((a["uncertain"] == b["uncertain"]).sum()),
        "max_probability_difference": float(
            np.abs(a["probabilities"][both] - b["probabilities"][both]).max()
        ),
        "max_gate_distance_relative_difference": float(
            np.nanmax(np.abs(a["distance"] - b["distance"]) / np.abs(a["distance"]))
        ),
    }


def main() -> None:
    drift_main(__doc__ or "", score, compare, Path("../shared/data"), MODEL)


if __name__ == "__main__":
    main()
