"""Turn a trained network into a served model folder: calibrate, evaluate, export ONNX + CAM head.

Every number written here is measured on this run's validation or test split. Temperature and
referral thresholds are fitted on validation; the test split is only ever scored.
"""

from __future__ import annotations

import csv
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hygeia.dermatology import calibration as cal
from hygeia.dermatology import scoring
from hygeia.dermatology.dataset import CLASSES, labels_sha256
from hygeia.dermatology.decision import DecisionRule
from hygeia.dermatology.images import MODEL_SIDE, PIXEL_MEAN, PIXEL_STD
from hygeia.dermatology.inference import TTA_VIEWS
from hygeia.dermatology.network import BACKBONE, ONNX_OPSET, export_onnx, head_parameters
from hygeia.dermatology.training import Log, TrainConfig, TrainedModel, predict_logits

ONNX_FILE = "model.onnx"
HEAD_FILE = "cam_head.npz"
CONFIG_FILE = "model_config.json"
REPORT_FILE = "training_report.json"
SPLIT_FILE = "split.csv"


def _view_logits(trained: TrainedModel) -> dict[str, np.ndarray]:
    device = torch.device(trained.device)
    return {
        name: predict_logits(trained.model, trained.pixels[name], device, views=TTA_VIEWS)
        for name in ("val", "test")
    }


def calibrate_and_score(trained: TrainedModel) -> dict[str, Any]:
    """Temperature and referral rule from validation; metrics, reliability and subgroups on both."""
    return scoring.calibrate_and_score(_view_logits(trained), trained.splits)


def _onnx_parity(trained: TrainedModel, path: Path, n: int = 16) -> float:
    """Max |logit difference| between the exported ONNX graph and the trained network in fp32."""
    import onnxruntime as ort

    pixels = trained.pixels["val"][:n].float().cpu()
    x = ((pixels - PIXEL_MEAN) / PIXEL_STD).numpy().astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_logits = session.run(["logits"], {"image": x})[0]
    model = trained.model.to("cpu").float().eval()
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x)).numpy()
    return float(np.abs(onnx_logits - torch_logits).max())


def _write_split(trained: TrainedModel, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image_id", "lesion_id", "dx", "split"])
        for split, rows in trained.splits.items():
            writer.writerows([r.image_id, r.lesion_id, r.dx, split] for r in rows)


def model_config(
    temperature: float, rule: cal.ReferralRule, version: str, decision: DecisionRule
) -> dict[str, Any]:
    """Everything serving needs besides the graph: preprocessing, classes, calibration, decision,
    referral."""
    return {
        "name": "dermatology",
        "version": version,
        "backbone": BACKBONE,
        "classes": list(CLASSES),
        "input": {
            "name": "image",
            "side": MODEL_SIDE,
            "layout": "NCHW",
            "mean": PIXEL_MEAN,
            "std": PIXEL_STD,
            "resize": "squash to square, bilinear (as the training images were made)",
        },
        "outputs": {"logits": "logits", "features": "features"},
        "tta_views": TTA_VIEWS,
        "temperature": temperature,
        "decision_rule": decision.as_dict(),
        "referral_rule": rule.as_dict(),
        "explanation": "CAM on the last conv feature map = Grad-CAM exactly (GAP + linear head)",
    }


def write_artifacts(trained: TrainedModel, cfg: TrainConfig, log: Log) -> Path:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    result = calibrate_and_score(trained)
    scores = result["scores"]
    log(f"temperature {result['temperature']:.3f}; test BA {scores['test']['balanced_accuracy']:.4f}")
    weight, bias = head_parameters(trained.model)
    np.savez(out / HEAD_FILE, weight=weight, bias=bias)
    export_onnx(trained.model, out / ONNX_FILE)
    parity = _onnx_parity(trained, out / ONNX_FILE)
    log(f"ONNX parity: max |logit diff| {parity:.2e}")
    (out / CONFIG_FILE).write_text(
        json.dumps(
            model_config(result["temperature"], result["rule"], cfg.version, result["decision"]), indent=2
        )
        + "\n"
    )
    _write_split(trained, out / SPLIT_FILE)
    report = {
        "version": cfg.version,
        "config": cfg.as_dict(),
        "data": {
            "labels_sha256": labels_sha256(cfg.data_dir),
            "split_sizes": {name: len(rows) for name, rows in trained.splits.items()},
            "class_counts": {
                name: {c: sum(r.dx == c for r in rows) for c in CLASSES}
                for name, rows in trained.splits.items()
            },
        },
        "training": {
            "device": trained.device,
            "device_name": torch.cuda.get_device_name(0)
            if trained.device.startswith("cuda")
            else platform.processor(),
            "torch": torch.__version__,
            "seconds": trained.seconds,
            "best_epoch": trained.best_epoch,
            "history": trained.history,
        },
        "onnx": {"opset": ONNX_OPSET, "max_abs_logit_diff_vs_torch": parity},
        "metrics": scores,
        "evaluation_seconds": time.time() - started,
    }
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {sorted(p.name for p in out.iterdir())} to {out}")
    return out
