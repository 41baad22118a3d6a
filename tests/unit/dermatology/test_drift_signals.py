"""Which numbers of a dermatology answer feed drift, and the reference histograms built from them."""

from __future__ import annotations

from hygeia.dermatology.drift import reference, signal_values
from hygeia.dermatology.schemas import LesionResult, Rejection, Uncertainty


def _answered(top: float, entropy: float, distance: float) -> LesionResult:
    uncertainty = Uncertainty(entropy=entropy, tta_spread=0.0, entropy_threshold=0.5, spread_threshold=0.1)
    return LesionResult(
        image="a.jpg",
        prediction="nv",
        probabilities={"nv": top, "mel": 1 - top},
        uncertainty=uncertainty,
        ood_distance=distance,
    )


def test_signals_of_answered_refused_and_unreadable_images() -> None:
    refused_by_gate = LesionResult(
        image="b.jpg",
        status="rejected",
        rejection=Rejection(check="out_of_distribution", reason="not a lesion", ood_distance=9.0),
    )
    blurred = LesionResult(
        image="c.jpg", status="rejected", rejection=Rejection(check="blurred", reason="blur")
    )
    unreadable = LesionResult(image="d.txt", status="error", error="not an image")
    values = signal_values([_answered(0.9, 0.2, 3.0), refused_by_gate, blurred, unreadable])
    assert values == {
        "top_probability": [0.9],
        "entropy": [0.2],
        "ood_distance": [3.0, 9.0],
        "rejected": [0.0, 1.0, 1.0],
    }


def test_reference_histograms_cover_what_live_traffic_can_show() -> None:
    histograms = reference(
        {
            "top_probability": [0.95, 0.55],
            "entropy": [0.1],
            "ood_distance": [2.0, 4.0],
            "rejected": [0.0, 1.0],
        }
    )
    assert histograms["top_probability"]["counts"] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert histograms["ood_distance"]["edges"][-1] == 8.0  # twice the largest validation distance
    assert histograms["rejected"] == {"edges": [0.0, 0.5, 1.0], "counts": [1, 1]}
