"""Temperature scaling, ECE and the referral rule on synthetic scores with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.dermatology import calibration as cal


def sampled(temperature: float, n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(logits / temperature): the true T is known."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(n, 7))
    probs = cal.softmax(logits, temperature)
    labels = np.array([rng.choice(7, p=p) for p in probs])
    return logits, labels


def test_fit_temperature_recovers_the_true_temperature():
    logits, labels = sampled(2.0)
    assert cal.fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)


def test_temperature_lowers_ece_on_overconfident_scores():
    logits, labels = sampled(2.0)
    before = cal.reliability(cal.softmax(logits, 1.0), labels)["ece"]
    after = cal.reliability(cal.softmax(logits, cal.fit_temperature(logits, labels)), labels)["ece"]
    assert after < before / 2


def test_reliability_bins_cover_every_case():
    logits, labels = sampled(1.0, n=500)
    result = cal.reliability(cal.softmax(logits), labels)
    assert sum(b["count"] for b in result["bins"]) == 500 and len(result["bins"]) == cal.ECE_BINS


def test_entropy_is_normalised():
    assert cal.normalised_entropy(np.full((1, 7), 1 / 7))[0] == pytest.approx(1.0)
    assert cal.normalised_entropy(np.eye(7)[:1])[0] == pytest.approx(0.0, abs=1e-9)


def test_tta_spread_is_zero_when_views_agree():
    views = np.repeat(cal.softmax(np.random.default_rng(0).normal(size=(1, 5, 7)))[None], 8, 0)[:, 0]
    assert np.allclose(cal.tta_spread(views, views[0].argmax(1)), 0.0)


def test_referral_rule_respects_the_refer_budget_and_helps():
    logits, labels = sampled(1.0, n=2000, seed=3)
    rng = np.random.default_rng(4)
    views = cal.softmax(logits[None] + rng.normal(0, 0.5, size=(8, *logits.shape)))
    probs = cal.softmax(logits)
    rule = cal.choose_referral_rule(probs, views, labels, max_refer_rate=0.25)
    summary = cal.referral_summary(rule, probs, views, labels)
    assert summary["refer_rate"] <= 0.25
    assert summary["accuracy_retained"] > summary["accuracy_referred"]
