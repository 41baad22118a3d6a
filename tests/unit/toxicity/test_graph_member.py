"""The served graph network's sums run as row scatters with the stored graph's values bit for bit,
and a graph the rewrite does not understand, or breaks, is served as stored. No torch needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from rdkit import Chem

from hygeia.toxicity.graph_inputs import GRAPH_INPUTS, MoleculeGraphs
from hygeia.toxicity.graph_member import open_graph_session, scatter_rows, with_row_scatters
from hygeia.toxicity.model import ToxicityModel

SMILES = [
    "CC(=O)Nc1ccc(O)cc1", "O=C(O)c1ccccc1OC(C)=O", "C", "[Na+].[Cl-]", "CCN(CC)CC", "c1ccc2ccccc2c1",
    "C[C@H](N)C(=O)O", "FC(F)(F)c1ccc(Cl)cc1", "O=[N+]([O-])c1ccccc1", "CC1=CC(=O)CCC1", "OCC(O)CO",
    "Clc1ccc(cc1)C(c1ccc(Cl)cc1)C(Cl)(Cl)Cl", "CCCCCCCCCCCCCCCC(=O)O", "N#Cc1ccccc1", "C1CC1",
]  # fmt: skip


def _options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return options


def _feed(smiles: list[str], width: int, seed: int) -> dict[str, np.ndarray]:
    graphs = MoleculeGraphs.from_mols([Chem.MolFromSmiles(s) for s in smiles])
    descriptors = np.random.default_rng(seed).uniform(size=(len(smiles), width)).astype(np.float32)
    return dict(zip(GRAPH_INPUTS, (*graphs.batch(np.arange(len(smiles))), descriptors), strict=True))


def _graph_file(shipped_model: ToxicityModel, shipped_folder: Path) -> tuple[Path, int]:
    if not shipped_model.graphs:
        pytest.skip("the bundled model has no graph member")
    spec = shipped_model.card["ensemble"]["graphs"][0]
    return shipped_folder / spec["files"][0], shipped_model.graphs[0].descriptors.spec.dimension


def test_the_shipped_graph_serves_row_scatters_with_the_stored_values(
    shipped_model: ToxicityModel, shipped_folder: Path
) -> None:
    path, width = _graph_file(shipped_model, shipped_folder)
    model = onnx.load(str(path))
    depth = shipped_model.card["ensemble"]["graphs"][0]["config"]["depth"]
    # depth - 1 message-passing sums, the atoms' incoming sum, the readout
    assert scatter_rows(model) == depth + 1
    assert not [n for n in model.graph.node if n.op_type == "ScatterElements"]
    # the summed rows go in unsliced, so the index expanded to every column is no longer built
    assert not [n for n in model.graph.node if n.op_type == "Expand"]
    stored = ort.InferenceSession(str(path), _options(), providers=["CPUExecutionProvider"])
    assert with_row_scatters(stored, path.read_bytes(), _options(), width) is not stored
    served = open_graph_session(path, width, 12)
    for seed, smiles in enumerate([SMILES, *([s] for s in SMILES)]):
        feed = _feed(smiles, width, seed)
        assert np.array_equal(served.run(None, feed)[0], stored.run(None, feed)[0]), smiles


def _toy_sum(unsqueeze_axis: int, expand_width: int) -> bytes:
    """A graph with the exporter's pattern: sums each directed bond's features into its target atom
    (ScatterElements over target, unsqueezed and expanded); every graph input is declared."""
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64 if name in ("source", "target", "atom_molecule")
                                      else TensorProto.FLOAT, None)
        for name in GRAPH_INPUTS
    ]  # fmt: skip
    nodes = [
        helper.make_node("Unsqueeze", ["target", "axes"], ["index"]),
        helper.make_node("Shape", ["bonds"], ["bond_shape"]),
        helper.make_node("Expand", ["index", "width"], ["wide_index"]),
        helper.make_node("Shape", ["atoms"], ["atom_rows"], end=1),
        helper.make_node("Slice", ["bond_shape", "one", "two"], ["bond_width"]),
        helper.make_node("Concat", ["atom_rows", "bond_width"], ["out_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["out_shape"], ["zeros"]),
        helper.make_node("Slice", ["bonds", "starts", "wide_end", "cols"], ["updates"]),
        helper.make_node(
            "ScatterElements", ["zeros", "wide_index", "updates"], ["probabilities"], axis=0, reduction="add"
        ),
    ]
    constants = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [unsqueeze_axis]),
        helper.make_tensor("width", TensorProto.INT64, [2], [1, expand_width]),
        helper.make_tensor("one", TensorProto.INT64, [1], [1]),
        helper.make_tensor("two", TensorProto.INT64, [1], [2]),
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("wide_end", TensorProto.INT64, [1], [expand_width]),
        helper.make_tensor("cols", TensorProto.INT64, [1], [1]),
    ]
    output = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "toy", inputs, [output], initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def _sessions(stored: bytes, width: int) -> tuple[ort.InferenceSession, ort.InferenceSession]:
    session = ort.InferenceSession(stored, _options(), providers=["CPUExecutionProvider"])
    return session, with_row_scatters(session, stored, _options(), width)


def test_whole_row_sums_are_rewritten_and_equal() -> None:
    stored, served = _sessions(_toy_sum(1, 14), 3)
    assert served is not stored
    feed = _feed(SMILES, 3, 0)
    assert np.array_equal(served.run(None, feed)[0], stored.run(None, feed)[0])
    assert np.abs(stored.run(None, feed)[0]).sum() > 0  # the sum is not trivially zero


def test_other_index_shapes_are_left_as_stored() -> None:
    model = onnx.load_from_string(_toy_sum(0, 14))  # an index unsqueezed on axis 0 is not a row index
    assert scatter_rows(model) == 0
    stored, served = _sessions(_toy_sum(0, 14), 3)
    assert served is stored


def test_a_rewrite_that_fails_on_the_probe_serves_the_stored_graph() -> None:
    narrow = _toy_sum(1, 2)  # sums only 2 of 14 columns: a row scatter cannot express it
    assert scatter_rows(onnx.load_from_string(narrow)) == 1
    stored, served = _sessions(narrow, 3)
    assert served is stored
