"""The graph member's network (training only: imports torch; serving runs the exported ONNX).

A Chemprop-style directed message-passing network (D-MPNN, Yang et al. 2019): hidden states live on
directed bonds, and a bond's message leaves out its own reverse, so information does not echo straight
back along the edge it came from. The molecule's RDKit 2D descriptors (CDF-scaled, `graph_inputs`)
join the learned vector before the readout, as in Chemprop's rdkit_2d_normalized features: on the
selection folds that raised the network alone from 0.818 to 0.831 ROC-AUC
(`benchmarks/toxicity/graph_member.json`). Multitask with masked labels, as the other network.
"""

from __future__ import annotations

import io
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from hygeia.toxicity.graph_inputs import ATOM_DIM, BOND_DIM, GRAPH_INPUTS, GraphConfig, MoleculeGraphs
from hygeia.toxicity.network import OPSET, TORCH_THREADS, masked_bce, shuffled_batches


def sum_into(values: torch.Tensor, index: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Sum `values` rows into `rows.shape[0]` slots; scatter_add exports as ONNX ScatterElements(add)."""
    out = values.new_zeros((rows.shape[0], values.shape[1]))
    return out.scatter_add(0, index.unsqueeze(1).expand(-1, values.shape[1]), values)


class DirectedMPNN(nn.Module):
    def __init__(self, n_tasks: int, n_descriptors: int, config: GraphConfig) -> None:
        super().__init__()
        self.depth, self.hidden = config.depth, config.hidden
        self.w_input = nn.Linear(ATOM_DIM + BOND_DIM, config.hidden, bias=False)
        self.w_hidden = nn.Linear(config.hidden, config.hidden, bias=False)
        self.w_output = nn.Linear(ATOM_DIM + config.hidden, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.readout = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden + n_descriptors, config.ffn_hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ffn_hidden, n_tasks),
        )

    def forward(
        self,
        atoms: torch.Tensor,
        bonds: torch.Tensor,
        source: torch.Tensor,
        target: torch.Tensor,
        atom_molecule: torch.Tensor,
        atom_counts: torch.Tensor,
        descriptors: torch.Tensor,
    ) -> torch.Tensor:
        first = self.w_input(torch.cat([atoms[source], bonds], dim=1))
        state = torch.relu(first)
        for _ in range(self.depth - 1):
            reverse = state.reshape(-1, 2, self.hidden).flip(1).reshape(-1, self.hidden)
            message = sum_into(state, target, atoms)[source] - reverse
            state = self.dropout(torch.relu(first + self.w_hidden(message)))
        atom_state = torch.cat([atoms, sum_into(state, target, atoms)], dim=1)
        atom_state = self.dropout(torch.relu(self.w_output(atom_state)))
        molecule = sum_into(atom_state, atom_molecule, atom_counts) / atom_counts.unsqueeze(1)
        return self.readout(torch.cat([molecule, descriptors], dim=1))


def _tensors(graphs: MoleculeGraphs, rows: np.ndarray, descriptors: np.ndarray) -> list[torch.Tensor]:
    return [torch.from_numpy(a) for a in (*graphs.batch(rows), descriptors[rows])]


def train_graph(
    graphs: MoleculeGraphs, descriptors: np.ndarray, labels: np.ndarray, config: GraphConfig, seed: int
) -> DirectedMPNN:
    """Adam with Chemprop's schedule shape: linear warm-up over two epochs, then exponential decay to
    a tenth of the peak rate; untested labels are masked out of the loss, never read as inactive.
    `descriptors` are already scaled (`graph_inputs.scale_descriptors`)."""
    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DirectedMPNN(labels.shape[1], descriptors.shape[1], config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    per_epoch = -(-len(labels) // config.batch_size)
    warmup, total = 2 * per_epoch, config.epochs * per_epoch

    def rate(step: int) -> float:
        if step < warmup:
            return 0.1 + 0.9 * step / warmup
        return float(0.1 ** ((step - warmup) / max(total - warmup, 1)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    y = torch.as_tensor(labels, dtype=torch.float32)
    model.train()
    for rows in shuffled_batches(len(labels), config.batch_size, config.epochs, rng):
        optimiser.zero_grad()
        masked_bce(model(*_tensors(graphs, rows, descriptors)), y[rows]).backward()
        optimiser.step()
        schedule.step()
    model.eval()
    return model


@torch.no_grad()
def predict_graph(
    model: DirectedMPNN, graphs: MoleculeGraphs, descriptors: np.ndarray, batch: int = 256
) -> np.ndarray:
    model.eval()
    out = [
        torch.sigmoid(model(*_tensors(graphs, np.arange(s, min(s + batch, len(graphs))), descriptors)))
        for s in range(0, len(graphs), batch)
    ]
    return torch.cat(out).numpy().astype(np.float64)


class _Probabilities(nn.Module):
    """What serving runs: graph and scaled descriptors in, per-endpoint probabilities out."""

    def __init__(self, model: DirectedMPNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(*inputs))


def export_graph_onnx(model: DirectedMPNN, graphs: MoleculeGraphs, descriptors: np.ndarray) -> bytes:
    """Legacy (TorchScript) exporter as `network.export_onnx`; every first axis is dynamic.
    `graphs`/`descriptors`: a few example molecules to trace with."""
    buffer = io.BytesIO()
    example = tuple(_tensors(graphs, np.arange(len(graphs)), descriptors))
    torch.onnx.export(
        _Probabilities(model).eval(),
        example,
        cast(Any, buffer),  # the TorchScript exporter (dynamo=False) takes a file; its stub says a path
        input_names=list(GRAPH_INPUTS),
        output_names=["probabilities"],
        dynamic_axes={**{n: {0: n} for n in GRAPH_INPUTS}, "probabilities": {0: "molecules"}},
        opset_version=OPSET,
        dynamo=False,
    )
    return buffer.getvalue()
