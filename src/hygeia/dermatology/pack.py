"""Re-encode the labelled images into a compact folder for training on a remote GPU machine.

A remote trainer gets a copy of the repository, not the shared data folder, and that copy has a
size limit; JPEG quality 80 at the native 224x224 brings ~96 MB to ~40 MB. The folder has the same
layout as the data folder (labels.csv + images/), so `--data-dir` can point at either. It must live
in a git-ignored path: data never enters the repository.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from hygeia.dermatology.dataset import read_labels
from hygeia.dermatology.images import MODEL_SIDE, decode_image, resize_for_model


def reencode(data: bytes, quality: int) -> bytes:
    image = resize_for_model(decode_image(data).rgb, MODEL_SIDE)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def pack_images(data_dir: Path, out_dir: Path, quality: int = 80) -> int:
    """Write labels.csv and re-encoded images/ under `out_dir`; returns the total bytes written."""
    records = read_labels(data_dir)
    images_dir = Path(out_dir) / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(data_dir) / "labels.csv", Path(out_dir) / "labels.csv")
    total = (Path(out_dir) / "labels.csv").stat().st_size
    for record in records:
        encoded = reencode(record.path.read_bytes(), quality)
        (images_dir / record.path.name).write_bytes(encoded)
        total += len(encoded)
    return total
