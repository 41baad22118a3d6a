"""Peak memory of analysing the worst inputs the service accepts, over the idle (warmed-up) process.

`python -m benchmarks.dermatology.memory [--model FOLDER]`. Inputs are written to a temporary folder
by a separate process (gradients, and a real test-split lesion upscaled to the pixel budget). Each
case then runs in a fresh interpreter: load the model, analyse the real lesion once (so ONNX
Runtime's arenas exist), read the upload's bytes, read the peak RSS (`ru_maxrss`), analyse the case
through `service.analyse` with Grad-CAM, read the peak again. The difference is what the upload
costs; the target is < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.2.0"
TARGET_MB = 300

MAKE_CODE = r"""
import io, sys
import numpy as np
from pathlib import Path
from PIL import Image
from hygeia.dermatology.images import MAX_FULL_DECODE_PIXELS, MAX_PIXELS

out, lesion = Path(sys.argv[1]), Path(sys.argv[2])
side_png, side_jpeg = int(MAX_FULL_DECODE_PIXELS ** 0.5) - 1, int(MAX_PIXELS ** 0.5) - 1

def gradient(side, mode="RGB"):
    x = np.linspace(0, 255, side, dtype=np.float32)[None, :].repeat(side, 0)
    image = Image.fromarray(np.stack([x, x.T, 255 - x], -1).astype(np.uint8))
    return image.convert(mode) if mode != "RGB" else image

def real(side):
    return Image.open(lesion).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)

gradient(side_png, "RGBA").save(out / "png_rgba_gradient_at_budget.png")
grey = np.linspace(0, 65535, side_png * side_png).astype(np.uint16).reshape(side_png, side_png)
Image.fromarray(grey).save(out / "png_16bit_at_budget.png")
real(side_png).convert("RGBA").save(out / "png_rgba_lesion_at_budget.png", compress_level=9)
real(side_jpeg).save(out / "jpeg_lesion_at_budget.jpg", quality=90)
Image.new("RGB", (6000, 6000), "white").save(out / "png_6000x6000_over_budget.png")
"""

CASE_CODE = r"""
import json, resource, sys, time
from pathlib import Path
from PIL import Image
from hygeia.dermatology import service

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

ready = service.classifier_from_folder(Path(sys.argv[1]))
lesion = Path(sys.argv[3])
service.analyse(ready, [(lesion.name, lesion.read_bytes())])  # warm-up: ONNX Runtime's arenas exist
files = [Path(p) for p in sys.argv[2].split(",")]
uploads = [(f.name, f.read_bytes()) for f in files]
idle = peak_mb()
started = time.perf_counter()
results = service.analyse(ready, uploads, heatmaps=True)
seconds = time.perf_counter() - started
print(json.dumps({"idle_peak_mb": idle, "peak_mb": peak_mb(), "over_idle_mb": peak_mb() - idle,
                  "seconds": seconds, "bytes": sum(len(d) for _, d in uploads),
                  "size": Image.open(files[0]).size,
                  "outcomes": [r.rejection.check if r.rejection else r.status for r in results]}))
"""

CASES = {
    "PNG RGBA gradient, at the pixel budget": ["png_rgba_gradient_at_budget.png"],
    "PNG 16-bit grey, at the pixel budget": ["png_16bit_at_budget.png"],
    "PNG RGBA real lesion, at the pixel budget": ["png_rgba_lesion_at_budget.png"],
    "JPEG real lesion, at the pixel budget": ["jpeg_lesion_at_budget.jpg"],
    "batch of 4 x PNG real lesion at budget": ["png_rgba_lesion_at_budget.png"] * 4,
    "PNG 6000x6000 (over budget)": ["png_6000x6000_over_budget.png"],
}


def first_test_lesion(model: Path) -> Path:
    """A real test-split image to upscale (read from the data folder, never copied into the repo)."""
    import csv
    import os

    data = Path(os.environ.get("HYGEIA_DATA_DIR", REPO.parent / "shared" / "data")) / "derm"
    with (model / "split.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["split"] == "test" and r["dx"] == "mel")
    return data / "images" / f"{row['image_id']}.jpg"


def run(code: str, *args: str) -> str:
    output = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=REPO
    )
    return output.stdout.strip().splitlines()[-1] if output.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    lesion = first_test_lesion(args.model)
    print(f"model {args.model}; target < {TARGET_MB} MB over idle for any upload; lesion {lesion.name}")
    with tempfile.TemporaryDirectory() as folder:
        run(MAKE_CODE, folder, str(lesion))
        for case, names in CASES.items():
            files = ",".join(str(Path(folder) / name) for name in names)
            r = json.loads(run(CASE_CODE, str(args.model), files, str(lesion)))
            verdict = "ok" if r["over_idle_mb"] < TARGET_MB else "OVER TARGET"
            print(
                f"{case:42} {r['size'][0]}x{r['size'][1]} {r['bytes'] / 1e6:5.2f} MB  idle "
                f"{r['idle_peak_mb']:4.0f} MB  peak {r['peak_mb']:4.0f} MB  "
                f"over idle {r['over_idle_mb']:4.0f} MB  "
                f"{r['seconds']:5.2f} s  {r['outcomes']} {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
