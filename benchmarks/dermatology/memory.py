"""Peak memory of analysing the worst inputs the service accepts, over the idle (warmed-up) process.

`python -m benchmarks.dermatology.memory [--model FOLDER]`. Each case runs in a fresh interpreter:
load the model, analyse one small image (so ONNX Runtime's arenas exist), read the peak RSS
(`ru_maxrss`), analyse the case through `service.analyse` with Grad-CAM, read the peak again. The
difference is what one accepted upload costs; the target is < 300 MB. Inputs are generated here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.2.0"
TARGET_MB = 300

CASE_CODE = r"""
import io, json, resource, sys, time
import numpy as np
from pathlib import Path
from PIL import Image
from hygeia.dermatology import service
from hygeia.dermatology.images import MAX_FULL_DECODE_PIXELS, MAX_PIXELS

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def encode(image, fmt, **kw):
    buffer = io.BytesIO(); image.save(buffer, format=fmt, **kw); return buffer.getvalue()

def gradient(width, height, mode="RGB"):
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack(np.broadcast_arrays(x + 0 * y, y + 0 * x, 255 - x + 0 * y), -1).astype(np.uint8)
    image = Image.fromarray(rgb)
    return image.convert(mode) if mode != "RGB" else image

def make(case):
    side_png = int(MAX_FULL_DECODE_PIXELS ** 0.5) - 1
    side_jpeg = int(MAX_PIXELS ** 0.5) - 1
    if case == "png_rgba_at_budget":
        return [("a.png", encode(gradient(side_png, side_png, "RGBA"), "PNG"))]
    if case == "png_16bit_at_budget":
        grey = np.linspace(0, 65535, side_png * side_png).astype(np.uint16).reshape(side_png, side_png)
        return [("g.png", encode(Image.fromarray(grey), "PNG"))]
    if case == "jpeg_at_budget":
        return [("a.jpg", encode(gradient(side_jpeg, side_jpeg), "JPEG", quality=85))]
    if case == "batch_4_png_at_budget":
        one = encode(gradient(side_png, side_png, "RGBA"), "PNG")
        return [(f"{i}.png", one) for i in range(4)]
    if case == "png_6000x6000_refused":
        return [("big.png", encode(Image.new("RGB", (6000, 6000), "white"), "PNG"))]
    raise SystemExit(f"unknown case {case}")

ready = service.classifier_from_folder(Path(sys.argv[1]))
warm = encode(gradient(600, 450), "JPEG")
service.analyse(ready, [("warm.jpg", warm)])
uploads = make(sys.argv[2])
idle = peak_mb()
started = time.perf_counter()
results = service.analyse(ready, uploads, heatmaps=True)
seconds = time.perf_counter() - started
print(json.dumps({"case": sys.argv[2], "idle_peak_mb": idle, "peak_mb": peak_mb(),
                  "over_idle_mb": peak_mb() - idle, "seconds": seconds,
                  "bytes": sum(len(d) for _, d in uploads),
                  "statuses": [r.status for r in results], "errors": [r.error for r in results if r.error]}))
"""

CASES = (
    "png_rgba_at_budget",
    "png_16bit_at_budget",
    "jpeg_at_budget",
    "batch_4_png_at_budget",
    "png_6000x6000_refused",
)


def run_case(model: Path, case: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CASE_CODE, str(model), case],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    print(f"model {args.model}; target < {TARGET_MB} MB over idle for any accepted upload")
    for case in CASES:
        r = run_case(args.model, case)
        verdict = "ok" if r["over_idle_mb"] < TARGET_MB else "OVER TARGET"
        print(
            f"{case:24} {r['bytes'] / 1e6:6.2f} MB file  idle {r['idle_peak_mb']:6.0f} MB  "
            f"peak {r['peak_mb']:6.0f} MB  over idle {r['over_idle_mb']:6.0f} MB  {r['seconds']:5.2f} s  "
            f"{r['statuses']} {verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
