"""MODEL_CARD.md: the card.json numbers laid out for a reviewer. Nothing here is computed anew;
every figure is read from the card written by the same training run."""

from __future__ import annotations

from typing import Any

from hygeia.toxicity import ENDPOINTS


def _pm(metric: dict[str, Any]) -> str:
    if metric["mean"] is None:
        return "n/a (no fold with both classes)"
    return f"{metric['mean']:.3f} ± {metric['std']:.3f}"


def _metrics_table(cv: dict[str, Any]) -> list[str]:
    base, shipped = cv["baseline"]["endpoints"], cv["shipped"]["endpoints"]
    lines = [
        "| endpoint | ROC-AUC baseline | ROC-AUC shipped | PR-AUC baseline | PR-AUC shipped |",
        "|---|---|---|---|---|",
    ]
    for e in ENDPOINTS:
        lines.append(
            f"| {e} | {_pm(base[e]['roc_auc'])} | {_pm(shipped[e]['roc_auc'])} "
            f"| {_pm(base[e]['pr_auc'])} | {_pm(shipped[e]['pr_auc'])} |"
        )
    b, s = cv["baseline"]["mean_over_endpoints"], cv["shipped"]["mean_over_endpoints"]
    lines.append(
        f"| **mean** | {b['roc_auc']['mean']:.3f} | **{s['roc_auc']['mean']:.3f}** "
        f"| {b['pr_auc']['mean']:.3f} | **{s['pr_auc']['mean']:.3f}** |"
    )
    return lines


def _members_table(cv: dict[str, Any]) -> list[str]:
    lines = ["| model | mean ROC-AUC | mean PR-AUC | CV seconds |", "|---|---|---|---|"]
    rows = {"baseline: " + cv["baseline"]["member"]["name"]: cv["baseline"], **cv["members"]}
    for name, item in rows.items():
        overall = item["mean_over_endpoints"]
        lines.append(
            f"| {name} | {overall['roc_auc']['mean']:.3f} | {overall['pr_auc']['mean']:.3f} "
            f"| {item['cv_seconds']} |"
        )
    return lines


def _calibration_table(calibration: dict[str, Any]) -> list[str]:
    lines = [
        "| endpoint | method | ECE before | ECE after (cross-fitted) | Brier before | Brier after |",
        "|---|---|---|---|---|---|",
    ]
    for e in ENDPOINTS:
        c = calibration[e]
        lines.append(
            f"| {e} | {c['method']} | {c['ece_uncalibrated']:.4f} | {c['ece_calibrated_cross_fitted']:.4f} "
            f"| {c['brier_uncalibrated']:.4f} | {c['brier_cross_fitted'][c['method']]:.4f} |"
        )
    return lines


def _domain_table(domain: dict[str, Any]) -> list[str]:
    lines = ["| nearest-neighbour similarity | compounds | mean ROC-AUC |", "|---|---|---|"]
    for band in domain["bands"]:
        auc = "n/a" if band["roc_auc"] is None else f"{band['roc_auc']:.3f}"
        lines.append(f"| {band['band'][0]:.2f}-{band['band'][1]:.2f} | {band['compounds']} | {auc} |")
    return lines


def render_markdown(card: dict[str, Any]) -> str:
    cv = card["metrics"]["scaffold_cv"]
    data = card["training_data"]
    domain = card["applicability_domain"]
    gain = cv["improvement_over_baseline"]
    rejected = ", ".join(f"{code}: {n}" for code, n in data["rejected_by_code"].items())
    text = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        f"sha256 (artifact manifest): `{card['sha256']}`",
        "",
        "## What it does",
        card["task"] + ". " + card["intended_use"],
        "",
        "## Training data",
        f"Tox21 (`{data['path']}`, sha256 `{data['sha256'][:16]}…`): {data['rows']} rows → "
        f"{data['compounds_after_dedup']} unique standardised compounds; "
        f"{sum(data['rejected_by_code'].values())} rows rejected ({rejected}); "
        f"{data['merged_duplicate_rows']} duplicate rows merged ({data['dedup_rule']}; "
        f"{data['conflicting_endpoint_labels']} endpoint labels disagreed).",
        "",
        "## Scaffold cross-validation (measured in the training run)",
        f"{card['metrics']['evaluation']}. Mean ± std across folds. Baseline = "
        f"{cv['baseline']['member']['name']} (LightGBM defaults on ECFP4 bits). Shipped = mean of "
        f"{len(card['ensemble']['members'])} LightGBM members, calibrated.",
        f"Improvement over baseline: ROC-AUC {gain['roc_auc']:+.3f}, PR-AUC {gain['pr_auc']:+.3f}.",
        "",
        *_metrics_table(cv),
        "",
        *_members_table(cv),
        "",
        "## Calibration",
        "Fitted per endpoint on out-of-fold ensemble scores (isotonic or Platt, whichever had the lower "
        "cross-fitted Brier score). The 'after' columns are cross-fitted: each fold is calibrated by a map "
        "fitted on the other folds. 10-bin reliability curves are in card.json.",
        "",
        *_calibration_table(card["metrics"]["calibration"]),
        "",
        "## Applicability domain",
        f"Nearest-neighbour Tanimoto similarity (ECFP4, 2048 bits) to the training set; in domain when "
        f"≥ **{domain['threshold']}**: {domain['rule']}. {domain['oof_fraction_in_domain']:.0%} of "
        "out-of-fold compounds were in domain.",
        "",
        *_domain_table(domain),
        "",
        "## Model selection",
        "Members, feature sets and round counts were chosen by scaffold CV on a different fold assignment "
        "(seed 0) with `python -m benchmarks.toxicity.model_selection`; see benchmarks/toxicity/README.md. "
        "Fixed round counts beat per-fold early stopping there, so no early stopping is used.",
        "",
        "## Training time",
        ", ".join(f"{k}: {v} s" for k, v in card["training_seconds"].items())
        + " (wall clock; 2 worker processes with 1 LightGBM thread each, on a shared 2-core machine). "
        + "Environment: "
        + ", ".join(f"{k} {v}" for k, v in card["environment"].items())
        + ".",
        "",
        "## Limitations",
        *[f"- {item}" for item in card["limitations"]],
        "",
    ]
    return "\n".join(text)
