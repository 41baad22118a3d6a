"""Each analysed upload reaches the dermatology dashboard: class probabilities and accepted/rejected."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import REGISTRY

from hygeia.dermatology import service
from hygeia.dermatology.schemas import LesionResult


def _value(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_accepted_rejected_and_probabilities_are_counted():
    ready = SimpleNamespace(name="dermatology", version="0.0.unit")
    decisions = {d: {"capability": "dermatology", "decision": d} for d in ("accepted", "rejected", "error")}
    before = {d: _value("hygeia_capability_decisions_total", labels) for d, labels in decisions.items()}
    results = [
        LesionResult(image="a.jpg", prediction="nv", probabilities={"nv": 0.9, "mel": 0.1}),
        LesionResult(image="b.jpg", prediction="mel", probabilities={"nv": 0.3, "mel": 0.7}),
        service.rejected("c.png", "out_of_distribution", "not a dermoscopic image"),
        LesionResult(image="d.txt", status="error", error="not an image"),
    ]
    service._observe(ready, results)  # type: ignore[arg-type]
    after = {d: _value("hygeia_capability_decisions_total", labels) for d, labels in decisions.items()}
    assert {d: after[d] - before[d] for d in decisions} == {"accepted": 2, "rejected": 1, "error": 1}
    mel = {"model": "dermatology", "version": "0.0.unit", "label": "mel"}
    assert _value("hygeia_prediction_score_count", mel) == 2
    assert abs(_value("hygeia_prediction_score_sum", mel) - 0.8) < 1e-9
