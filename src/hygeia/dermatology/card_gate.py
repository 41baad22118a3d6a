"""Model-card sections for the input gate, the risk grouping and per-source results.

Every number is one the fitting and evaluation runs wrote (gate.json, gate_negatives.json,
served_evaluation.json, read by `card.card_sources`); a version without them renders nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.core.card_markdown import number, table
from hygeia.dermatology.risk import ACTION, RISK_GROUP


def _real_rows(real: dict[str, dict[str, Any]]) -> list[str]:
    headers = ["split", "n", "refused by quality checks", "refused as out-of-distribution"]
    return table(
        [*headers, "false-rejection rate"], [_real_row(split, real[split]) for split in ("val", "test")]
    )


def _real_row(split: str, m: dict[str, Any]) -> list[object]:
    checks = ", ".join(f"{c} {n}" for c, n in m["quality_by_check"].items()) or "none"
    quality = f"{m['quality_rejected']} ({checks})"
    return [split, m["n"], quality, m["ood_rejected"], f"{m['false_rejection_rate']:.1%}"]


def _negative_rows(negatives: dict[str, Any]) -> list[str]:
    headers = ["negative kind", "n", "rejected", "by quality checks", "by feature gate", "rejection rate"]
    rows = [
        [kind, m["n"], m["rejected"], m["quality"], m["ood"], f"{m['rejection_rate']:.1%}"]
        for kind, m in negatives["kinds"].items()
    ]
    return [*table(headers, rows), "", negatives["what"]]


def _refused_by_group_lines(groups: dict[str, dict[str, dict[str, int]]] | None) -> list[str]:
    if not groups:
        return []
    rows = [
        [f"{attribute} {name}", m["n"], m["refused"], f"{m['refused'] / m['n']:.1%}"]
        for attribute, values in groups.items()
        for name, m in values.items()
    ]
    intro = "Test images refused, by true class and by source dataset:"
    return [intro, "", *table(["group", "n", "refused", "rate"], rows), ""]


def _gate_section(card: Mapping[str, Any]) -> list[str]:
    gate = card["gate"]
    if gate is None:
        return []
    limits = gate["quality"]
    made = card["report"].get("gate_revision")
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
        rows = [
            [
                name,
                m["n"],
                number(m["balanced_accuracy"]),
                number(m["accuracy"]),
                number(m["melanoma_recall"]),
            ]
            for name, m in split.items()
        ]
        lines += [
            "Served decisions on the test split, by what the gate does with them:",
            "",
            *table(["test images", "n", "balanced acc.", "accuracy", "mel recall"], rows),
            "",
        ]
    lines += _refused_by_group_lines(gate["real_images"]["test"].get("refused_by_group"))
    negatives = card["gate_negatives"]
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
    headers = ["source dataset", "n", "balanced acc.", "macro AUC", "mel recall", "classes (n)"]
    return table(headers, [[source, m["n"], *_source_cells(m)] for source, m in sources.items()])


def _source_cells(m: dict[str, Any]) -> list[str]:
    scores = [number(m.get(k)) for k in ("balanced_accuracy", "macro_auc", "melanoma_recall")]
    return [*scores, ", ".join(f"{c} {n}" for c, n in m["class_counts"].items())]


def _source_section(served: dict[str, Any] | None) -> list[str]:
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


def gate_lines(card: Mapping[str, Any]) -> list[str]:
    """Sections for MODEL_CARD.md, in reading order (`card` as `card.card_sources` reads it)."""
    if card["gate"] is None and card["served"] is None:
        return []
    return [*_gate_section(card), *_risk_lines(), *_source_section(card["served"])]
