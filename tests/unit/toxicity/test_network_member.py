"""The network seeds' shared input transform runs once and gives each seed's whole-graph answer bit for
bit; seeds whose transforms differ, or graphs the split does not understand, run whole. No torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from rdkit import Chem

from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.network_member import share_input_transform, split_at_first_layer

SMILES = ["CC(=O)Nc1ccc(O)cc1", "C", "Clc1ccc(cc1)C(c1ccc(Cl)cc1)C(Cl)(Cl)Cl", "OCC(O)CO", "N#Cc1ccccc1"]
WIDTH = 5
SLICE = {"starts": 0, "ends": 3, "axes": 1}  # a first "layer" that is no matrix product


def test_the_shipped_seeds_share_one_transform_with_the_same_answers(
    shipped_model: ToxicityModel, shipped_folder: Path
) -> None:
    network = shipped_model.networks[0]
    files = shipped_model.card["ensemble"]["networks"][0]["files"]
    assert network.shared is not None and len(network.shared.layers) == len(files)
    assert not network.sessions  # the whole graphs are not kept beside the split
    features = shipped_model.featurize([Chem.MolFromSmiles(s) for s in SMILES])
    x = np.ascontiguousarray(shipped_model.member_matrix(network, features), dtype=np.float32)
    stored = _whole([(shipped_folder / f).read_bytes() for f in files])
    for rows in (x, x[:1], x[2:4]):
        whole = [session.run(None, {"features": rows})[0] for session in stored]
        split = network.shared.run(rows)
        assert all(np.array_equal(a, b) for a, b in zip(whole, split, strict=True))


def _seed(scale: float, weight_seed: int, with_product: bool = True) -> bytes:
    """features + shift (the 'transform') -> MatMul -> Sigmoid, as the exporter writes a network."""
    weight = np.random.default_rng(weight_seed).standard_normal((WIDTH, 3)).astype(np.float32)
    nodes = [helper.make_node("Add", ["features", "scale"], ["scaled"])]
    nodes += (
        [helper.make_node("MatMul", ["scaled", "weight"], ["logits"])]
        if with_product
        else [helper.make_node("Slice", ["scaled", "starts", "ends", "axes"], ["logits"])]
    )
    nodes.append(helper.make_node("Sigmoid", ["logits"], ["probabilities"]))
    constants = [helper.make_tensor("scale", TensorProto.FLOAT, [1], [scale])]
    constants += (
        [helper.make_tensor("weight", TensorProto.FLOAT, [WIDTH, 3], weight.ravel().tolist())]
        if with_product
        else [helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in SLICE.items()]
    )
    graph = helper.make_graph(
        nodes,
        "seed",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
        initializer=constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _whole(stored: list[bytes]) -> list[ort.InferenceSession]:
    return [ort.InferenceSession(s, providers=["CPUExecutionProvider"]) for s in stored]


def test_seeds_with_one_transform_share_it() -> None:
    stored = [_seed(0.5, 1), _seed(0.5, 2)]
    split = split_at_first_layer(stored[0])
    assert split is not None and split[2] == "scaled"
    shared = share_input_transform(stored, _whole(stored), WIDTH)
    assert shared is not None
    x = np.random.default_rng(3).standard_normal((4, WIDTH)).astype(np.float32)
    for whole, layers in zip(_whole(stored), shared.run(x), strict=True):
        assert np.array_equal(whole.run(None, {"features": x})[0], layers)


def test_seeds_with_other_transforms_run_whole() -> None:
    stored = [_seed(0.5, 1), _seed(2.0, 2)]
    assert share_input_transform(stored, _whole(stored), WIDTH) is None


def test_a_graph_without_a_first_layer_or_a_lone_seed_runs_whole() -> None:
    assert split_at_first_layer(_seed(0.5, 1, with_product=False)) is None
    stored = [_seed(0.5, 1, with_product=False), _seed(0.5, 2, with_product=False)]
    assert share_input_transform(stored, _whole(stored), WIDTH) is None
    assert share_input_transform([_seed(0.5, 1)], _whole([_seed(0.5, 1)]), WIDTH) is None


def test_a_split_that_changes_an_answer_runs_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe batch guards the split: here the second seed's layers come back as the first's."""
    import hygeia.toxicity.network_member as network_member

    stored = [_seed(0.5, 1), _seed(0.5, 2)]
    first = split_at_first_layer(stored[0])
    monkeypatch.setattr(network_member, "split_at_first_layer", lambda _stored: first)
    assert share_input_transform(stored, _whole(stored), WIDTH) is None
