"""Batch augmentation on whatever device trains (training-time only: imports torch).

One affine warp per image does the random resized crop, rotation and flips together, so a whole
batch is augmented in a single `grid_sample` on the GPU instead of image by image on the CPU.
Dermoscopy has no canonical orientation, so any rotation and both flips keep the label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class AugmentConfig:
    scale: tuple[float, float] = (0.50, 1.0)  # area fraction kept by the random resized crop
    ratio: tuple[float, float] = (3 / 4, 4 / 3)  # aspect ratio of the crop
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue_shift: float = 0.03  # fraction of a full turn of the colour wheel, approximated in RGB


def _uniform(n: int, low: float, high: float, device: torch.device, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, device=device, generator=gen) * (high - low) + low


def _affine_matrices(n: int, cfg: AugmentConfig, device: torch.device, gen: torch.Generator) -> torch.Tensor:
    """Sampling grids' 2x3 matrices: crop size/position, any rotation, random horizontal flip."""
    area = _uniform(n, *cfg.scale, device, gen)
    log_ratio = _uniform(n, math.log(cfg.ratio[0]), math.log(cfg.ratio[1]), device, gen)
    ratio = torch.exp(log_ratio)
    sx = torch.sqrt(area * ratio).clamp(max=1.0)
    sy = torch.sqrt(area / ratio).clamp(max=1.0)
    tx = _uniform(n, -1.0, 1.0, device, gen) * (1.0 - sx)
    ty = _uniform(n, -1.0, 1.0, device, gen) * (1.0 - sy)
    angle = _uniform(n, 0.0, 2 * math.pi, device, gen)
    flip = torch.where(torch.rand(n, device=device, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = cos * sx * flip
    theta[:, 0, 1] = -sin * sy
    theta[:, 1, 0] = sin * sx * flip
    theta[:, 1, 1] = cos * sy
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    return theta


def _colour_jitter(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Brightness, contrast, saturation and a small hue rotation on 0..1 RGB; cameras and
    dermatoscopes differ in white balance, so the model must not key on exact colour."""
    n, device = x.shape[0], x.device
    shape = (n, 1, 1, 1)
    b = _uniform(n, 1 - cfg.brightness, 1 + cfg.brightness, device, gen).view(shape)
    c = _uniform(n, 1 - cfg.contrast, 1 + cfg.contrast, device, gen).view(shape)
    s = _uniform(n, 1 - cfg.saturation, 1 + cfg.saturation, device, gen).view(shape)
    x = x * b
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * c + mean
    grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)
    x = (x - grey) * s + grey
    angle = _uniform(n, -cfg.hue_shift, cfg.hue_shift, device, gen) * 2 * math.pi
    x = _rotate_hue(x, angle)
    return x.clamp(0.0, 1.0)


def _rotate_hue(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate colours about the grey axis (a linear map in RGB), one angle per image."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    third, root = 1.0 / 3.0, math.sqrt(1.0 / 3.0)
    a = cos + (1.0 - cos) * third
    b = third * (1.0 - cos) - root * sin
    c = third * (1.0 - cos) + root * sin
    matrix = torch.stack(
        [torch.stack([a, b, c], -1), torch.stack([c, a, b], -1), torch.stack([b, c, a], -1)], -2
    )
    return torch.einsum("nij,njhw->nihw", matrix, x)


def augment_batch(
    images: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator, out_side: int
) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> augmented float 0..1 (N, 3, out_side, out_side) on the same device."""
    x = images.float() / 255.0
    theta = _affine_matrices(x.shape[0], cfg, x.device, gen)
    grid = F.affine_grid(theta, [x.shape[0], 3, out_side, out_side], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return _colour_jitter(x, cfg, gen)
