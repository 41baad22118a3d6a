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


def latency(classifier: LesionClassifier, batch: int, repeats: int = 15) -> float:
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 3, 224, 224)).astype(np.float32)
    classifier.run(x)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        classifier.run(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
    report = {}
    for name, folder in (("float32", args.model), ("int8", int8)):
        classifier = LesionClassifier(folder, threads=args.threads)
        logits = served_view_logits(classifier, splits["test"], log=lambda _: None)
        report[name] = {
            **scores(classifier, logits, labels),
            "ms_batch_1": latency(classifier, 1) * 1000,
            "ms_batch_8": latency(classifier, 8) * 1000,
        }
        print(name, json.dumps(report[name]), flush=True)
    for key in ("ms_batch_1", "ms_batch_8"):
        print(f"{key}: int8 is {report['float32'][key] / report['int8'][key]:.2f}x the speed of float32")
    delta = report["int8"]["balanced_accuracy"] - report["float32"]["balanced_accuracy"]
    print(f"test balanced accuracy change: {delta:+.4f}")
    (args.work / "int8_report.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
