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
from hygeia.dermatology.decision import DecisionRule
from hygeia.dermatology.gradcam import class_activation_map, overlay_png
from hygeia.dermatology.images import DecodedImage, dihedral_views, to_model_input

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

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw graph outputs for (N, 3, side, side) float32: logits (N, C), features (N, K, h, w)."""
        logits, features = self.session.run(["logits", "features"], {"image": batch.astype(np.float32)})
        return logits, features

    def view_logits(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits for all 8 views (V, N, C) in one graph call, plus the upright view's feature maps."""
        views = dihedral_views(batch)
        logits, features = self.run(np.concatenate(views, axis=0))
        n = batch.shape[0]
        return logits.reshape(len(views), n, -1), features[:n]

    def predict(self, images: list[DecodedImage], heatmaps: bool = True) -> list[LesionPrediction]:
        """Calibrated probabilities, uncertainty flags and (optionally) Grad-CAM overlays."""
        if not images:
            return []
        batch = np.stack([to_model_input(img.rgb, self.side) for img in images])
        view_logits, features = self.view_logits(batch)
        probs, view_probs = combine_views(view_logits, self.temperature)
        predicted = self.decision.decide(probs)
        entropy = normalised_entropy(probs)
        spread = tta_spread(view_probs, predicted)
        flags = self.rule.flags(entropy, spread)
        results = []
        for i, image in enumerate(images):
            png = None
            if heatmaps:
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
                )
            )
        return results
