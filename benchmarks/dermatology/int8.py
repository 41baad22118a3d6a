"""int8 static quantisation vs the float graph: balanced-accuracy change on the test split and speed.

`python -m benchmarks.dermatology.int8 [--model FOLDER] [--work DIR]`. Quantises the model's graph
(calibrated on training-split images, see hygeia.dermatology.quantize) into a scratch folder, scores
the test split through the served path with both graphs (8 views, the shipped temperature and
decision rule; every image, no gate) and times both in this one process with the same threads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.evaluation import balanced_accuracy
from hygeia.dermatology.inference import LesionClassifier, combine_views
from hygeia.dermatology.quantize import calibration_records, quantize_graph
from hygeia.dermatology.served_evaluation import served_view_logits, shipped_split

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.1.0"


def scores(classifier: LesionClassifier, logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    predicted = classifier.decision.decide(combine_views(logits, classifier.temperature)[0])
    mel = labels == CLASSES.index("mel")
    return {
        "balanced_accuracy": balanced_accuracy(labels, predicted),
        "melanoma_recall": float((predicted[mel] == labels[mel]).mean()),
        "accuracy": float((predicted == labels).mean()),
    }


def latency(classifiers: dict[str, LesionClassifier], batch: int, repeats: int = 25) -> dict[str, float]:
    """Median seconds per call, the engines interleaved call by call so that a change in the load
    of a shared machine hits both alike (a sequential run once gave 0.95x for what is ~1.8x)."""
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
    times: dict[str, list[float]] = {name: [] for name in classifiers}
    for classifier in classifiers.values():
        classifier.run(x)
    for _ in range(repeats):
        for name, classifier in classifiers.items():
            started = time.perf_counter()
            classifier.run(x)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--work", type=Path, default=Path("/tmp/derm_int8"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = Path(os.environ.get("HYGEIA_DATA_DIR", REPO.parent / "shared" / "data")) / "derm"
    int8 = args.work / "model"
    shutil.rmtree(int8, ignore_errors=True)
    shutil.copytree(args.model, int8, ignore=shutil.ignore_patterns("gate*"))
    splits = shipped_split(args.model, data, ("train", "test"))
    started = time.time()
    quantize_graph(args.model / "model.onnx", int8 / "model.onnx", calibration_records(splits["train"]))
    sizes = [(folder / "model.onnx").stat().st_size / 2**20 for folder in (int8, args.model)]
    print(f"quantised in {time.time() - started:.0f} s; {sizes[0]:.1f} MiB vs {sizes[1]:.1f} MiB")
    labels = np.array([r.label for r in splits["test"]])
    classifiers = {
        name: LesionClassifier(folder, threads=args.threads)
        for name, folder in (("float32", args.model), ("int8", int8))
    }
    report: dict[str, dict[str, float]] = {}
    for name, classifier in classifiers.items():
        logits = served_view_logits(classifier, splits["test"], log=lambda _: None)
        report[name] = scores(classifier, logits, labels)
        print(name, json.dumps(report[name]), flush=True)
    for batch in (1, 8):  # 8 = one image's 8 test-time views, the served call
        medians = latency(classifiers, batch)
        for name, seconds in medians.items():
            report[name][f"ms_batch_{batch}"] = seconds * 1000
        fp, q = (medians[name] * 1000 for name in ("float32", "int8"))
        print(f"batch {batch}: float32 {fp:.1f} ms, int8 {q:.1f} ms -> int8 is {fp / q:.2f}x the speed")
    delta = report["int8"]["balanced_accuracy"] - report["float32"]["balanced_accuracy"]
    print(f"test balanced accuracy change: {delta:+.4f}")
    (args.work / "int8_report.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
