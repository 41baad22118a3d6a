"""Model card (card.json for the registry, MODEL_CARD.md for people) from the measured report.

Nothing here is typed in by hand: every number comes from `training_report.json`, which the
training run wrote from its own validation and test predictions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hygeia.dermatology.dataset import CLASSES

NOT_A_DIAGNOSIS = (
    "Research and decision-support use only. Not a medical device and not a diagnosis: every "
    "lesion of concern needs examination by a qualified clinician, whatever this model says."
)
INTENDED_USE = (
    "Second-reader triage of dermatoscopic (not clinical/phone) images of single skin lesions into "
    "7 HAM10000 classes, to prioritise review; with calibrated probabilities, an 'uncertain - refer' "
    "flag and a Grad-CAM heat map. " + NOT_A_DIAGNOSIS
)
LIMITATIONS = [
    "Trained and tested on one source (HAM10000: two centres, Vienna and Queensland, mostly light "
    "skin); the test split is internal, so external performance is expected to be lower.",
    "Only 5,984 of the 10,015 HAM10000 images were available; df (n=60) and vasc (n=80) are rare, "
    "so their test metrics rest on ~10-15 images each.",
    "Images were 224x224, squashed from 600x450; inputs are squashed the same way.",
    "Seven classes only: any other lesion type is forced into one of them.",
    "Subgroup metrics use small groups; differences within their noise are not evidence either way.",
    "Melanoma recall is moderate (see the results): a 'not melanoma' answer must never be used to "
    "rule melanoma out.",
    "Not validated for clinical use; not a medical device.",
]

GATE_LIMITATIONS = [
    "The input gate refuses about 5% of real dermatoscopic images (measured on the test split), "
    "more often the hard ones; a refused real lesion still needs a clinician.",
    "The gate is not a guarantee: close-up natural textures (e.g. animal fur) can pass it and are "
    "then classified; it was tested on 83 non-dermatoscopic images, not on clinical (non-dermoscopic) "
    "photographs of skin, which it may or may not refuse.",
    "Per-source results differ widely (rosendahl well below the others, with a different class mix); "
    "leave-one-source-out retraining, the honest off-site estimate, has not been run (needs a GPU).",
]


def limitations(folder: Path) -> list[str]:
    """The general limits, plus the gate's own for versions that have one."""
    return LIMITATIONS + (GATE_LIMITATIONS if (Path(folder) / "gate.json").is_file() else [])


def _load(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / name).read_text())


def served_check(folder: Path) -> dict[str, Any] | None:
    """Headline test metrics recomputed through the serving path, when `evaluate` has been run."""
    if not (Path(folder) / "served_evaluation.json").is_file():
        return None
    test = _load(folder, "served_evaluation.json")["metrics"]["test"]
    return {
        "what": "ONNX Runtime on the original JPEGs of the test split, shipped calibration",
        "balanced_accuracy": test["balanced_accuracy"],
        "balanced_accuracy_95ci": test["bootstrap"]["balanced_accuracy_95ci"],
        "macro_auc": test["macro_auc"],
        "melanoma_recall": test["melanoma_recall"],
        "ece_before_temperature": test["reliability_before"]["ece"],
        "ece_after_temperature": test["reliability_after"]["ece"],
        "refer_rate": test["referral"]["refer_rate"],
    }


def card_fields(folder: Path) -> dict[str, Any]:
    """The registry card: identity, feature spec, headline metrics, data hash, use and limits."""
    report, config = _load(folder, "training_report.json"), _load(folder, "model_config.json")
    test, val = report["metrics"]["test"], report["metrics"]["val"]
    return {
        "name": "dermatology",
        "version": report["version"],
        "task": "7-class dermatoscopic lesion classification (" + ", ".join(CLASSES) + ")",
        "feature_spec": {
            "featurizer": "rgb-squash-224",
            "version": "1",
            "dimension": [3, config["input"]["side"], config["input"]["side"]],
            "normalisation": {"mean": config["input"]["mean"], "std": config["input"]["std"]},
            "classes": list(CLASSES),
        },
        "metrics": {
            "split": "test (lesion-level, 15%)",
            "balanced_accuracy": test["balanced_accuracy"],
            "balanced_accuracy_95ci": test["bootstrap"]["balanced_accuracy_95ci"],
            "macro_auc": test["macro_auc"],
            "accuracy": test["accuracy"],
            "macro_f1": test["macro_f1"],
            "melanoma_recall": test["melanoma_recall"],
            "ece_before_temperature": test["reliability_before"]["ece"],
            "ece_after_temperature": test["reliability_after"]["ece"],
            "temperature": report["metrics"]["temperature"],
            "decision_rule": report["metrics"].get("decision_rule", {"exponent": 0.0}),
            "refer_rate": test["referral"]["refer_rate"],
            "validation_balanced_accuracy": val["balanced_accuracy"],
            "served_path_check": served_check(folder),
        },
        "intended_use": INTENDED_USE,
        "limitations": limitations(folder),
        "training_data": {
            "path": "derm/labels.csv (split=ham10000_train) + derm/images/",
            "sha256": report["data"]["labels_sha256"],
            "rows": sum(report["data"]["split_sizes"].values()),
            "images": "trained on a JPEG quality-80 re-encode of the same 224x224 images "
            "(`hygeia dermatology pack`), when the data directory was such a pack",
            "data_dir": report["config"]["data_dir"],
        },
        "license": "model code Apache-2.0; trained on HAM10000 (CC BY-NC 4.0): non-commercial use",
        "explanation": config["explanation"],
        **_retraining(folder),
    }


def _retraining(folder: Path) -> dict[str, Any]:
    """A retrained candidate's comparison with production, inside the hashed card."""
    path = Path(folder) / OPTIONAL_SOURCES["retraining"]
    return {"retraining": json.loads(path.read_text())} if path.is_file() else {}


OPTIONAL_SOURCES = {
    "served": "served_evaluation.json",
    "gate": "gate.json",
    "gate_negatives": "gate_negatives.json",
    "retraining": "retraining.json",  # a candidate retrained with outcome images (retrain_run.py)
}


def card_sources(folder: Path) -> dict[str, Any]:
    """What MODEL_CARD.md is rendered from: the folder's measured files (None for one this version
    lacks) and its limitations, read here so the renderer reads no file."""
    folder = Path(folder)
    optional = {
        key: _load(folder, name) if (folder / name).is_file() else None
        for key, name in OPTIONAL_SOURCES.items()
    }
    return {
        "report": _load(folder, "training_report.json"),
        "config": _load(folder, "model_config.json"),
        **optional,
        "limitations": limitations(folder),
    }


def publish_card(folder: Path) -> dict[str, Any]:
    """Write MODEL_CARD.md, then card.json with every artifact's sha256 (registry format)."""
    from hygeia.core.registry import write_card
    from hygeia.dermatology.card_markdown import render_markdown

    folder = Path(folder)
    (folder / "MODEL_CARD.md").write_text(render_markdown(card_sources(folder)))
    fields = card_fields(folder)
    previous = folder / "card.json"
    if previous.is_file():  # measured separately (`drift-reference`); a re-published card keeps it
        kept = json.loads(previous.read_text()).get("drift_reference")
        if kept:
            fields["drift_reference"] = kept
    return write_card(folder, fields)
