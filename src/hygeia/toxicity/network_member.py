"""The multitask network as served: ONNX Runtime sessions (one per training seed), no torch.

Each exported graph holds its own input transform, so the member is fed the raw feature columns of
its feature spec; the seeds' probabilities are averaged, as in the scaffold CV that chose them.
The seeds are fitted on the same rows, so their transforms (column choice, NaN fill, signed log,
standardisation, clip) are the same graph with the same constants; that transform is two thirds of
a seed's time, and when it is shared it runs once per batch instead of once per seed (`SharedInputs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import structlog
from onnx import TensorProto, helper, numpy_helper
from onnx.utils import Extractor

from hygeia.toxicity.featurize import ConcatFeaturizer, FeatureSpecMismatch, Featurizer

log = structlog.get_logger("hygeia.toxicity")
INPUT = "features"


@dataclass
class SharedInputs:
    """The seeds' common input transform, run once, and each seed's layers after it."""

    transform: ort.InferenceSession
    transformed: str  # the name of the transform's output, the layers' input
    layers: list[ort.InferenceSession]

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        z = self.transform.run(None, {INPUT: x})[0]
        return [layers.run(None, {self.transformed: z})[0] for layers in self.layers]


@dataclass
class NetworkMember:
    name: str
    featurizer: Featurizer
    sessions: list[ort.InferenceSession]  # each seed's whole graph; empty when `shared` runs the seeds
    shared: SharedInputs | None = None

    @property
    def parts(self) -> list[Featurizer]:
        if isinstance(self.featurizer, ConcatFeaturizer):
            return list(self.featurizer.parts)
        return [self.featurizer]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Mean over seeds of the per-endpoint probabilities, (n, endpoints)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.shared is not None:
            outputs = self.shared.run(x)
        else:
            outputs = [session.run(None, {INPUT: x})[0] for session in self.sessions]
        return np.mean(outputs, axis=0).astype(np.float64)


def _options() -> ort.SessionOptions:
    """One intra-op thread: requests are already parallel, and the platform shares a small machine."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


def _session(model: str | bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, _options(), providers=["CPUExecutionProvider"])


def open_session(path: Path, n_features: int, n_tasks: int) -> ort.InferenceSession:
    session = _session(str(path))
    shape = session.get_inputs()[0].shape
    out_shape = session.get_outputs()[0].shape
    if shape[-1] != n_features or out_shape[-1] != n_tasks:
        raise FeatureSpecMismatch(
            f"{path.name}: network takes {shape[-1]} features and gives {out_shape[-1]} outputs, "
            f"the card says {n_features} and {n_tasks}"
        )
    return session


def split_at_first_layer(stored: bytes) -> tuple[bytes, bytes, str] | None:
    """(input transform, layers, the tensor between them): the graph cut at the input of its first
    matrix product, whose weight fixes the transformed width. None for a graph without one."""
    model = onnx.load_from_string(stored)
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    first = next((n for n in model.graph.node if n.op_type in ("MatMul", "Gemm")), None)
    if first is None or first.input[1] not in weights or first.input[0] == INPUT:
        return None
    cut, width = first.input[0], int(weights[first.input[1]].shape[0])
    # declared with its width: the layers then compute exactly as inside the whole graph
    model.graph.value_info.append(helper.make_tensor_value_info(cut, TensorProto.FLOAT, ["batch", width]))
    extractor = Extractor(model)
    transform = extractor.extract_model([INPUT], [cut]).SerializeToString()
    layers = extractor.extract_model([cut], [o.name for o in model.graph.output]).SerializeToString()
    return transform, layers, cut


def share_input_transform(
    stored: list[bytes], sessions: list[ort.InferenceSession], n_features: int
) -> SharedInputs | None:
    """The seeds' layers behind one transform, if every seed has the same transform and the split
    answers a probe batch exactly as each whole graph does; otherwise None (each seed runs whole)."""
    if len(stored) < 2:
        return None
    try:
        splits = [split for split in map(split_at_first_layer, stored) if split is not None]
        if len(splits) != len(stored) or len({(transform, cut) for transform, _, cut in splits}) != 1:
            return None
        transform, _, cut = splits[0]
        shared = SharedInputs(_session(transform), cut, [_session(layers) for _, layers, _ in splits])
        probe = _probe(n_features)
        whole = [session.run(None, {INPUT: probe})[0] for session in sessions]
        if all(np.array_equal(a, b, equal_nan=True) for a, b in zip(whole, shared.run(probe), strict=True)):
            return shared
    except Exception as exc:  # any failure of the split leaves each seed's whole graph in service
        log.warning("network_shared_inputs_failed", error=type(exc).__name__, detail=str(exc)[:200])
        return None
    log.warning("network_shared_inputs_changed_output")
    return None


def _probe(n_features: int) -> np.ndarray:
    """Counts, zeros, negatives, large values and missing descriptors, as featurised rows hold."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, n_features)) * rng.choice([0.0, 1.0, 50.0], size=(6, n_features))
    x[0, ::7] = np.nan
    return x.astype(np.float32)
