"""Quality checks on generated images: each unusable kind is refused by its own check, with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from hygeia.dermatology.quality import ImageRefused, QualityLimits, check_quality, laplacian_std


def lesion_like(width: int = 400, height: int = 300, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    blob = np.exp(-(((xx - width / 2) / 90.0) ** 2 + ((yy - height / 2) / 70.0) ** 2))[..., None]
    pixels = np.array([225, 180, 160]) * (1 - blob) + np.array([110, 60, 40]) * blob
    pixels = pixels + rng.normal(0, 8, size=(height, width, 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def refusal(image: Image.Image) -> str:
    with pytest.raises(ImageRefused) as caught:
        check_quality(image)
    assert (caught.value.reason and "retake" in caught.value.reason) or caught.value.check == "too_small"
    return caught.value.check


def test_a_textured_lesion_like_image_passes():
    measures = check_quality(lesion_like())
    assert measures.contrast > 4 and measures.sharpness > 2


@pytest.mark.parametrize("size", [(1, 1), (63, 500), (500, 40)])
def test_too_small_is_refused_with_its_size(size):
    with pytest.raises(ImageRefused) as caught:
        check_quality(Image.new("RGB", size))
    assert caught.value.check == "too_small" and f"{size[0]}x{size[1]}" in caught.value.reason


@pytest.mark.parametrize("colour", [(255, 255, 255), (128, 128, 128), (225, 180, 160), (0, 0, 0)])
def test_uniform_images_are_refused(colour):
    assert refusal(Image.new("RGB", (300, 300), colour)) == "uniform"


def test_heavy_blur_is_refused_but_the_sharp_original_is_not():
    sharp = lesion_like()
    check_quality(sharp)
    assert refusal(sharp.filter(ImageFilter.GaussianBlur(12))) == "blurred"


def test_over_and_under_exposure_are_refused():
    base = np.asarray(lesion_like(), dtype=np.float32)
    assert refusal(Image.fromarray((base * 3).clip(0, 255).astype(np.uint8))) == "overexposed"
    dark = base.copy()
    dark[:, : int(dark.shape[1] * 0.7)] = 0  # most of the frame black, the rest still textured
    assert refusal(Image.fromarray(dark.astype(np.uint8))) == "underexposed"


def test_limits_round_trip_and_laplacian_of_flat_is_zero():
    limits = QualityLimits(min_side=32)
    assert QualityLimits.from_dict(limits.as_dict()) == limits
    assert QualityLimits.from_dict(None) == QualityLimits()
    assert laplacian_std(np.full((10, 10), 7.0, dtype=np.float32)) == 0.0


def test_a_greyscale_copy_is_refused_but_its_colour_original_is_not():
    # the classifier reads colour: greyscale copies of melanomas were called benign keratoses
    colour = lesion_like()
    assert check_quality(colour).chroma > 10
    for grey in (colour.convert("L"), colour.convert("L").convert("RGB")):
        with pytest.raises(ImageRefused) as caught:
            check_quality(grey)
        assert caught.value.check == "greyscale" and "upload the colour original" in caught.value.reason
