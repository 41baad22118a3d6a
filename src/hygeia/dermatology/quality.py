"""Image-quality checks that run before the network sees an image.

A classifier that must answer one of seven classes calls a white page a naevus with confidence. These
checks refuse what carries no lesion information at all (too small, uniform, blurred to nothing,
burnt out or black), cheaply and with a reason a user can act on. The limits are deliberately loose:
they are set so that essentially no real dermatoscopic image fails them (the model card reports the
measured false-rejection rate on the test split); the feature-space gate catches the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

CHECK_SIDE = 224  # measured on the model-sized greyscale copy, the resolution the network sees


class ImageRefused(ValueError):
    """A readable image the gate will not classify; `check` names which test refused it."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(reason)
        self.check = check
        self.reason = reason


@dataclass(frozen=True)
class QualityLimits:
    min_side: int = 64  # pixels; below this a lesion has no visible structure
    min_contrast: float = 4.0  # std of grey levels (0..255); a blank page is ~0
    min_sharpness: float = 2.0  # std of the Laplacian; heavy blur leaves almost none
    max_bright_fraction: float = 0.60  # share of pixels at >= 250: over-exposed
    max_dark_fraction: float = 0.60  # share of pixels at <= 5: under-exposed
    min_mean: float = 15.0  # mean grey level: a near-black frame
    max_mean: float = 245.0
    # mean of max(R,G,B) - min(R,G,B): 0 for a greyscale image; every HAM10000 image has >= 6.5
    min_chroma: float = 2.0

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> QualityLimits:
        return cls(**values) if values else cls()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QualityMeasures:
    width: int
    height: int
    contrast: float
    sharpness: float
    bright_fraction: float
    dark_fraction: float
    mean: float
    chroma: float


def laplacian_std(grey: np.ndarray) -> float:
    """Std of the 4-neighbour Laplacian: the standard focus measure, in numpy without OpenCV."""
    lap = -4.0 * grey[1:-1, 1:-1] + grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:]
    return float(lap.std())


def measure(image: Image.Image) -> QualityMeasures:
    """Quality measures on a CHECK_SIDE greyscale copy, so they do not depend on the upload's size;
    colour on a CHECK_SIDE RGB copy."""
    small = image.convert("L").resize((CHECK_SIDE, CHECK_SIDE), Image.Resampling.BILINEAR)
    grey = np.asarray(small, dtype=np.float32)
    rgb = np.asarray(image.convert("RGB").resize((CHECK_SIDE, CHECK_SIDE), Image.Resampling.BILINEAR))
    channels = rgb.astype(np.int16)
    return QualityMeasures(
        width=image.width,
        height=image.height,
        contrast=float(grey.std()),
        sharpness=laplacian_std(grey),
        bright_fraction=float((grey >= 250).mean()),
        dark_fraction=float((grey <= 5).mean()),
        mean=float(grey.mean()),
        chroma=float((channels.max(axis=2) - channels.min(axis=2)).mean()),
    )


def check_quality(image: Image.Image, limits: QualityLimits | None = None) -> QualityMeasures:
    """Raise ImageRefused with the first failed check; return the measures when all pass."""
    limits = limits or QualityLimits()
    if min(image.size) < limits.min_side:
        raise ImageRefused(
            "too_small",
            f"image is {image.width}x{image.height} pixels; at least {limits.min_side} px per side "
            "is needed to see a lesion",
        )
    m = measure(image)
    retake = "retake the dermatoscopic photograph"
    failures = (
        ("uniform", m.contrast < limits.min_contrast,
         f"image is nearly uniform (contrast {m.contrast:.1f}); {retake}"),
        ("overexposed", m.bright_fraction > limits.max_bright_fraction or m.mean > limits.max_mean,
         f"image is over-exposed ({m.bright_fraction:.0%} of pixels saturated white); {retake}"),
        ("underexposed", m.dark_fraction > limits.max_dark_fraction or m.mean < limits.min_mean,
         f"image is under-exposed ({m.dark_fraction:.0%} of pixels black); {retake}"),
        ("blurred", m.sharpness < limits.min_sharpness,
         f"image is too blurred to show lesion structure (sharpness {m.sharpness:.2f}); {retake}"),
        # the classifier reads colour: greyscale copies of melanomas were called benign keratoses
        ("greyscale", m.chroma < limits.min_chroma,
         f"image has no colour (greyscale; mean chroma {m.chroma:.1f} of 255), which the classifier "
         f"needs; upload the colour original or {retake}"),
    )  # fmt: skip
    for check, failed, reason in failures:
        if failed:
            raise ImageRefused(check, reason)
    return m
