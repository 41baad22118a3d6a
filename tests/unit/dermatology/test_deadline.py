"""A deadline stops a running graph (the worker is free again), and the slots bound concurrency."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from hygeia.dermatology import deadline as bounds
from hygeia.dermatology.deadline import AnalysisBusy, AnalysisTimeout, Deadline, analysis_slot
from hygeia.dermatology.inference import LesionClassifier

MODEL = Path(__file__).resolve().parents[3] / "models" / "dermatology" / "1.1.0"


@pytest.fixture(scope="module")
def classifier() -> LesionClassifier:
    return LesionClassifier(MODEL)


def test_inference_past_its_deadline_is_terminated_and_the_next_call_works(classifier):
    batch = np.zeros((6, 3, 224, 224), dtype=np.float32)  # 6 images x 8 views in one graph call
    started = time.monotonic()
    classifier.view_logits(batch, Deadline(120))
    full = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(AnalysisTimeout) as caught:
        classifier.view_logits(batch, Deadline(0.02))
    assert time.monotonic() - started < full / 2  # stopped, not run to completion
    assert caught.value.status == 504 and "inference" in caught.value.detail
    logits, _ = classifier.view_logits(batch[:1], Deadline(120))
    assert logits.shape == (8, 1, 7)


def test_an_expired_deadline_refuses_the_next_step():
    expired = Deadline(0.0)
    with pytest.raises(AnalysisTimeout, match="Grad-CAM"):
        expired.check("Grad-CAM")


def test_slots_are_bounded(monkeypatch):
    import threading

    monkeypatch.setattr(bounds, "_slots", threading.BoundedSemaphore(1))
    with analysis_slot(Deadline(1)), pytest.raises(AnalysisBusy), analysis_slot(Deadline(0.05)):
        pass
    with analysis_slot(Deadline(0.05)):  # released again
        pass
