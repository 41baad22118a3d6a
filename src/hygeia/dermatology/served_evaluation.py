"""Re-score a shipped model folder through the serving path: ONNX Runtime on the original images.

Training measured its metrics with torch on the images it trained from (possibly a re-encoded pack).
This recomputes them from exactly what is served — the ONNX graph, the numpy preprocessing and the
shipped temperature and referral thresholds (no refitting) — on the original files of the same
validation and test lesions, as an independent check of the card.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.dermatology.calibration import ReferralRule
from hygeia.dermatology.dataset import LesionImage, labels_sha256, read_labels
from hygeia.dermatology.images import decode_image, to_model_input
from hygeia.dermatology.inference import LesionClassifier
from hygeia.dermatology.scoring import held_out_extras, score_split
from hygeia.dermatology.sources import read_sources

REPORT_FILE = "served_evaluation.json"
BATCH = 8


def shipped_split(
    folder: Path, data_dir: Path, names: tuple[str, ...] = ("val", "test")
) -> dict[str, list[LesionImage]]:
    """The model's own split membership (split.csv) joined with the labels in `data_dir`."""
    by_id = {r.image_id: r for r in read_labels(data_dir)}
    splits: dict[str, list[LesionImage]] = {name: [] for name in names}
    with (Path(folder) / "split.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] in splits:
                splits[row["split"]].append(by_id[row["image_id"]])
    return splits


def served_view_logits(
    classifier: LesionClassifier, records: list[LesionImage], log: Callable[[str], None]
) -> np.ndarray:
    """(8, N, C) logits from the ONNX graph, batch by batch, exactly as predictions are made."""
    out = np.zeros((8, len(records), len(classifier.classes)), dtype=np.float32)
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        batch = np.stack([to_model_input(decode_image(r.path.read_bytes()).rgb) for r in chunk])
        out[:, start : start + len(chunk)] = classifier.view_logits(batch)[0]
        if start % (BATCH * 25) == 0:
            log(f"{start + len(chunk)}/{len(records)} images")
    return out


def served_logits(
    folder: Path, data_dir: Path, log: Callable[[str], None] = print, threads: int = 2
) -> dict[str, np.ndarray]:
    """(8, N, C) view logits of the val and test splits through the serving path."""
    classifier = LesionClassifier(folder, threads=threads)
    splits = shipped_split(folder, data_dir)
    return {name: served_view_logits(classifier, records, log) for name, records in splits.items()}


def evaluate_folder(
    folder: Path,
    data_dir: Path,
    log: Callable[[str], None] = print,
    threads: int = 2,
    logits_dir: Path | None = None,
    view_logits: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Score val and test with the shipped calibration and decision rule; writes REPORT_FILE into the
    folder. `view_logits` skips the forward passes when the caller has just computed them."""
    started = time.time()
    classifier = LesionClassifier(folder, threads=threads)
    rule = ReferralRule(**classifier.config["referral_rule"])
    splits = shipped_split(folder, data_dir)
    metrics: dict[str, Any] = {}
    for name, records in splits.items():
        if view_logits is not None:
            logits = view_logits[name]
        else:
            logits = served_view_logits(classifier, records, log)
        labels = np.array([r.label for r in records])
        if logits_dir is not None:  # for analysis outside the repository; .npy, no pickle
            logits_dir.mkdir(parents=True, exist_ok=True)
            np.save(logits_dir / f"{name}_view_logits.npy", logits)
            np.save(logits_dir / f"{name}_labels.npy", labels)
        metrics[name] = score_split(logits, labels, classifier.temperature, rule, classifier.decision)
        if name == "test":
            extras = held_out_extras(
                logits, labels, classifier.temperature, records, classifier.decision, read_sources(data_dir)
            )
            metrics[name].update(extras)
        log(f"{name}: balanced accuracy {metrics[name]['balanced_accuracy']:.4f}")
    report = {
        "what": "ONNX Runtime + numpy preprocessing on the original JPEGs; shipped temperature, decision "
        "rule and thresholds",
        "data_dir": str(data_dir),
        "labels_sha256": labels_sha256(data_dir),
        "seconds": time.time() - started,
        "metrics": metrics,
    }
    (Path(folder) / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report
