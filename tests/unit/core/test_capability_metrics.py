"""Score histograms and decision counts: what the capability dashboards plot."""

from __future__ import annotations

from prometheus_client import REGISTRY

from hygeia.core.observability import count_decisions, observe_scores


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_scores_land_in_their_buckets_and_missing_scores_are_not_counted():
    labels = {"model": "unit-model", "version": "9.9.9", "label": "NR-AR"}
    observe_scores("unit-model", "9.9.9", {"NR-AR": [0.05, 0.42, 0.97, float("nan")]})
    assert _sample("hygeia_prediction_score_count", labels) == 3
    assert _sample("hygeia_prediction_score_bucket", {**labels, "le": "0.1"}) == 1
    assert _sample("hygeia_prediction_score_bucket", {**labels, "le": "0.5"}) == 2
    assert abs(_sample("hygeia_prediction_score_sum", labels) - 1.44) < 1e-9


def test_decisions_are_counted_per_capability_and_decision():
    before = _sample("hygeia_capability_decisions_total", {"capability": "unit", "decision": "rejected"})
    count_decisions("unit", ["accepted", "rejected", "rejected"])
    after = _sample("hygeia_capability_decisions_total", {"capability": "unit", "decision": "rejected"})
    assert after - before == 2
    assert _sample("hygeia_capability_decisions_total", {"capability": "unit", "decision": "accepted"}) >= 1
