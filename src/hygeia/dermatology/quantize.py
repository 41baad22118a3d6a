"""int8 static quantisation of the served graph, calibrated on training-split images (an option).

QDQ format with per-channel weights: convolutions run as int8 in ONNX Runtime's CPU kernels, while
the `logits` and `features` outputs stay float32, so calibration, decision rule, Grad-CAM and the
gate code work unchanged. The gate's statistics describe the float network's embedding, so an int8
folder must be gated and evaluated anew before it could be served; the benchmark in
`benchmarks/dermatology/int8.py` measures what quantisation costs in balanced accuracy and buys in
speed before anyone decides to ship it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hygeia.dermatology.dataset import LesionImage
from hygeia.dermatology.images import decode_image, dihedral_views, to_model_input

CALIBRATION_IMAGES = 128  # spread over classes; more moves the activation ranges very little


def calibration_records(train: list[LesionImage], n: int = CALIBRATION_IMAGES) -> list[LesionImage]:
    """Every class in the calibration set, in training proportion but at least 8 each (when present)."""
    by_class: dict[str, list[LesionImage]] = {}
    for record in train:
        by_class.setdefault(record.dx, []).append(record)
    chosen: list[LesionImage] = []
    for records in by_class.values():
        share = max(8, round(n * len(records) / len(train)))
        chosen.extend(records[:share])
    return chosen


class _Reader:
    """onnxruntime.quantization's CalibrationDataReader protocol: feeds, one batch at a time."""

    def __init__(self, records: list[LesionImage], batch: int = 8) -> None:
        self._batches: Iterator[dict[str, np.ndarray]] = self._make(records, batch)

    @staticmethod
    def _make(records: list[LesionImage], batch: int) -> Iterator[dict[str, np.ndarray]]:
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            x = np.stack([to_model_input(decode_image(r.path.read_bytes()).rgb) for r in chunk])
            yield {"image": np.concatenate(dihedral_views(x)[:2])}  # upright + mirrored, as served

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize_graph(source: Path, target: Path, calibration: list[LesionImage]) -> None:
    """Write the int8 (QDQ, per-channel) version of `source` ONNX graph to `target`."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_suffix(".prep.onnx")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)  # no sympy needed
    try:
        quantize_static(
            str(prepared),
            str(target),
            _Reader(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    finally:
        prepared.unlink(missing_ok=True)


def quantize_folder(source: Path, version: str, data_dir: Path) -> Path:
    """`source`'s sibling folder `version` with an int8 graph and no gate, card or evaluation: not
    servable as it is (the registry needs a card, the gate needs refitting on the int8 embedding,
    the card needs the int8 network's own test metrics). Serving int8 is left undone on purpose
    until its measured accuracy cost is judged acceptable."""
    from hygeia.core.registry import verify_folder
    from hygeia.dermatology.served_evaluation import shipped_split

    verify_folder(source)
    target = Path(source).parent / version
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new version")
    keep = ("model_config.json", "cam_head.npz", "split.csv", "training_report.json")
    target.mkdir()
    for name in keep:
        shutil.copy2(Path(source) / name, target / name)
    train = shipped_split(source, data_dir, ("train",))["train"]
    quantize_graph(Path(source) / "model.onnx", target / "model.onnx", calibration_records(train))
    config = json.loads((target / "model_config.json").read_text())
    config.update(version=version, quantisation="int8 static, QDQ, per-channel weights, MinMax calibration")
    (target / "model_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return target
