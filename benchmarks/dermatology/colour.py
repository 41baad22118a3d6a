"""Why the quality gate refuses greyscale images, measured through the served path.

`python -m benchmarks.dermatology.colour [--model FOLDER] [--json OUT]`.

1. Mean chroma (max(R,G,B) - min(R,G,B), on the gate's 224 px copy) of every HAM10000 image in
   `../shared/data/derm`: how many real dermatoscopic images the `min_chroma` limit would refuse.
2. The validation-split melanomas of the model's own split (never the test split), each sent through
   `service.analyse` in colour and as a greyscale copy, with the colour check switched off for the
   copies: how often the greyscale copy loses the colour image's melanoma call.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hygeia.dermatology import service
from hygeia.dermatology.quality import QualityLimits, measure
from hygeia.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.2.0"


def chroma_of_every_image(images: Path, limit: float) -> dict[str, Any]:
    values = np.array([measure(Image.open(path)).chroma for path in sorted(images.glob("*.jpg"))])
    return {
        "images": int(values.size),
        "min": round(float(values.min()), 2),
        "percentiles_0.1_1_50": [round(float(v), 2) for v in np.percentile(values, [0.1, 1, 50])],
        "limit": limit,
        "refused_at_limit": int((values < limit).sum()),
    }


def _grey_jpeg(path: Path) -> bytes:
    out = io.BytesIO()
    Image.open(path).convert("L").save(out, "JPEG", quality=95)
    return out.getvalue()


def melanomas_in_grey(ready: service.ReadyClassifier, images: Path, split: Path) -> dict[str, Any]:
    with split.open() as handle:
        ids = [r["image_id"] for r in csv.DictReader(handle) if r["dx"] == "mel" and r["split"] == "val"]
    colour = service.analyse(ready, [(i, (images / f"{i}.jpg").read_bytes()) for i in ids], heatmaps=False)
    greys = [(i, _grey_jpeg(images / f"{i}.jpg")) for i in ids]
    grey_now = service.analyse(ready, greys, heatmaps=False)
    gate = ready.classifier.gate
    assert gate is not None
    # the served path as it was before the colour check
    ready.classifier.gate = dataclasses.replace(
        gate, quality=dataclasses.replace(gate.quality, min_chroma=0.0)
    )
    try:
        grey = service.analyse(ready, greys, heatmaps=False)
    finally:
        ready.classifier.gate = gate
    called = [(c, g) for c, g in zip(colour, grey, strict=True) if c.prediction == "mel"]
    lost = [g.prediction or g.status for _, g in called if g.prediction != "mel"]
    return {
        "validation_melanomas": len(ids),
        "called_mel_in_colour": len(called),
        "grey_copy_not_called_mel": len(lost),
        "grey_copy_called_instead": {k: lost.count(k) for k in sorted(set(lost))},
        "grey_copies_refused_now": sum(
            1 for r in grey_now if r.rejection is not None and r.rejection.check == "greyscale"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    images = get_settings().data_dir / "derm" / "images"
    ready = service.classifier_from_folder(args.model)
    report = {
        "model": {"version": ready.version, "sha256": ready.sha256[:12]},
        "chroma": chroma_of_every_image(images, QualityLimits().min_chroma),
        "melanomas": melanomas_in_grey(ready, images, args.model / "split.csv"),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
