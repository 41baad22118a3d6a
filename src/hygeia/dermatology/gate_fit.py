"""Fit the input gate for an existing network and ship it as a new model version (no retraining).

The network, CAM head, calibration, decision rule and split are copied from the source version byte
for byte; the gate's statistics come from the training split's embeddings, its threshold from the
validation split (kept fraction >= KEEP), and the test split is scored once with both fixed.
Embeddings and logits can be cached as .npy (never pickle) so a refit does not repeat the passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.dermatology.card import publish_card
from hygeia.dermatology.dataset import CLASSES, LesionImage
from hygeia.dermatology.evaluation import balanced_accuracy
from hygeia.dermatology.images import decode_image, dihedral_views, to_model_input
from hygeia.dermatology.inference import LesionClassifier, combine_views
from hygeia.dermatology.ood import FeatureGate, embedding, fit_statistics, save_gate, threshold_with_bound
from hygeia.dermatology.quality import ImageRefused, QualityLimits, check_quality
from hygeia.dermatology.revision import derive_folder
from hygeia.dermatology.served_evaluation import evaluate_folder, shipped_split
from hygeia.dermatology.sources import read_sources

KEEP = 0.95  # share of real images (passing the quality checks) the feature gate must accept
CONFIDENCE = 0.95  # ... as the upper confidence bound from validation, not just its point estimate
GENERATED = ("card.json", "MODEL_CARD.md", "served_evaluation.json", "gate_negatives.json")
BATCH = 8


def split_outputs(
    classifier: LesionClassifier, records: list[LesionImage], views: bool, log: Callable[[str], None]
) -> tuple[np.ndarray, np.ndarray]:
    """Upright-view embeddings (N, K) and logits, (8, N, C) with views or (1, N, C) without."""
    embeddings, logits = [], []
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        batch = np.stack([to_model_input(decode_image(r.path.read_bytes()).rgb) for r in chunk])
        out_logits, features = classifier.run(np.concatenate(dihedral_views(batch)) if views else batch)
        embeddings.append(embedding(features[: len(chunk)]))
        logits.append(out_logits.reshape(-1, len(chunk), len(CLASSES)))
        if start % (BATCH * 50) == 0:
            log(f"{start + len(chunk)}/{len(records)} images")
    return np.concatenate(embeddings), np.concatenate(logits, axis=1)


def cached_outputs(
    classifier: LesionClassifier,
    name: str,
    records: list[LesionImage],
    cache: Path | None,
    log: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs from `cache` when they were computed for exactly these images, else computed (and saved)."""
    ids = "\n".join(r.image_id for r in records)
    ids_file = None if cache is None else cache / f"{name}_ids.txt"
    if cache is not None and ids_file is not None and ids_file.is_file() and ids_file.read_text() == ids:
        log(f"{name}: cached outputs from {cache}")
        arrays = (
            np.load(cache / f"{name}_{kind}.npy", allow_pickle=False) for kind in ("embedding", "logits")
        )
        return next(arrays), next(arrays)
    result = split_outputs(classifier, records, views=name != "train", log=log)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / f"{name}_embedding.npy", result[0])
        np.save(cache / f"{name}_logits.npy", result[1])
        (cache / f"{name}_ids.txt").write_text(ids)
    return result


def quality_refusals(records: list[LesionImage], limits: QualityLimits) -> list[str | None]:
    """The failed check per image (None when it passes), on the original files."""
    refusals: list[str | None] = []
    for record in records:
        try:
            check_quality(decode_image(record.path.read_bytes()).rgb, limits)
            refusals.append(None)
        except ImageRefused as exc:
            refusals.append(exc.check)
    return refusals


def rejection_summary(refusals: list[str | None], distances: np.ndarray, threshold: float) -> dict[str, Any]:
    """How many real images each part of the gate refuses (false rejections, all of them)."""
    quality = np.array([r is not None for r in refusals])
    ood = ~quality & (distances > threshold)
    checks = sorted({r for r in refusals if r is not None})
    return {
        "n": len(refusals),
        "quality_rejected": int(quality.sum()),
        "quality_by_check": {c: sum(1 for r in refusals if r == c) for c in checks},
        "ood_rejected": int(ood.sum()),
        "false_rejection_rate": float((quality | ood).mean()),
        "distance_quantiles": {str(q): float(np.quantile(distances, q)) for q in (0.5, 0.9, 0.95, 0.99)},
    }


def refused_by_group(
    records: list[LesionImage], refused: np.ndarray, sources: dict[str, str]
) -> dict[str, dict[str, dict[str, float]]]:
    """False rejections per true class and per source dataset: a gate that refuses one kind of
    lesion or one camera more than others shifts who gets an answer."""
    groups = {
        "class": [r.dx for r in records],
        "source": [sources.get(r.image_id, "unknown") for r in records],
    }
    out: dict[str, dict[str, dict[str, float]]] = {}
    for attribute, values in groups.items():
        column = np.asarray(values)
        out[attribute] = {
            str(group): {"n": int((column == group).sum()), "refused": int(refused[column == group].sum())}
            for group in sorted(set(values))
        }
    return out


def accepted_metrics(
    classifier: LesionClassifier, view_logits: np.ndarray, records: list[LesionImage], accepted: np.ndarray
) -> dict[str, dict[str, float]]:
    """Served decisions scored on all test images and on those the gate lets through: does the gate
    refuse the hard real cases (a side effect worth knowing, not what it is for)?"""
    labels = np.array([r.label for r in records])
    predicted = classifier.decision.decide(combine_views(view_logits, classifier.temperature)[0])
    out = {}
    for name, mask in (("all", np.ones_like(accepted)), ("accepted", accepted), ("refused", ~accepted)):
        truth, guess = labels[mask], predicted[mask]
        mel = truth == CLASSES.index("mel")
        out[name] = {
            "n": int(mask.sum()),
            "balanced_accuracy": balanced_accuracy(truth, guess) if len(set(truth)) > 1 else float("nan"),
            "accuracy": float((truth == guess).mean()) if len(truth) else float("nan"),
            "melanoma_recall": float((guess[mel] == truth[mel]).mean()) if mel.any() else float("nan"),
        }
    return out


def fit_gate_for(
    folder: Path, data_dir: Path, cache: Path | None, log: Callable[[str], None]
) -> tuple[FeatureGate, dict[str, Any], dict[str, np.ndarray]]:
    """Gate statistics (train), threshold (val), false-rejection summary (val, test) and view logits."""
    classifier = LesionClassifier(folder)
    splits = shipped_split(folder, data_dir, ("train", "val", "test"))
    outputs = {name: cached_outputs(classifier, name, splits[name], cache, log) for name in splits}
    labels = np.array([r.label for r in splits["train"]])
    means, precision = fit_statistics(outputs["train"][0], labels, len(CLASSES))
    limits = QualityLimits()
    refusals = {name: quality_refusals(splits[name], limits) for name in ("val", "test")}
    unfit = FeatureGate(means, precision, np.inf, limits)
    distances = {name: unfit.distances(outputs[name][0]) for name in ("val", "test")}
    passing = np.array([r is None for r in refusals["val"]])
    threshold = threshold_with_bound(distances["val"][passing], 1 - KEEP, CONFIDENCE)
    gate = FeatureGate(means, precision, threshold, limits)
    summary = {name: rejection_summary(refusals[name], distances[name], threshold) for name in distances}
    accepted = np.array([r is None for r in refusals["test"]]) & (distances["test"] <= threshold)
    summary["test"]["accepted_vs_all"] = accepted_metrics(
        classifier, outputs["test"][1], splits["test"], accepted
    )
    summary["test"]["refused_by_group"] = refused_by_group(splits["test"], ~accepted, read_sources(data_dir))
    provenance = {
        "fitted_on": "train split embeddings (upright view); threshold: validation split",
        "keep_target": KEEP,
        "threshold_rule": f"largest validation rejection whose one-sided {CONFIDENCE:.0%} Clopper-Pearson "
        f"upper bound is <= {1 - KEEP:.0%}",
        "n_train": len(labels),
        "real_images": summary,
    }
    return gate, provenance, {name: outputs[name][1] for name in ("val", "test")}


def add_gate(
    source: Path, version: str, data_dir: Path, cache: Path | None = None, log: Callable[[str], None] = print
) -> Path:
    """Write `source`'s sibling folder `version` with the gate, re-evaluate it, publish its card."""
    target = derive_folder(source, version, GENERATED)
    gate, provenance, view_logits = fit_gate_for(target, data_dir, cache, log)
    save_gate(target, gate, provenance)
    config = json.loads((target / "model_config.json").read_text())
    config["version"] = version
    config["gate"] = {"arrays": "gate.npz", "config": "gate.json"}
    (target / "model_config.json").write_text(json.dumps(config, indent=2) + "\n")
    report = json.loads((target / "training_report.json").read_text())
    if "revision" in report:
        report["revision"].setdefault("version", report["version"])
    report["gate_revision"] = {
        "from_version": report["version"],
        "what": "input gate added (quality checks + feature-space OOD detector); network, "
        "calibration, decision rule, referral rule and split unchanged",
        "made_by": f"hygeia dermatology add-gate models/dermatology/{report['version']} --version {version}",
    }
    report["version"] = version
    (target / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    evaluate_folder(target, data_dir, log, view_logits=view_logits)
    publish_card(target)
    return target
