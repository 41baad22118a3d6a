"""The graph member as served: ONNX Runtime sessions (one per training seed) over molecule graphs and
the CDF-scaled RDKit 2D descriptors the boosters already compute, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import structlog
from onnx import helper, numpy_helper
from rdkit import Chem

from hygeia.toxicity.featurize import FeatureSpecMismatch, Featurizer, RDKitDescriptorFeaturizer
from hygeia.toxicity.graph_inputs import (
    GRAPH_INPUTS,
    MoleculeGraphFeaturizer,
    MoleculeGraphs,
    scale_descriptors,
)

log = structlog.get_logger("hygeia.toxicity")


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
    """One intra-op thread, as for the other network: requests are already parallel. The network's
    sums over bonds and atoms run as row scatters (`scatter_rows`) when that gives the same bits."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    stored = path.read_bytes()
    session = ort.InferenceSession(stored, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    width = session.get_inputs()[-1].shape[-1]
    outputs = session.get_outputs()[0].shape[-1]
    if names != list(GRAPH_INPUTS) or width != n_descriptors or outputs != n_tasks:
        raise FeatureSpecMismatch(
            f"{path.name}: graph network takes {names} with {width} descriptors and gives {outputs} "
            f"outputs; the card says {n_descriptors} descriptors and {n_tasks} outputs"
        )
    return with_row_scatters(session, stored, options, n_descriptors)


def scatter_rows(model: onnx.ModelProto) -> int:
    """Rewrites, in place, each sum the exporter wrote as ScatterElements(add) over a row index
    broadcast to every column (torch's `scatter_add` of whole rows: Unsqueeze on axis 1, Expand) into
    ScatterND(add) over the unexpanded index. The same rows are added into the same slots in the
    same order, so the result is equal bit for bit; ONNX Runtime's element scatter reads one int64
    index per value and took over half of the member's time (2.3.0: 1.03 → 0.48-0.51 ms per molecule
    in batches of 250, 0.78 → 0.54 ms alone). Returns how many sums were rewritten."""
    made_by = {out: node for node in model.graph.node for out in node.output}
    constants = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    rewritten = 0
    for node in model.graph.node:
        if node.op_type != "ScatterElements":
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attributes != {"axis": 0, "reduction": b"add"}:
            continue
        expand = made_by.get(node.input[1])
        if expand is None or expand.op_type != "Expand":
            continue
        unsqueeze = made_by.get(expand.input[0])
        if unsqueeze is None or unsqueeze.op_type != "Unsqueeze" or len(unsqueeze.input) != 2:
            continue
        axes = constants.get(unsqueeze.input[1])
        if axes is None or axes.tolist() not in ([1], [-1]):
            continue
        updates = _unsliced(node.input[2], expand.output[0], made_by, constants)
        row_sum = helper.make_node(
            "ScatterND", [node.input[0], expand.input[0], updates], list(node.output), reduction="add"
        )
        node.CopyFrom(row_sum)
        rewritten += 1
    if rewritten:
        _drop_unused(model)
    return rewritten


def _unsliced(
    updates: str, expanded: str, made_by: dict[str, onnx.NodeProto], constants: dict[str, np.ndarray]
) -> str:
    """The exporter slices the summed rows to the expanded index's shape, which is their own shape
    (one row per bond, every column); ScatterND takes them unsliced, so neither the slice's copy nor
    the expanded int64 index (a value per bond and column, a quarter of the member's time) is built.
    Were the shapes to differ, ScatterND would refuse the rows and the probe keep the stored graph."""
    sliced = made_by.get(updates)
    if sliced is None or sliced.op_type != "Slice" or len(sliced.input) != 3:
        return updates
    starts, ends = constants.get(sliced.input[1]), made_by.get(sliced.input[2])
    if (
        starts is None
        or starts.any()
        or ends is None
        or list(ends.input) != [expanded]
        or ends.op_type != "Shape"
    ):
        return updates
    return str(sliced.input[0])


def _drop_unused(model: onnx.ModelProto) -> None:
    """Removes nodes and initializers nothing reads any more (ONNX Runtime would warn about each)."""
    graph = model.graph
    while True:
        read = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
        unused = [node for node in graph.node if not any(out in read for out in node.output)]
        if not unused:
            break
        for node in unused:
            graph.node.remove(node)
    for initializer in [i for i in graph.initializer if i.name not in read]:
        graph.initializer.remove(initializer)


def with_row_scatters(
    session: ort.InferenceSession, stored: bytes, options: ort.SessionOptions, n_descriptors: int
) -> ort.InferenceSession:
    """The rewritten session if it answers a probe batch exactly as the stored graph does, else the
    stored one (a graph this rewrite does not understand is served as trained, only slower)."""
    model = onnx.load_from_string(stored)
    if not scatter_rows(model):
        return session
    feed = _probe_feed(n_descriptors)
    try:
        faster = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        if np.array_equal(faster.run(None, feed)[0], session.run(None, feed)[0]):
            return faster
    except Exception as exc:  # any failure of the rewrite leaves the stored graph in service
        log.warning("graph_row_scatter_failed", error=type(exc).__name__, detail=str(exc)[:200])
        return session
    log.warning("graph_row_scatter_changed_output")
    return session


_PROBE_SMILES = ("CC(=O)Nc1ccc(O)cc1", "O=C(O)c1ccccc1OC(C)=O", "C", "CCCl")


def _probe_feed(n_descriptors: int) -> dict[str, np.ndarray]:
    graphs = MoleculeGraphs.from_mols([Chem.MolFromSmiles(s) for s in _PROBE_SMILES])
    descriptors = np.linspace(0.0, 1.0, len(graphs) * n_descriptors, dtype=np.float32)
    return dict(
        zip(
            GRAPH_INPUTS,
            (*graphs.batch(np.arange(len(graphs))), descriptors.reshape(len(graphs), n_descriptors)),
            strict=True,
        )
    )
