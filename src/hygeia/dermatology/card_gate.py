"""Model-card sections for the input gate, the risk grouping and per-source results.

Every number is read from files the fitting and evaluation runs wrote (gate.json,
gate_negatives.json, served_evaluation.json); a folder without them renders nothing here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hygeia.dermatology.risk import ACTION, RISK_GROUP


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _read(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else None


def _real_rows(real: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| split | n | refused by quality checks | refused as out-of-distribution | false-rejection rate |",
        "|---|---|---|---|---|",
    ]
    for split in ("val", "test"):
        m = real[split]
        checks = ", ".join(f"{c} {n}" for c, n in m["quality_by_check"].items()) or "none"
        rows.append(
            f"| {split} | {m['n']} | {m['quality_rejected']} ({checks}) | {m['ood_rejected']} | "
            f"{m['false_rejection_rate']:.1%} |"
        )
    return rows


def _negative_rows(negatives: dict[str, Any]) -> list[str]:
    rows = [
        "| negative kind | n | rejected | by quality checks | by feature gate | rejection rate |",
        "|---|---|---|---|---|---|",
    ]
    for kind, m in negatives["kinds"].items():
        rate = f"{m['rejection_rate']:.1%}"
        rows.append(f"| {kind} | {m['n']} | {m['rejected']} | {m['quality']} | {m['ood']} | {rate} |")
    return [*rows, "", negatives["what"]]


def _refused_by_group_lines(groups: dict[str, dict[str, dict[str, int]]] | None) -> list[str]:
    if not groups:
        return []
    rows = ["Test images refused, by true class and by source dataset:", "", "| group | n | refused | rate |"]
    rows.append("|---|---|---|---|")
    for attribute, values in groups.items():
        for name, m in values.items():
            rows.append(f"| {attribute} {name} | {m['n']} | {m['refused']} | {m['refused'] / m['n']:.1%} |")
    return [*rows, ""]


def _gate_section(folder: Path) -> list[str]:
    gate = _read(folder, "gate.json")
    if gate is None:
        return []
    limits = gate["quality"]
    made = (_read(folder, "training_report.json") or {}).get("gate_revision")
    lines = [
        "## Input gate (refuses instead of classifying)",
        *(
            [f"Version {made['from_version']}'s network, {made['what']}; made by `{made['made_by']}`.", ""]
            if made
            else []
        ),
        f"1. Quality checks on a 224x224 greyscale copy: shorter side >= {limits['min_side']} px; grey-level "
        f"std >= {limits['min_contrast']} (not uniform); Laplacian std >= {limits['min_sharpness']} (not "
        f"blurred to nothing); <= {limits['max_bright_fraction']:.0%} saturated-white and <= "
        f"{limits['max_dark_fraction']:.0%} black pixels, mean grey "
        f"{limits['min_mean']}-{limits['max_mean']}.",
        f"2. Feature gate: {gate['method']}; {gate['fitted_on']}. Squared distance limit "
        f"{gate['threshold']:.1f}, chosen on the validation split (images passing the quality checks) "
        f"to keep >= {gate['keep_target']:.0%} of real images: {gate['threshold_rule']}.",
        "",
        "A refused image is answered `status: rejected` with the reason (API, CLI CSV, console), "
        "never with a class.",
        "",
        "Real dermatoscopic images refused (false rejections):",
        "",
        *_real_rows(gate["real_images"]),
        "",
    ]
    split = gate["real_images"]["test"].get("accepted_vs_all")
    if split:
        lines += [
            "Served decisions on the test split, by what the gate does with them:",
            "",
            "| test images | n | balanced acc. | accuracy | mel recall |",
            "|---|---|---|---|---|",
            *[
                f"| {name} | {m['n']} | {_f(m['balanced_accuracy'])} | {_f(m['accuracy'])} | "
                f"{_f(m['melanoma_recall'])} |"
                for name, m in split.items()
            ],
            "",
        ]
    lines += _refused_by_group_lines(gate["real_images"]["test"].get("refused_by_group"))
    negatives = _read(folder, "gate_negatives.json")
    if negatives is not None:
        lines += ["Non-dermatoscopic inputs refused (`python -m benchmarks.dermatology.gate`):", ""]
        lines += [*_negative_rows(negatives), ""]
    return lines


def _risk_lines() -> list[str]:
    groups: dict[str, list[str]] = {}
    for code, group in RISK_GROUP.items():
        groups.setdefault(group, []).append(code)
    return [
        "## Risk grouping (decision support, not a diagnosis)",
        *[f"- {group}: {', '.join(codes)} -> {ACTION[group]}" for group, codes in groups.items()],
        "- An 'uncertain' answer is raised to at least 'refer'.",
        "",
    ]


def _source_rows(sources: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        "| source dataset | n | balanced acc. | macro AUC | mel recall | classes (n) |",
        "|---|---|---|---|---|---|",
    ]
    for source, m in sources.items():
        counts = ", ".join(f"{c} {n}" for c, n in m["class_counts"].items())
        rows.append(
            f"| {source} | {m['n']} | {_f(m.get('balanced_accuracy'))} | {_f(m.get('macro_auc'))} | "
            f"{_f(m.get('melanoma_recall'))} | {counts} |"
        )
    return rows


def _source_section(folder: Path) -> list[str]:
    served = _read(folder, "served_evaluation.json")
    sources = (served or {}).get("metrics", {}).get("test", {}).get("subgroups", {}).get("source")
    if not sources:
        return []
    return [
        "## Per source dataset (test split, served path, every image classified)",
        "HAM10000's `dataset` column (HAM10000_metadata.csv, joined on image_id). The network was trained "
        "on all sources, so this is per-source performance, not leave-one-source-out: that needs one "
        "training run per held-out source (`hygeia dermatology train --holdout-source NAME`) and is "
        "**blocked: needs the GPU**.",
        "",
        *_source_rows(sources),
        "",
    ]


def gate_lines(folder: Path) -> list[str]:
    """Sections for MODEL_CARD.md, in reading order."""
    if not (folder / "gate.json").is_file() and not (folder / "served_evaluation.json").is_file():
        return []
    return [*_gate_section(folder), *_risk_lines(), *_source_section(folder)]
