"""Multitask neural network member (training only: imports torch; serving runs the exported ONNX).

Why a network next to the boosted trees: the Tox21 leaders (DeepTox, SNN) are multitask networks on
wide descriptor sets. One network shares a hidden representation across the 12 assays, so the
sparse endpoints (NR-AR, NR-PPAR-gamma: 2-3 % actives) borrow structure from the dense ones; its
errors also differ from the trees', which is what an ensemble needs.

Untested labels are masked out of the loss (Tox21 labels are ~17 % missing), never treated as
inactive. The input transform (column selection, signed log, z-score, clipping) is part of the
network and so of the ONNX graph: serving feeds raw feature columns and cannot apply a different
scaling from the one the weights were trained with.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any, cast

import numpy as np
import torch
from scipy import sparse
from torch import nn

from hygeia.toxicity.network_inputs import InputTransform, NetworkConfig, fit_input_transform

OPSET = 17
# One intra-op thread: on the shared 2-core training machine, OpenMP's spinning threads made
# multi-threaded fits many times slower than single-threaded ones (as for LightGBM in members.py).
TORCH_THREADS = 1


class InputLayer(nn.Module):
    """The fitted transform as fixed buffers: gather kept columns, fill NaN, signed log, z-score, clip."""

    columns: torch.Tensor  # registered buffers (typed here: nn.Module's attribute lookup is untyped)
    fill: torch.Tensor
    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, transform: InputTransform) -> None:
        super().__init__()
        self.register_buffer("columns", torch.as_tensor(transform.columns, dtype=torch.int64))
        self.register_buffer("fill", torch.as_tensor(transform.fill, dtype=torch.float32))
        self.register_buffer("mean", torch.as_tensor(transform.mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(transform.scale, dtype=torch.float32))
        self.clip = float(transform.clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.index_select(x, 1, self.columns)
        x = torch.where(torch.isnan(x), self.fill, x)
        x = torch.sign(x) * torch.log1p(torch.abs(x))
        return torch.clamp((x - self.mean) / self.scale, -self.clip, self.clip)


class MultitaskNetwork(nn.Module):
    """Shared ReLU (or SELU) layers with dropout, one logit per endpoint.

    `forward` takes raw features (serving, ONNX export); `forward_sparse` takes a transformed CSR
    batch as an embedding bag (the first layer's rows of the ~300 non-zero columns, weighted and
    summed), which is what makes training affordable on two shared cores. Same weights, same result.
    """

    def __init__(self, transform: InputTransform, n_tasks: int, config: NetworkConfig) -> None:
        super().__init__()
        self.inputs = InputLayer(transform)
        self.input_dropout = config.input_dropout
        width, size = len(transform.columns), config.hidden[0]
        bound = 1.0 / width**0.5  # nn.Linear's default initialisation
        self.first_weight = nn.Parameter(torch.empty(width, size).uniform_(-bound, bound))
        self.first_bias = nn.Parameter(torch.empty(size).uniform_(-bound, bound))
        layers: list[nn.Module] = _activation(config)
        width = size
        for size in config.hidden[1:]:
            layers += [nn.Linear(width, size), *_activation(config)]
            width = size
        layers.append(nn.Linear(width, n_tasks))
        self.body = nn.Sequential(*layers)
        if config.activation == "selu":
            self._lecun_normal()

    def _lecun_normal(self) -> None:
        """SELU keeps activations at zero mean and unit variance only with weights of variance 1/fan-in."""
        with torch.no_grad():
            self.first_weight.normal_(0.0, 1.0 / self.first_weight.shape[0] ** 0.5)
            self.first_bias.zero_()
            for layer in self.body:
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, 1.0 / layer.in_features**0.5)
                    layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.inputs(x) @ self.first_weight + self.first_bias)

    def forward_sparse(self, batch: sparse.csr_matrix) -> torch.Tensor:
        """Input dropout acts on the batch's non-zero values (zeros stay zero either way)."""
        values = torch.as_tensor(batch.data, dtype=torch.float32)
        if self.training and self.input_dropout > 0:
            values = values * (torch.rand(len(values)) >= self.input_dropout) / (1 - self.input_dropout)
        hidden = nn.functional.embedding_bag(
            torch.as_tensor(batch.indices, dtype=torch.int64),
            self.first_weight,
            torch.as_tensor(batch.indptr[:-1], dtype=torch.int64),
            mode="sum",
            per_sample_weights=values,
        )
        return self.body(hidden + self.first_bias)


def _activation(config: NetworkConfig) -> list[nn.Module]:
    if config.activation == "selu":
        return [nn.SELU(), nn.AlphaDropout(config.dropout)]
    if config.activation == "relu":
        return [nn.ReLU(), nn.Dropout(config.dropout)]
    raise ValueError(f"unknown activation {config.activation!r}")


class ProbabilityHead(nn.Module):
    """What is exported: raw features in, per-endpoint probabilities out."""

    def __init__(self, network: MultitaskNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.network(x))


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over tested labels only; NaN marks an untested compound/endpoint pair."""
    tested = ~torch.isnan(labels)
    targets = torch.where(tested, labels, torch.zeros_like(labels))
    losses = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return (losses * tested).sum() / tested.sum().clamp(min=1)


def shuffled_batches(
    n_rows: int, batch_size: int, epochs: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Row indices of each mini-batch, in a fresh random order every epoch (both networks train so)."""
    for _ in range(epochs):
        order = rng.permutation(n_rows)
        for start in range(0, n_rows, batch_size):
            yield order[start : start + batch_size]


def train_network(
    features: np.ndarray, labels: np.ndarray, config: NetworkConfig, seed: int
) -> MultitaskNetwork:
    """Fixed epochs of Adam on shuffled mini-batches; the transform is fitted on these rows only."""
    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    transform = fit_input_transform(features, config.min_column_count)
    network = MultitaskNetwork(transform, labels.shape[1], config)
    optimiser = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    x = transform.sparse(features)
    y = torch.as_tensor(labels, dtype=torch.float32)
    network.train()
    for batch in shuffled_batches(len(labels), config.batch_size, config.epochs, rng):
        optimiser.zero_grad()
        masked_bce(network.forward_sparse(x[batch]), y[batch]).backward()
        optimiser.step()
    network.eval()
    return network


@torch.no_grad()
def predict_network(network: MultitaskNetwork, features: np.ndarray) -> np.ndarray:
    network.eval()
    logits = network(torch.as_tensor(features, dtype=torch.float32))
    return torch.sigmoid(logits).numpy().astype(np.float64)


def train_seeds(
    features: np.ndarray, labels: np.ndarray, config: NetworkConfig, seeds: Sequence[int]
) -> list[MultitaskNetwork]:
    return [train_network(features, labels, config, seed) for seed in seeds]


def export_onnx(network: MultitaskNetwork, n_features: int) -> bytes:
    """ONNX bytes with a dynamic batch axis: input `features` (n, n_features), output `probabilities`."""
    head = ProbabilityHead(network).eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        head,
        (torch.zeros(2, n_features),),
        cast(Any, buffer),  # the TorchScript exporter (dynamo=False) takes a file; its stub says a path
        input_names=["features"],
        output_names=["probabilities"],
        dynamic_axes={"features": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    return buffer.getvalue()
