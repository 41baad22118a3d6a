"""Calibrate on validation, score both held-out splits (numpy only).

Used by training (logits from the network it just trained) and by `hygeia dermatology evaluate`
(logits from the shipped ONNX graph on the original images), so both report the same metrics the
same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hygeia.dermatology import calibration as cal
from hygeia.dermatology.dataset import LesionImage
from hygeia.dermatology.evaluation import bootstrap_interval, full_report, subgroup_report
from hygeia.dermatology.inference import combine_views


def score_split(
    view_logits: np.ndarray, labels: np.ndarray, temperature: float, rule: cal.ReferralRule
) -> dict[str, Any]:
    """Metrics, calibration before/after temperature and the referral rule's effect on one split."""
    probs, views = combine_views(view_logits, temperature)
    uncalibrated, _ = combine_views(view_logits, 1.0)
    single_view = cal.softmax(view_logits[0], temperature)
    return {
        **full_report(labels, probs),
        "single_view_balanced_accuracy": full_report(labels, single_view)["balanced_accuracy"],
        "reliability_before": cal.reliability(uncalibrated, labels),
        "reliability_after": cal.reliability(probs, labels),
        "referral": cal.referral_summary(rule, probs, views, labels),
    }


def held_out_extras(
    view_logits: np.ndarray, labels: np.ndarray, temperature: float, records: Sequence[LesionImage]
) -> dict:
    """Bootstrap intervals and subgroup metrics, reported for the test split only."""
    probs, _ = combine_views(view_logits, temperature)
    return {
        "bootstrap": bootstrap_interval(labels, probs),
        "subgroups": subgroup_report(records, labels, probs),
    }


def calibrate_and_score(
    view_logits: dict[str, np.ndarray], splits: dict[str, list[LesionImage]]
) -> dict[str, Any]:
    """Temperature and referral rule fitted on validation; validation and test scored with them."""
    labels = {name: np.array([r.label for r in splits[name]]) for name in ("val", "test")}
    temperature = cal.fit_temperature(view_logits["val"].mean(axis=0), labels["val"])
    val_probs, val_views = combine_views(view_logits["val"], temperature)
    rule = cal.choose_referral_rule(val_probs, val_views, labels["val"])
    scores: dict[str, Any] = {"temperature": temperature, "referral_rule": rule.as_dict()}
    for name in ("val", "test"):
        scores[name] = score_split(view_logits[name], labels[name], temperature, rule)
    scores["test"].update(held_out_extras(view_logits["test"], labels["test"], temperature, splits["test"]))
    return {"scores": scores, "rule": rule, "temperature": temperature}
