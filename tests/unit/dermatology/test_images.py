"""Untrusted-image handling, on images generated here: every bad input gets a specific refusal."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from hygeia.dermatology.images import (
    MAX_BYTES,
    ImageRejected,
    decode_image,
    dihedral_views,
    to_model_input,
)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def gradient(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1).astype(np.uint8))


def test_jpeg_and_png_decode_to_rgb():
    for fmt in ("JPEG", "PNG"):
        decoded = decode_image(encode(gradient(60, 40), fmt))
        assert decoded.format == fmt and decoded.rgb.mode == "RGB" and decoded.rgb.size == (60, 40)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"GIF89a" + b"\x00" * 64, "magic bytes"),
        (b"%PDF-1.7 not an image", "magic bytes"),
        (b"BM" + b"\x00" * 64, "magic bytes"),
        (b"", "empty"),
    ],
)
def test_wrong_magic_bytes_are_refused(payload, reason):
    with pytest.raises(ImageRejected, match=reason):
        decode_image(payload)


def test_file_named_jpg_but_gif_inside_is_refused():
    gif = encode(gradient(10, 10).convert("P"), "GIF")
    with pytest.raises(ImageRejected, match="only JPEG and PNG"):
        decode_image(gif)


def test_oversized_file_is_refused_before_decoding():
    with pytest.raises(ImageRejected, match="limit"):
        decode_image(b"\xff\xd8\xff" + b"\x00" * MAX_BYTES)


def test_decompression_bomb_is_refused_from_the_header():
    bomb = encode(Image.new("L", (7000, 7000)), "PNG", optimize=True)  # ~49 Mpx in a few dozen KB
    assert len(bomb) < 200_000
    with pytest.raises(ImageRejected, match="decompression bomb"):
        decode_image(bomb)


def test_one_side_too_long_is_refused():
    with pytest.raises(ImageRejected, match="per side"):
        decode_image(encode(Image.new("L", (12_000, 2)), "PNG"))


def test_truncated_jpeg_is_a_clear_error():
    data = encode(gradient(256, 256), "JPEG", quality=95)
    with pytest.raises(ImageRejected, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2])


def test_png_with_valid_signature_but_garbage_body():
    with pytest.raises(ImageRejected, match="corrupt"):
        decode_image(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)


def test_png_alpha_is_composited_on_white():
    rgba = Image.new("RGBA", (8, 8), (200, 0, 0, 0))  # fully transparent red
    rgba.putpixel((0, 0), (200, 0, 0, 255))
    decoded = decode_image(encode(rgba, "PNG")).rgb
    assert decoded.mode == "RGB"
    assert decoded.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.getpixel((0, 0)) == (200, 0, 0)


def test_exif_orientation_is_applied():
    image = gradient(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    decoded = decode_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert decoded.original_size == (40, 20)
    assert decoded.rgb.size == (20, 40)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "LA"])
def test_colour_modes_become_rgb(mode):
    base = gradient(16, 16)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
        fmt = "PNG"
    else:
        image = base.convert(mode)
        fmt = "JPEG" if mode == "CMYK" else "PNG"
    decoded = decode_image(encode(image, fmt))
    assert decoded.rgb.mode == "RGB" and decoded.rgb.size == (16, 16)
    assert np.asarray(decoded.rgb).max() > 100  # not flattened to black


def test_model_input_is_normalised_and_squashed():
    array = to_model_input(gradient(600, 450))
    assert array.shape == (3, 224, 224) and array.dtype == np.float32
    assert -1.0 <= array.min() < -0.9 and 0.9 < array.max() <= 1.0


def test_dihedral_views_are_the_eight_symmetries():
    batch = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    views = dihedral_views(batch)
    assert len(views) == 8
    assert np.array_equal(views[0], batch)
    assert len({v.tobytes() for v in views}) == 8
    assert all(v.flags["C_CONTIGUOUS"] for v in views)


def test_large_jpeg_is_decoded_small_through_draft_mode():
    from hygeia.dermatology.images import WORK_SIDE

    decoded = decode_image(encode(gradient(6000, 4000), "JPEG", quality=70))
    assert decoded.original_size == (6000, 4000)
    assert max(decoded.rgb.size) <= WORK_SIDE and decoded.rgb.size[0] > decoded.rgb.size[1]


def test_png_over_the_full_decode_budget_is_refused_from_the_header():
    from hygeia.dermatology.images import MAX_FULL_DECODE_PIXELS

    side = int(MAX_FULL_DECODE_PIXELS**0.5) + 100  # a flat PNG this size is a few kB: cheap to make
    with pytest.raises(ImageRejected, match="for this format"):
        decode_image(encode(Image.new("L", (side, side)), "PNG"))
