"""The numpy CAM equals Grad-CAM for a global-average-pooled linear head (checked by finite differences)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from hygeia.dermatology.gradcam import class_activation_map, overlay_png


def logits(features: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return weight @ features.mean(axis=(1, 2)) + bias


def test_cam_equals_grad_cam_computed_from_numerical_gradients():
    rng = np.random.default_rng(0)
    k, h, w, c = 6, 3, 4, 7
    features = rng.random((k, h, w))
    weight, bias = rng.normal(size=(c, k)), rng.normal(size=c)
    target, eps = 2, 1e-6
    grads = np.zeros_like(features)
    for index in np.ndindex(features.shape):
        bumped = features.copy()
        bumped[index] += eps
        grads[index] = (logits(bumped, weight, bias)[target] - logits(features, weight, bias)[target]) / eps
    alpha = grads.mean(axis=(1, 2))  # Grad-CAM channel weights
    grad_cam = np.maximum(np.tensordot(alpha, features, axes=([0], [0])), 0)
    grad_cam /= grad_cam.max()
    assert np.allclose(class_activation_map(features, weight[target]), grad_cam, atol=1e-4)


def test_cam_is_zero_when_nothing_supports_the_class():
    assert not class_activation_map(np.ones((4, 2, 2)), -np.ones(4)).any()


def test_overlay_is_a_png_of_the_image_size():
    image = Image.new("RGB", (64, 48), (120, 80, 60))
    cam = np.zeros((7, 7), dtype=np.float32)
    cam[3, 3] = 1.0
    png = overlay_png(image, cam)
    decoded = Image.open(io.BytesIO(png))
    assert decoded.format == "PNG" and decoded.size == (64, 48)
    pixels = np.asarray(decoded.convert("RGB")).astype(int)
    assert (pixels[0, 0] == (120, 80, 60)).all()  # cold corner keeps the photo
    assert (pixels[24, 32] != (120, 80, 60)).any()  # hot centre is tinted
