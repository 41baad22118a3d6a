"""ONNX Runtime (served) vs torch eager latency and throughput for the lesion classifier on the CPU.

`python -m benchmarks.dermatology [--threads N] [--model FOLDER]`. Both engines run the same
EfficientNet-Lite0 graph with the same thread count in this one process, and the result is reported
as a ratio, so it does not depend on this machine's absolute speed. The fine-tuned backbone exists
only inside the ONNX graph (BatchNorm is folded into the convolutions on export), so torch runs the
same architecture with its ImageNet backbone and the shipped head: latency does not depend on the
weight values. Without torch installed (`pip install -e '.[train]'`) only ONNX Runtime is measured.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hygeia.dermatology.inference import LesionClassifier

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.0.0"
SIDE = 224


def timed(run: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def inputs(batch: int) -> np.ndarray:
    """Fixed pseudo-images in the model's input range; pixel values do not change the work done."""
    return np.random.default_rng(0).uniform(-1, 1, size=(batch, 3, SIDE, SIDE)).astype(np.float32)


def measure(name: str, forward: Callable[[np.ndarray], object], repeats: dict[int, int]) -> dict[int, float]:
    """Median seconds per call for each batch size; prints latency and images per second."""
    medians = {}
    for batch, count in repeats.items():
        x = inputs(batch)
        seconds = timed(lambda x=x: forward(x), count)
        medians[batch] = statistics.median(seconds)
        p90 = sorted(seconds)[int(0.9 * (len(seconds) - 1))]
        print(
            f"{name:12} batch {batch:3d}: median {medians[batch] * 1000:8.1f} ms  p90 {p90 * 1000:8.1f} ms  "
            f"{batch / medians[batch]:7.1f} images/s  ({count} runs)",
            flush=True,
        )
    return medians


def torch_forward(model_folder: Path, threads: int) -> Callable[[np.ndarray], object] | None:
    try:
        import torch

        from hygeia.dermatology.network import build_network
    except ImportError as exc:
        print(f"torch eager: skipped ({exc.name} is not installed; `pip install -e '.[train]'`)")
        return None
    torch.set_num_threads(threads)
    model = build_network(pretrained=True).eval()
    with np.load(model_folder / "cam_head.npz", allow_pickle=False) as head:
        model._fc.weight.data = torch.from_numpy(head["weight"])
        model._fc.bias.data = torch.from_numpy(head["bias"])

    def forward(x: np.ndarray) -> object:
        with torch.inference_mode():
            return model(torch.from_numpy(x))

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    repeats = {1: 30, 8: 8, 32: 4}  # 8 = one image with its 8 test-time views
    classifier = LesionClassifier(args.model, threads=args.threads)
    print(f"model {args.model}; {args.threads} threads; input {SIDE}x{SIDE}")
    onnx = measure("onnxruntime", classifier.run, repeats)
    forward = torch_forward(args.model, args.threads)
    if forward is None:
        return
    eager = measure("torch eager", forward, repeats)
    for batch in repeats:
        print(f"batch {batch:3d}: onnxruntime is {eager[batch] / onnx[batch]:.2f}x the speed of torch eager")


if __name__ == "__main__":
    main()
