"""Production's network as a torch module, rebuilt from its hash-verified ONNX graph (training-time
only: imports torch and onnx).

A model folder ships weights only as ONNX, where export folded each batch norm into its convolution
(W' = W * g / sqrt(v + eps), b' = beta - g * m / sqrt(v + eps)). Each convolution gets W' here and
its batch norm becomes the identity plus b' (mean 0, variance 1 - eps, scale 1), which computes the
same function in eval mode; training then keeps batch-norm statistics frozen (`frozen_batch_norm`)
and fine-tunes weights, scales and shifts. The rebuilt network must reproduce the graph's logits on
real inputs, or it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hygeia.dermatology.network import build_network

PARITY = 1e-3  # largest |logit difference| accepted between the rebuilt network and the ONNX graph


class WarmStartError(RuntimeError):
    """The ONNX graph does not map onto the network (another architecture, or an unknown export)."""


def _conv_norm_pairs(model: nn.Module) -> dict[str, tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Each convolution with the batch norm that follows it (EfficientNet-Lite: always exactly one)."""
    pairs: dict[str, tuple[nn.Conv2d, nn.BatchNorm2d]] = {}
    pending: tuple[str, nn.Conv2d] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            pending = (name, module)
        elif isinstance(module, nn.BatchNorm2d) and pending is not None:
            pairs[pending[0]] = (pending[1], module)
            pending = None
    return pairs


@torch.no_grad()
def network_from_onnx(path: Path) -> nn.Module:
    """The 7-class EfficientNet-Lite0 with the graph's weights (batch norms folded as said above)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    model = build_network(pretrained=False)
    pairs = _conv_norm_pairs(model)
    convs = [node for node in graph.node if node.op_type == "Conv"]
    if len(convs) != len(pairs):
        raise WarmStartError(f"the graph has {len(convs)} convolutions, the network {len(pairs)}")
    for node in convs:
        name = node.name.strip("/").removesuffix("/Conv").replace("/", ".")
        if name not in pairs or len(node.input) != 3:
            raise WarmStartError(f"graph convolution {node.name!r} has no folded counterpart in the network")
        conv, norm = pairs[name]
        conv.weight.copy_(torch.from_numpy(weights[node.input[1]].copy()))
        mean, variance = norm.running_mean, norm.running_var
        if mean is None or variance is None:
            raise WarmStartError(f"the batch norm after {name} keeps no running statistics")
        mean.zero_()
        variance.fill_(1.0 - norm.eps)
        norm.weight.fill_(1.0)
        norm.bias.copy_(torch.from_numpy(weights[node.input[2]].copy()))
    fc: Any = model.get_submodule("_fc")  # nn.Linear; the package's model is untyped
    fc.weight.copy_(torch.from_numpy(weights["model._fc.weight"].copy()))
    fc.bias.copy_(torch.from_numpy(weights["model._fc.bias"].copy()))
    return model.eval()


def check_parity(model: nn.Module, path: Path, inputs: np.ndarray) -> float:
    """Max |logit difference| between the rebuilt network and the graph on normalised (N, 3, H, W)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(["logits"], {"image": inputs.astype(np.float32)})[0]
    with torch.no_grad():
        got = model.eval()(torch.from_numpy(inputs.astype(np.float32))).numpy()
    return float(np.abs(expected - got).max())


def production_network(folder: Path, inputs: np.ndarray, log: Callable[[str], None]) -> nn.Module:
    """The network of a verified model folder, refused unless it reproduces the served logits."""
    path = Path(folder) / "model.onnx"
    model = network_from_onnx(path)
    difference = check_parity(model, path, inputs)
    if difference > PARITY:
        raise WarmStartError(f"rebuilt network differs from {path} by {difference:.2e} in logits")
    log(f"started from {folder.name}'s weights (max |logit diff| vs its ONNX graph {difference:.1e})")
    return model
