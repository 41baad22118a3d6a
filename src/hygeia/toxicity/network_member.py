"""The multitask network as served: ONNX Runtime sessions (one per training seed), no torch.

Each exported graph holds its own input transform, so the member is fed the raw feature columns of
its feature spec; the seeds' probabilities are averaged, as in the scaffold CV that chose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from hygeia.toxicity.featurize import ConcatFeaturizer, FeatureSpecMismatch, Featurizer


@dataclass
class NetworkMember:
    name: str
    featurizer: Featurizer
    sessions: list[ort.InferenceSession]

    @property
    def parts(self) -> list[Featurizer]:
        if isinstance(self.featurizer, ConcatFeaturizer):
            return list(self.featurizer.parts)
        return [self.featurizer]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Mean over seeds of the per-endpoint probabilities, (n, endpoints)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        outputs = [session.run(None, {"features": x})[0] for session in self.sessions]
        return np.mean(outputs, axis=0).astype(np.float64)


def open_session(path: Path, n_features: int, n_tasks: int) -> ort.InferenceSession:
    """One intra-op thread: requests are already parallel, and the platform shares a small machine."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    shape = session.get_inputs()[0].shape
    out_shape = session.get_outputs()[0].shape
    if shape[-1] != n_features or out_shape[-1] != n_tasks:
        raise FeatureSpecMismatch(
            f"{path.name}: network takes {shape[-1]} features and gives {out_shape[-1]} outputs, "
            f"the card says {n_features} and {n_tasks}"
        )
    return session
