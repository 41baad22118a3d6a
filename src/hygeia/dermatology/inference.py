"""Serving-time classifier: ONNX Runtime + numpy only (torch is never imported here).

A prediction is the mean of the logits over the 8 flips/rotations of the image, divided by the
validation-fitted temperature; the spread of the per-view probabilities is one of the two
uncertainty signals, normalised entropy the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hygeia.dermatology.calibration import ReferralRule, normalised_entropy, softmax, tta_spread
from hygeia.dermatology.deadline import Deadline, run_before
from hygeia.dermatology.decision import DecisionRule
from hygeia.dermatology.gradcam import class_activation_map, overlay_png
from hygeia.dermatology.images import DecodedImage, dihedral_views, to_model_input
from hygeia.dermatology.ood import FeatureGate, embedding
from hygeia.dermatology.quality import QualityLimits

TTA_VIEWS = 8
DEFAULT_THREADS = 2
OVERLAY_MAX_SIDE = 448


def display_copy(image: Image.Image, max_side: int = OVERLAY_MAX_SIDE) -> Image.Image:
    """The overlay keeps the photo's own aspect ratio: the model saw the whole image squashed to a
    square, so stretching the map back over the whole image puts every cell where it came from."""
    scale = min(1.0, max_side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if scale == 1.0 else image.resize(size, Image.Resampling.BILINEAR)


def combine_views(view_logits: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """(V, N, C) logits -> calibrated probabilities (N, C) and per-view probabilities (V, N, C)."""
    return softmax(view_logits.mean(axis=0), temperature), softmax(view_logits, temperature)


@dataclass(frozen=True)
class LesionPrediction:
    probabilities: dict[str, float]
    prediction: str
    entropy: float
    tta_spread: float
    uncertain: bool
    heatmap_png: bytes | None
    ood_distance: float | None = None


@dataclass(frozen=True)
class OutOfDistribution:
    """The gate refused the image: far from every class in feature space. No class is given."""

    ood_distance: float
    threshold: float

    @property
    def reason(self) -> str:
        return (
            f"image does not look like a dermatoscopic lesion photograph (feature distance "
            f"{self.ood_distance:.0f} > limit {self.threshold:.0f}); upload a dermatoscopic image"
        )


class LesionClassifier:
    """One loaded model folder: ONNX graph, CAM head, calibration, decision rule and referral thresholds."""

    def __init__(self, folder: Path, threads: int = DEFAULT_THREADS) -> None:
        import onnxruntime as ort

        self.folder = Path(folder)
        self.config: dict[str, Any] = json.loads((self.folder / "model_config.json").read_text())
        self.classes: list[str] = list(self.config["classes"])
        self.temperature = float(self.config["temperature"])
        self.rule = ReferralRule(**self.config["referral_rule"])
        self.decision = DecisionRule.from_config(self.config.get("decision_rule"), len(self.classes))
        with np.load(self.folder / "cam_head.npz", allow_pickle=False) as head:
            self.head_weight = head["weight"].astype(np.float32)
            self.head_bias = head["bias"].astype(np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.side = int(self.config["input"]["side"])
        self.gate = FeatureGate.load(self.folder)  # None for versions shipped before the gate

    @property
    def quality_limits(self) -> QualityLimits | None:
        return self.gate.quality if self.gate else None

    def run(self, batch: np.ndarray, deadline: Deadline | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw graph outputs for (N, 3, side, side) float32: logits (N, C), features (N, K, h, w)."""
        feeds = {"image": batch.astype(np.float32)}
        logits, features = run_before(self.session, ["logits", "features"], feeds, deadline)
        return logits, features

    def view_logits(
        self, batch: np.ndarray, deadline: Deadline | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Logits for all 8 views (V, N, C) in one graph call, plus the upright view's feature maps."""
        views = dihedral_views(batch)
        logits, features = self.run(np.concatenate(views, axis=0), deadline)
        n = batch.shape[0]
        return logits.reshape(len(views), n, -1), features[:n]

    def predict(
        self, images: list[DecodedImage], heatmaps: bool = True, deadline: Deadline | None = None
    ) -> list[LesionPrediction | OutOfDistribution]:
        """Calibrated probabilities, uncertainty flags and (optionally) Grad-CAM overlays, or the
        gate's refusal for an image outside the training distribution."""
        if not images:
            return []
        batch = np.stack([to_model_input(img.rgb, self.side) for img in images])
        view_logits, features = self.view_logits(batch, deadline)
        distances = self.gate.distances(embedding(features)) if self.gate else None
        probs, view_probs = combine_views(view_logits, self.temperature)
        predicted = self.decision.decide(probs)
        entropy = normalised_entropy(probs)
        spread = tta_spread(view_probs, predicted)
        flags = self.rule.flags(entropy, spread)
        results: list[LesionPrediction | OutOfDistribution] = []
        for i, image in enumerate(images):
            if self.gate is not None and distances is not None and distances[i] > self.gate.threshold:
                results.append(OutOfDistribution(float(distances[i]), self.gate.threshold))
                continue
            png = None
            if heatmaps:
                if deadline is not None:
                    deadline.check("Grad-CAM")
                cam = class_activation_map(features[i], self.head_weight[predicted[i]])
                png = overlay_png(display_copy(image.rgb), cam)
            results.append(
                LesionPrediction(
                    probabilities={c: float(p) for c, p in zip(self.classes, probs[i], strict=True)},
                    prediction=self.classes[int(predicted[i])],
                    entropy=float(entropy[i]),
                    tta_spread=float(spread[i]),
                    uncertain=bool(flags[i]),
                    heatmap_png=png,
                    ood_distance=None if distances is None else float(distances[i]),
                )
            )
        return results
