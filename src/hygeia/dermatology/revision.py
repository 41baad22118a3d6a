"""A new model version that decides differently with the same network: its decision rule and referral
thresholds refit on validation through the serving path, with no retraining.

The ONNX graph, the CAM head, the temperature and the split are copied from the source version byte
for byte. The served-path logits of the validation split choose the decision rule's exponent and the
referral thresholds; the test split is scored once, with both fixed, and that is what the new card
reports. training_report.json keeps the network's training history and gains a `revision` block
saying what changed and from which version.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hygeia.core.registry import verify_folder
from hygeia.dermatology.card import publish_card
from hygeia.dermatology.scoring import calibrate_and_score
from hygeia.dermatology.served_evaluation import evaluate_folder, served_logits, shipped_split

GENERATED = ("card.json", "MODEL_CARD.md", "served_evaluation.json")


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("balanced_accuracy", "macro_auc", "melanoma_recall", "accuracy")
    return {split: {k: metrics[split][k] for k in keys} for split in ("val", "test")}


def derive_folder(source: Path, version: str, generated: tuple[str, ...]) -> Path:
    """Copy a verified model folder to its sibling `version`, minus the files that describe the
    source version (cards, evaluations), which the new version must measure for itself."""
    verify_folder(source)  # never derive a model from a folder that fails its own hashes
    target = Path(source).parent / version
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new version")
    shutil.copytree(source, target)
    for name in generated:
        (target / name).unlink(missing_ok=True)
    return target


def refit_decision(source: Path, version: str, data_dir: Path, log: Callable[[str], None] = print) -> Path:
    """Write `source`'s sibling folder `version` and its card; returns that folder."""
    target = derive_folder(source, version, GENERATED)
    config = json.loads((target / "model_config.json").read_text())
    logits = served_logits(target, data_dir, log)
    splits = shipped_split(target, data_dir, ("train", "val", "test"))
    result = calibrate_and_score(logits, splits, temperature=float(config["temperature"]))
    config.update(
        version=version, decision_rule=result["decision"].as_dict(), referral_rule=result["rule"].as_dict()
    )
    (target / "model_config.json").write_text(json.dumps(config, indent=2) + "\n")
    report = json.loads((target / "training_report.json").read_text())
    source_served = json.loads((Path(source) / "served_evaluation.json").read_text())["metrics"]
    report["revision"] = {
        "from_version": report["version"],
        "what": "decision rule and referral thresholds refit on validation (served-path logits); "
        "network, temperature and split unchanged",
        "metrics_from": "ONNX Runtime + numpy preprocessing on the original JPEGs",
        "source_served_metrics": _headline(source_served),
    }
    report["version"] = version
    report["metrics"] = result["scores"]
    (target / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    evaluate_folder(target, data_dir, log, view_logits=logits)
    publish_card(target)
    return target
