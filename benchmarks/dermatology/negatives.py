"""Non-dermatoscopic inputs for testing the input gate, built from redistributable sources only.

Generated images (blank, noise, rendered text, tiny) and the sample images shipped inside
scikit-image's `skimage.data` (BSD-licensed or public-domain photographs, textures, graphics and
non-dermatoscopic medical images). scikit-image is a test/benchmark dependency, never a serving one.
Every image is deterministic (fixed seeds), so rejection rates reproduce exactly.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

NATURAL = ("astronaut", "cat", "chelsea", "coffee", "rocket", "camera", "moon", "coins", "clock",
           "hubble_deep_field")  # fmt: skip
TEXTURES = ("brick", "grass", "gravel")
OTHER_MEDICAL = ("immunohistochemistry", "retina", "cell", "microaneurysms")
GRAPHICS = ("colorwheel", "logo", "checkerboard", "binary_blobs", "shepp_logan_phantom", "page", "text")
CROPS_PER_PHOTO = 4
LINES = (
    "Patient information leaflet",
    "Take one tablet twice daily",
    "Hygeia decision support 2026",
    "The quick brown fox jumps over the lazy dog",
)


def png(image: Image.Image | np.ndarray) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def to_uint8(array: np.ndarray) -> np.ndarray:
    """skimage.data returns bool, float or uint8 arrays; all become 8-bit."""
    array = np.asarray(array)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        low, high = float(array.min()), float(array.max())
        return ((array - low) / ((high - low) or 1.0) * 255).astype(np.uint8)
    return array.astype(np.uint8)


def blank() -> Iterator[tuple[str, bytes]]:
    colours = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128),
               "skin": (225, 180, 160), "red": (200, 30, 30), "blue": (40, 60, 200)}  # fmt: skip
    for name, colour in colours.items():
        yield f"blank-{name}", png(Image.new("RGB", (600, 450), colour))


def tiny() -> Iterator[tuple[str, bytes]]:
    for width, height in ((1, 1), (16, 16), (32, 48), (63, 200)):
        yield f"tiny-{width}x{height}", png(Image.new("RGB", (width, height), (0, 0, 0)))


def noise() -> Iterator[tuple[str, bytes]]:
    rng = np.random.default_rng(20260101)
    yield "noise-uniform-rgb", png(rng.integers(0, 256, (450, 600, 3), dtype=np.uint8))
    yield "noise-gaussian-grey", png(rng.normal(128, 40, (450, 600)).clip(0, 255).astype(np.uint8))
    salt = np.where(rng.random((450, 600)) < 0.5, 0, 255).astype(np.uint8)
    yield "noise-salt-pepper", png(salt)
    for radius in (2, 6, 16):
        field = Image.fromarray(rng.integers(0, 256, (450, 600, 3), dtype=np.uint8))
        smooth = np.asarray(field.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)
        stretched = (smooth - smooth.mean()) / (smooth.std() or 1.0) * 50 + 128
        yield f"noise-smooth-r{radius}", png(stretched.clip(0, 255).astype(np.uint8))


def text() -> Iterator[tuple[str, bytes]]:
    font = ImageFont.load_default(size=28)
    for index, (ink, paper) in enumerate((("black", "white"), ("white", "black"), ("navy", "beige"))):
        image = Image.new("RGB", (600, 450), paper)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(LINES * 3):
            draw.text((20, 15 + row * 36), line, fill=ink, font=font)
        yield f"text-rendered-{index}", png(image)


def skimage_images(names: tuple[str, ...], kind: str) -> Iterator[tuple[str, bytes]]:
    from skimage import data

    for name in names:
        yield f"{kind}-{name}", png(to_uint8(getattr(data, name)()))


def photo_crops() -> Iterator[tuple[str, bytes]]:
    """Random crops (35-70% of the shorter side) of the natural photos: closer-up, less context."""
    from skimage import data

    rng = np.random.default_rng(7)
    for name in NATURAL:
        photo = to_uint8(getattr(data, name)())
        height, width = photo.shape[:2]
        for index in range(CROPS_PER_PHOTO):
            side = int(min(height, width) * rng.uniform(0.35, 0.7))
            top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
            yield f"crop-{name}-{index}", png(photo[top : top + side, left : left + side])


def negative_sets() -> dict[str, list[tuple[str, bytes]]]:
    """Every negative kind, named as the model card reports them."""
    return {
        "blank (uniform colour)": list(blank()),
        "tiny (< 64 px side)": list(tiny()),
        "noise": list(noise()),
        "rendered text": list(text()),
        "natural photos (skimage.data)": list(skimage_images(NATURAL, "photo")),
        "natural photo crops": list(photo_crops()),
        "textures (skimage.data)": list(skimage_images(TEXTURES, "texture")),
        "other medical images (skimage.data)": list(skimage_images(OTHER_MEDICAL, "medical")),
        "graphics and scanned text (skimage.data)": list(skimage_images(GRAPHICS, "graphic")),
    }
