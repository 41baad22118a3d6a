"""Training building blocks (skipped where torch, an optional `train` extra, is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hygeia.dermatology.augment import AugmentConfig, augment_batch  # noqa: E402
from hygeia.dermatology.training import _schedule, class_balanced_weights, normalise  # noqa: E402


def test_class_balanced_weights_favour_rare_classes_but_less_than_inverse_frequency():
    labels = np.array([5] * 3000 + [3] * 40 + [4] * 300 + [0] * 100 + [1] * 150 + [2] * 400 + [6] * 50)
    weights = class_balanced_weights(labels, beta=0.999).numpy()
    assert weights[3] > weights[4] > weights[5]
    assert weights[3] / weights[5] < 3000 / 40
    assert weights.sum() == pytest.approx(7.0)


def test_schedule_warms_up_then_decays_to_zero():
    horizon = {"total": 100}
    factor = _schedule(horizon, warmup_steps=10)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(55) == pytest.approx(0.5, abs=0.01) and factor(100) == pytest.approx(0.0, abs=1e-9)
    horizon["total"] = 50  # shortened after the first epochs showed the time limit
    assert factor(50) == pytest.approx(0.0, abs=1e-9)


def test_augmentation_keeps_shape_range_and_varies():
    images = torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8)
    gen = torch.Generator().manual_seed(0)
    a = augment_batch(images, AugmentConfig(), gen, 32)
    b = augment_batch(images, AugmentConfig(), gen, 32)
    assert a.shape == (4, 3, 32, 32) and a.min() >= 0 and a.max() <= 1
    assert not torch.allclose(a, b)


def test_normalise_matches_serving_preprocessing():
    from PIL import Image

    from hygeia.dermatology.images import to_model_input

    pixels = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    served = to_model_input(Image.fromarray(pixels))
    trained = normalise(torch.from_numpy(pixels).permute(2, 0, 1).float() / 255.0).numpy()
    assert np.allclose(served, trained, atol=1e-5)
