"""The graph member's network (skipped where torch, the optional `train` extra, is absent): it learns a
visible signal, and the exported ONNX graph served by `GraphMember` computes what torch computes,
including for a molecule without bonds and batches of any size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

torch = pytest.importorskip("torch")

from hygeia.toxicity.featurize import FeatureSpecMismatch, RDKitDescriptorFeaturizer  # noqa: E402
from hygeia.toxicity.graph_inputs import (  # noqa: E402
    GraphConfig,
    MoleculeGraphFeaturizer,
    MoleculeGraphs,
    fit_descriptor_quantiles,
    scale_descriptors,
)
from hygeia.toxicity.graph_member import GraphMember, open_graph_session  # noqa: E402
from hygeia.toxicity.graph_network import export_graph_onnx, predict_graph, train_graph  # noqa: E402

HALOGENS = {"F", "Cl", "Br", "I"}
SMALL = GraphConfig(hidden=32, depth=2, ffn_hidden=32, epochs=60, batch_size=16, learning_rate=1e-2)
# label: "has a halogen" (task 0) and "has nitrogen" (task 1), which message passing sees directly
SMILES = [
    "CCCl", "CCCC", "c1ccccc1Br", "c1ccccc1", "CCN", "CCO", "ClCCl", "CCCCO", "NCCN", "OCCO",
    "c1ccncc1", "c1ccoc1", "FC(F)F", "C", "CNC", "COC", "Ic1ccccc1", "Cc1ccccc1", "CC(N)=O", "CC(C)=O",
] * 3  # fmt: skip


def _data() -> tuple[MoleculeGraphs, np.ndarray, np.ndarray]:
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    labels = np.array(
        [[float(any(a.GetSymbol() in HALOGENS for a in m.GetAtoms())), float("N" in s or "n" in s)]
         for m, s in zip(mols, SMILES, strict=True)],
        dtype=np.float32,
    )  # fmt: skip
    labels[::7, 1] = np.nan  # untested pairs are masked, not read as inactive
    raw = np.array([[m.GetNumAtoms(), m.GetNumBonds()] for m in mols], dtype=np.float32)
    return MoleculeGraphs.from_mols(mols), scale_descriptors(raw, fit_descriptor_quantiles(raw)), labels


def test_graph_network_learns_a_visible_signal() -> None:
    graphs, descriptors, labels = _data()
    p = predict_graph(train_graph(graphs, descriptors, labels, SMALL, 0), graphs, descriptors)
    halogen = labels[:, 0] == 1
    assert p[halogen, 0].mean() > p[~halogen, 0].mean() + 0.3


def test_served_onnx_graph_matches_torch(tmp_path: Path) -> None:
    graphs, descriptors, labels = _data()
    model = train_graph(graphs, descriptors, labels, GraphConfig(hidden=8, ffn_hidden=8, epochs=1), 0)
    path = tmp_path / "graph.onnx"
    path.write_bytes(export_graph_onnx(model, graphs.subset(np.arange(4)), descriptors[:4]))
    raw = np.random.default_rng(0).uniform(0, 10, size=(len(SMILES), 2)).astype(np.float32)
    quantiles = fit_descriptor_quantiles(raw)
    session = open_graph_session(path, 2, 2)
    member = GraphMember("g", MoleculeGraphFeaturizer(), None, quantiles, [session])  # type: ignore[arg-type]
    for rows in (np.array([13]), np.arange(len(SMILES))):  # "C": one atom, no bonds; then all
        picked = graphs.subset(rows)
        served = member.predict(picked, raw[rows])
        expected = predict_graph(model, picked, scale_descriptors(raw[rows], quantiles))
        assert served.shape == (len(rows), 2)
        assert np.abs(served - expected).max() < 1e-5


def test_a_graph_with_other_descriptors_is_refused(tmp_path: Path) -> None:
    graphs, descriptors, labels = _data()
    model = train_graph(graphs, descriptors, labels, GraphConfig(hidden=8, ffn_hidden=8, epochs=1), 0)
    path = tmp_path / "graph.onnx"
    path.write_bytes(export_graph_onnx(model, graphs.subset(np.arange(4)), descriptors[:4]))
    with pytest.raises(FeatureSpecMismatch, match="descriptors"):
        open_graph_session(path, RDKitDescriptorFeaturizer().spec.dimension, 2)
