"""Grad-CAM for a global-average-pooled linear head, computed in numpy, and its overlay PNG.

For logits y_c = sum_k W[c,k] * mean_ij A_k[i,j] + b_c, the Grad-CAM channel weight
alpha_k = mean_ij d y_c / d A_k[i,j] = W[c,k] / (h*w) is the same at every position, so
Grad-CAM = ReLU(sum_k alpha_k A_k) is CAM scaled by a positive constant: exact, not approximated.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

OVERLAY_ALPHA = 0.45


def class_activation_map(features: np.ndarray, class_weight: np.ndarray) -> np.ndarray:
    """(K, h, w) feature map and (K,) head row -> (h, w) map in [0, 1] (all zeros if nothing fires)."""
    cam = np.tensordot(class_weight, features, axes=([0], [0])) / (features.shape[1] * features.shape[2])
    cam = np.maximum(cam, 0.0)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam).astype(np.float32)


def _jet(values: np.ndarray) -> np.ndarray:
    """Blue -> cyan -> yellow -> red colour map on [0, 1] without a plotting dependency."""
    v = np.clip(values, 0.0, 1.0)
    red = np.clip(1.5 - np.abs(4 * v - 3), 0, 1)
    green = np.clip(1.5 - np.abs(4 * v - 2), 0, 1)
    blue = np.clip(1.5 - np.abs(4 * v - 1), 0, 1)
    return (np.stack([red, green, blue], axis=-1) * 255).astype(np.uint8)


def upsample(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the coarse (7x7) map to the image's (width, height)."""
    image = Image.fromarray(cam.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def overlay_png(image: Image.Image, cam: np.ndarray, alpha: float = OVERLAY_ALPHA) -> bytes:
    """Blend the heat map onto the (model-sized) image; PNG bytes, nothing written to disk."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    heat = _jet(upsample(cam, image.size)).astype(np.float32)
    weight = alpha * upsample(cam, image.size)[..., None]  # cold regions keep the original pixels
    blended = (rgb * (1 - weight) + heat * weight).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(blended).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
