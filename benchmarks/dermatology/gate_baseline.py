"""The shipped Mahalanobis gate against the plain baseline, the energy score on the logits.

`python -m benchmarks.dermatology.gate_baseline [--model FOLDER]`. Both detectors see the same
upright view and get their threshold by the same rule on the validation split (Clopper-Pearson
bound, keep >= 95%); both are then scored on the test split (false rejections) and on the same
non-dermatoscopic negatives after the same quality checks (rejections). Energy = -logsumexp(logits)
(Liu et al., NeurIPS 2020); higher means further from the training data.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from benchmarks.dermatology.negatives import negative_sets
from hygeia.dermatology.gate_fit import split_outputs
from hygeia.dermatology.images import ImageRejected, decode_image, to_model_input
from hygeia.dermatology.inference import LesionClassifier
from hygeia.dermatology.ood import embedding, threshold_with_bound
from hygeia.dermatology.quality import ImageRefused, check_quality
from hygeia.dermatology.served_evaluation import shipped_split

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.2.0"


def energy(logits: np.ndarray) -> np.ndarray:
    peak = logits.max(axis=-1, keepdims=True)
    return -(peak[..., 0] + np.log(np.exp(logits - peak).sum(axis=-1)))


def scores(classifier: LesionClassifier, logits: np.ndarray, embeddings: np.ndarray) -> dict[str, np.ndarray]:
    assert classifier.gate is not None
    return {"mahalanobis": classifier.gate.distances(embeddings), "energy": energy(logits)}


def negatives_passing_quality(classifier: LesionClassifier) -> dict[str, tuple[int, np.ndarray]]:
    """Per kind: how many negatives there are, and the model inputs of those the quality checks pass."""
    assert classifier.gate is not None
    out = {}
    for kind, images in negative_sets().items():
        inputs = []
        for _, data in images:
            try:
                image = decode_image(data).rgb
                check_quality(image, classifier.gate.quality)
            except (ImageRejected, ImageRefused):
                continue
            inputs.append(to_model_input(image))
        out[kind] = (len(images), np.stack(inputs) if inputs else np.zeros((0, 3, 224, 224), np.float32))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    data = Path(os.environ.get("HYGEIA_DATA_DIR", REPO.parent / "shared" / "data")) / "derm"
    classifier = LesionClassifier(args.model)
    splits = shipped_split(args.model, data, ("val", "test"))
    real = {}
    for name in ("val", "test"):
        embeddings, logits = split_outputs(classifier, splits[name], views=False, log=lambda _: None)
        real[name] = scores(classifier, logits[0], embeddings)
    limits = {d: threshold_with_bound(real["val"][d], 0.05) for d in ("mahalanobis", "energy")}
    print("detector      test false-rejection  " + "  ".join(k.split(" (")[0] for k in negative_sets()))
    negatives = negatives_passing_quality(classifier)
    for detector, limit in limits.items():
        frr = float((real["test"][detector] > limit).mean())
        cells = []
        for n, inputs in negatives.values():
            passed = 0
            if len(inputs):
                logits, features = classifier.run(inputs)
                passed = int((scores(classifier, logits, embedding(features))[detector] <= limit).sum())
            cells.append(f"{n - passed}/{n}")
        print(f"{detector:12}  {frr:20.1%}  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
