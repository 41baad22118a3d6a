"""Untrusted image bytes in, a model-ready RGB array out — or a clear, specific refusal.

Uploads are decoded in memory and never written to disk. Every check runs before the pixel data is
decoded, so a decompression bomb or a file pretending to be an image is refused cheaply.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024  # a dermatoscopic JPEG is a few MB at most
MAX_SIDE = 10_000  # pixels on either side
MAX_PIXELS = 40_000_000  # width x height of a JPEG, checked from the header before decoding
# Formats decoded at full size (PNG) get a smaller budget: 16 Mpx RGBA is 64 MB before the copy that
# shrinks it. JPEGs are decoded at 1/2, 1/4 or 1/8 scale (draft mode) and never reach full size.
MAX_FULL_DECODE_PIXELS = 16_000_000
WORK_SIDE = 1024  # decoded images are shrunk to this longest side: the model needs 224, overlays 448
MODEL_SIDE = 224  # the network's input; training images are 224x224 (squashed from 600x450)
# EfficientNet-Lite's ImageNet preprocessing: (pixel - 127) / 128 on 0..255 values.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0

# Pillow's own guard, as a second line behind the explicit header check below.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageRejected(ValueError):
    """The bytes are not an image this service will analyse; the message says why, for the caller."""


@dataclass(frozen=True)
class DecodedImage:
    rgb: Image.Image  # upright (EXIF applied), RGB, 8-bit
    format: str  # "JPEG" or "PNG"
    original_size: tuple[int, int]


def sniff_format(data: bytes) -> str:
    """Decide by magic bytes, not by file name or declared content type, which a client controls."""
    if data.startswith(JPEG_MAGIC):
        return "JPEG"
    if data.startswith(PNG_MAGIC):
        return "PNG"
    raise ImageRejected("not a JPEG or PNG file (magic bytes do not match); only JPEG and PNG are accepted")


def _check_dimensions(width: int, height: int, max_pixels: int = MAX_PIXELS) -> None:
    if width < 1 or height < 1:
        raise ImageRejected(f"image has no pixels ({width}x{height})")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise ImageRejected(
            f"image is {width}x{height} pixels; the limit is {MAX_SIDE} per side and "
            f"{max_pixels:,} in total for this format (possible decompression bomb)"
        )


def _decode_small(image: Image.Image, kind: str) -> Image.Image:
    """Decode within the pixel budget: JPEG through draft mode (the DCT scales down while decoding),
    other formats in full, then shrunk at once so only a WORK_SIDE copy outlives this call."""
    if kind == "JPEG":
        image.draft(image.mode, (WORK_SIDE, WORK_SIDE))
    image.load()
    factor = max(image.size) // WORK_SIDE
    if image.mode in SIXTEEN_BIT:
        return _sixteen_to_eight(image, max(factor, 1))
    if factor >= 2 and image.mode in ("RGB", "RGBA", "L", "LA", "I", "F", "CMYK"):
        image = image.reduce(factor)
    return image


def _sixteen_to_eight(image: Image.Image, step: int) -> Image.Image:
    """16/32-bit grey -> 8-bit, subsampled first so no full-size float copy is ever made."""
    array = np.asarray(image)[::step, ::step]
    peak = float(array.max()) or 1.0
    return Image.fromarray((array.astype(np.float32) / peak * 255.0).astype(np.uint8))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten every colour mode to 8-bit RGB; transparency is composited on white, not dropped."""
    if image.mode in SIXTEEN_BIT:
        image = _sixteen_to_eight(image, 1)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def decode_image(data: bytes, max_bytes: int = MAX_BYTES) -> DecodedImage:
    """Validate and decode untrusted bytes; every failure is an ImageRejected with a readable reason."""
    if not data:
        raise ImageRejected("empty file")
    if len(data) > max_bytes:
        raise ImageRejected(f"file is {len(data):,} bytes; the limit is {max_bytes:,}")
    kind = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            _check_dimensions(*image.size, MAX_PIXELS if kind == "JPEG" else MAX_FULL_DECODE_PIXELS)
            original_size = image.size
            upright = ImageOps.exif_transpose(_decode_small(image, kind))
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"refused as a possible decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"{kind} header could not be parsed; the file is corrupt") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"{kind} data is corrupt or truncated: {exc}") from exc
    rgb = _to_rgb(upright)
    if max(rgb.size) > WORK_SIDE:
        rgb.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    return DecodedImage(rgb, kind, original_size)


def resize_for_model(image: Image.Image, side: int = MODEL_SIDE) -> Image.Image:
    """Squash to a square, as the training images were (600x450 -> 224x224), so shapes match training."""
    if image.size == (side, side):
        return image
    return image.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=3.0)


def to_model_input(image: Image.Image, side: int = MODEL_SIDE) -> np.ndarray:
    """RGB image -> float32 array (3, side, side) normalised as the backbone was pretrained."""
    array = np.asarray(resize_for_model(image.convert("RGB"), side), dtype=np.float32)
    return ((array - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1).copy()


def dihedral_views(batch: np.ndarray) -> list[np.ndarray]:
    """The 8 flips/rotations of (N, 3, H, W) inputs: a lesion has no canonical orientation."""
    views = []
    for k in range(4):
        rotated = np.rot90(batch, k=k, axes=(2, 3))
        views.extend([rotated, rotated[..., ::-1]])
    return [np.ascontiguousarray(view) for view in views]
