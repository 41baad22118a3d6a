"""The graph member as served: ONNX Runtime sessions (one per training seed) over molecule graphs and
the CDF-scaled RDKit 2D descriptors the boosters already compute, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from hygeia.toxicity.featurize import FeatureSpecMismatch, Featurizer, RDKitDescriptorFeaturizer
from hygeia.toxicity.graph_inputs import (
    GRAPH_INPUTS,
    MoleculeGraphFeaturizer,
    MoleculeGraphs,
    scale_descriptors,
)


@dataclass
class GraphMember:
    name: str
    graph: MoleculeGraphFeaturizer
    descriptors: RDKitDescriptorFeaturizer
    quantiles: np.ndarray  # (101, descriptors) training percentiles
    sessions: list[ort.InferenceSession]

    @property
    def parts(self) -> list[Featurizer]:
        return [self.graph, self.descriptors]

    def predict(self, graphs: MoleculeGraphs, descriptors: np.ndarray) -> np.ndarray:
        """Mean over seeds of the per-endpoint probabilities, (molecules, endpoints)."""
        feed = dict(
            zip(
                GRAPH_INPUTS,
                (*graphs.batch(np.arange(len(graphs))), scale_descriptors(descriptors, self.quantiles)),
                strict=True,
            )
        )
        return np.mean([s.run(None, feed)[0] for s in self.sessions], axis=0).astype(np.float64)


def open_graph_session(path: Path, n_descriptors: int, n_tasks: int) -> ort.InferenceSession:
    """One intra-op thread, as for the other network: requests are already parallel."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    width = session.get_inputs()[-1].shape[-1]
    outputs = session.get_outputs()[0].shape[-1]
    if names != list(GRAPH_INPUTS) or width != n_descriptors or outputs != n_tasks:
        raise FeatureSpecMismatch(
            f"{path.name}: graph network takes {names} with {width} descriptors and gives {outputs} "
            f"outputs; the card says {n_descriptors} descriptors and {n_tasks} outputs"
        )
    return session
