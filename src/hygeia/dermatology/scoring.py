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
from hygeia.dermatology.decision import DecisionRule, class_prior, fit_decision_rule
from hygeia.dermatology.evaluation import bootstrap_interval, full_report, subgroup_report
from hygeia.dermatology.inference import combine_views


def score_split(
    view_logits: np.ndarray,
    labels: np.ndarray,
    temperature: float,
    rule: cal.ReferralRule,
    decision: DecisionRule | None = None,
) -> dict[str, Any]:
    """Metrics, calibration before/after temperature and the referral rule's effect on one split.

    Classification metrics take the decision rule's scores (their argmax is the served decision and
    per-class AUCs are unchanged by it); calibration is measured on the probabilities themselves."""
    decision = decision or DecisionRule.most_probable(view_logits.shape[-1])
    probs, views = combine_views(view_logits, temperature)
    uncalibrated, _ = combine_views(view_logits, 1.0)
    single_view = cal.softmax(view_logits[0], temperature)
    return {
        **full_report(labels, decision.scores(probs)),
        "single_view_balanced_accuracy": full_report(labels, decision.scores(single_view))[
            "balanced_accuracy"
        ],
        "reliability_before": cal.reliability(uncalibrated, labels),
        "reliability_after": cal.reliability(probs, labels),
        "referral": cal.referral_summary(rule, probs, views, labels, decision),
    }


def held_out_extras(
    view_logits: np.ndarray,
    labels: np.ndarray,
    temperature: float,
    records: Sequence[LesionImage],
    decision: DecisionRule | None = None,
    sources: dict[str, str] | None = None,
) -> dict:
    """Bootstrap intervals and subgroup metrics (with the source dataset when `sources` maps image ids
    to it), reported for the test split only."""
    decision = decision or DecisionRule.most_probable(view_logits.shape[-1])
    scores = decision.scores(combine_views(view_logits, temperature)[0])
    extra = {"source": [sources.get(r.image_id, "unknown") for r in records]} if sources else None
    return {
        "bootstrap": bootstrap_interval(labels, scores),
        "subgroups": subgroup_report(records, labels, scores, extra),
    }


def calibrate_and_score(
    view_logits: dict[str, np.ndarray],
    splits: dict[str, list[LesionImage]],
    temperature: float | None = None,
) -> dict[str, Any]:
    """Temperature (unless given), decision rule and referral rule fitted on validation; validation and
    test scored with them. The decision rule divides by the prior of `splits["train"]`."""
    labels = {name: np.array([r.label for r in splits[name]]) for name in ("train", "val", "test")}
    if temperature is None:
        temperature = cal.fit_temperature(view_logits["val"].mean(axis=0), labels["val"])
    val_probs, val_views = combine_views(view_logits["val"], temperature)
    prior = class_prior(labels["train"], val_probs.shape[1])
    decision, tried = fit_decision_rule(val_probs, labels["val"], prior)
    rule = cal.choose_referral_rule(val_probs, val_views, labels["val"], decision=decision)
    scores: dict[str, Any] = {
        "temperature": temperature,
        "referral_rule": rule.as_dict(),
        "decision_rule": {**decision.as_dict(), "validation_balanced_accuracy_by_exponent": tried},
    }
    for name in ("val", "test"):
        scores[name] = score_split(view_logits[name], labels[name], temperature, rule, decision)
    scores["test"].update(
        held_out_extras(view_logits["test"], labels["test"], temperature, splits["test"], decision)
    )
    return {"scores": scores, "rule": rule, "temperature": temperature, "decision": decision}
