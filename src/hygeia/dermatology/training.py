"""Fine-tune EfficientNet-Lite0 on the lesion-level split (training-time only: imports torch).

`hygeia dermatology train` (alias `hygeia train dermatology`) calls `run_training`. It runs on a
CUDA GPU when one is present and on the CPU otherwise; nothing else changes between the two.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hygeia.dermatology.augment import AugmentConfig, augment_batch
from hygeia.dermatology.dataset import (
    CLASSES,
    LesionImage,
    holdout_source_split,
    lesion_split,
    read_labels,
    split_from_file,
)
from hygeia.dermatology.evaluation import balanced_accuracy
from hygeia.dermatology.images import MODEL_SIDE, PIXEL_MEAN, PIXEL_STD, decode_image, resize_for_model
from hygeia.dermatology.network import build_network
from hygeia.dermatology.sources import read_sources

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    data_dir: Path
    out_dir: Path
    version: str = "1.0.0"
    epochs: int = 60
    batch_size: int = 64
    lr: float = 6e-4
    weight_decay: float = 0.02
    warmup_epochs: float = 2.0
    class_balance_beta: float = 0.999  # Cui et al. 2019 "effective number" class-balanced loss
    label_smoothing: float = 0.0  # off: it distorts confidence, which temperature scaling then fights
    ema_decay: float = 0.998  # weight average over ~500 steps (~8 epochs): steadier than any one step
    seed: int = 20240605
    max_minutes: float = 60.0  # stop training (keeping the best epoch so far) past this wall time
    freeze_backbone: bool = False  # CPU fallback: train the head only
    limit_per_split: int | None = None  # smoke runs on a handful of images; never for a shipped model
    device: str = "auto"
    holdout_source: str | None = None  # leave this HAM10000 source dataset out as the test split
    split_file: Path | None = None  # a model folder's split.csv: retrain on exactly its lesion split
    frozen_batch_norm: bool = False  # keep the starting network's batch-norm statistics (fine-tuning)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["data_dir"], values["out_dir"] = str(self.data_dir), str(self.out_dir)
        values["split_file"] = str(self.split_file) if self.split_file else None
        return values


def load_pixels(records: Sequence[LesionImage], threads: int = 8) -> np.ndarray:
    """Decode every image once into uint8 (N, 3, 224, 224) through the same checks serving uses."""

    def one(record: LesionImage) -> np.ndarray:
        image = resize_for_model(decode_image(record.path.read_bytes()).rgb, MODEL_SIDE)
        return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return np.stack(list(pool.map(one, records)))


def normalise(x01: torch.Tensor) -> torch.Tensor:
    """0..1 RGB -> the backbone's input scale, identical to images.to_model_input."""
    return (x01 * 255.0 - PIXEL_MEAN) / PIXEL_STD


def class_balanced_weights(labels: np.ndarray, beta: float) -> torch.Tensor:
    """Weights inversely proportional to each class's effective number of samples (1-beta^n)/(1-beta):
    rare classes count more without the full 1/n that would let 40 dermatofibromas dominate."""
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    effective = (1.0 - np.power(beta, counts)) / (1.0 - beta)
    weights = np.where(counts > 0, 1.0 / np.maximum(effective, 1e-12), 0.0)
    weights *= len(CLASSES) / weights.sum()
    return torch.tensor(weights, dtype=torch.float32)


def _schedule(horizon: dict[str, int], warmup_steps: int) -> Callable[[int], float]:
    """Linear warm-up, then cosine decay to zero at horizon["total"] steps (which may shrink once the
    first epoch's duration shows that the planned epochs do not fit the time limit)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(warmup_steps, 1)
        progress = (step - warmup_steps) / max(horizon["total"] - warmup_steps, 1)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return factor


def _affordable_epochs(cfg: TrainConfig, elapsed: float, epoch_seconds: float, done: int, log: Log) -> int:
    """Epochs that fit the time limit, judged on the second epoch: the first one also pays for
    cuDNN autotuning and lazy initialisation (about a minute on a GPU) and would mislead."""
    remaining = max(cfg.max_minutes * 60 - elapsed, 0.0)
    affordable = max(done + int(remaining / max(epoch_seconds, 1e-6)), done)
    if affordable < cfg.epochs:
        log(f"{cfg.epochs} epochs do not fit {cfg.max_minutes} min; planning {affordable}")
        return affordable
    return cfg.epochs


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW without weight decay on biases and norm parameters, as is usual for fine-tuning."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim <= 1 or "_bn" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr)


def _channels_last(model: nn.Module) -> nn.Module:
    """NHWC weights: faster convolutions on tensor cores (and harmless on the CPU)."""
    convert: Any = model.to
    return convert(memory_format=torch.channels_last)


def _freeze_backbone(model: nn.Module) -> None:
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith("_fc.")


class WeightAverage:
    """Exponential moving average of weights (batch-norm statistics copied), evaluated and exported
    instead of the raw weights, whose last few noisy steps would otherwise decide the model."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval()
        for param in self.model.parameters():
            param.requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))  # short memory early on
        mine, theirs = self.model.state_dict(), model.state_dict()
        for name, value in theirs.items():
            if value.dtype.is_floating_point:
                mine[name].lerp_(value, 1.0 - decay)
            else:
                mine[name].copy_(value)


@torch.no_grad()
def predict_logits(
    model: nn.Module, pixels: torch.Tensor, device: torch.device, views: int = 1, batch: int = 256
) -> np.ndarray:
    """float32 logits (views, N, C) for uint8 pixels; views follow images.dihedral_views' order."""
    model.eval()
    out = np.zeros((views, pixels.shape[0], len(CLASSES)), dtype=np.float32)
    for start in range(0, pixels.shape[0], batch):
        x = normalise(pixels[start : start + batch].to(device).float() / 255.0)
        for v in range(views):
            view = torch.rot90(x, k=v // 2, dims=(2, 3))
            view = view.flip(-1) if v % 2 else view
            with _autocast(device):
                logits = model(view.contiguous(memory_format=torch.channels_last))
            out[v, start : start + len(x)] = logits.float().cpu().numpy()
    return out


def _autocast(device: torch.device) -> Any:
    """bf16 autocast on CUDA (fast, no loss scaling needed); plain fp32 on the CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@dataclass
class TrainedModel:
    model: nn.Module
    splits: dict[str, list[LesionImage]]
    pixels: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    best_epoch: int
    seconds: float
    device: str


def _split_data(cfg: TrainConfig, log: Log) -> tuple[dict[str, list[LesionImage]], dict[str, torch.Tensor]]:
    records = read_labels(cfg.data_dir)
    if cfg.split_file:
        splits = split_from_file(records, cfg.split_file)
    elif cfg.holdout_source:
        sources = read_sources(cfg.data_dir)
        splits = holdout_source_split(records, sources, cfg.holdout_source, seed=cfg.seed)
    else:
        splits = lesion_split(records, seed=cfg.seed)
    if cfg.limit_per_split:
        splits = {name: rows[: cfg.limit_per_split] for name, rows in splits.items()}
    started = time.time()
    pixels = {name: torch.from_numpy(load_pixels(rows)) for name, rows in splits.items()}
    sizes = {name: len(rows) for name, rows in splits.items()}
    log(f"decoded {sum(sizes.values())} images {sizes} in {time.time() - started:.1f}s")
    return splits, pixels


def _train_epoch(
    model: nn.Module,
    state: dict[str, Any],
    pixels: torch.Tensor,
    labels: torch.Tensor,
    cfg: TrainConfig,
) -> float:
    device, gen = state["device"], state["gen"]
    model.train()
    if cfg.freeze_backbone:
        model.eval()  # keep ImageNet batch-norm statistics when only the head learns
    if cfg.frozen_batch_norm:
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
    order = torch.randperm(len(labels), generator=state["cpu_gen"])
    total, steps = 0.0, 0
    for start in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
        index = order[start : start + cfg.batch_size]
        x = augment_batch(pixels[index], cfg.augment, gen, MODEL_SIDE)
        x = normalise(x).contiguous(memory_format=torch.channels_last)
        with _autocast(device):
            logits = model(x)
        loss = F.cross_entropy(
            logits.float(), labels[index], weight=state["weights"], label_smoothing=cfg.label_smoothing
        )
        state["optimizer"].zero_grad(set_to_none=True)
        loss.backward()
        state["optimizer"].step()
        state["scheduler"].step()
        state["ema"].update(model)
        total, steps = total + float(loss.detach()), steps + 1
    return total / max(steps, 1)


def train(
    cfg: TrainConfig, log: Log = print, start: nn.Module | None = None, extra: Sequence[LesionImage] = ()
) -> TrainedModel:
    """Fine-tune, scoring validation balanced accuracy every epoch and keeping the best epoch.

    `start` replaces the ImageNet backbone (retraining starts from production's network); `extra`
    images (accepted outcomes) join the training rows only, never validation or test, nor split.csv."""
    torch.manual_seed(cfg.seed)
    torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest kernels
    device = cfg.resolved_device()
    log(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'})")
    splits, cpu_pixels = _split_data(cfg, log)
    labels = {name: np.array([r.label for r in rows]) for name, rows in splits.items()}
    if extra:
        cpu_pixels["train"] = torch.cat([cpu_pixels["train"], torch.from_numpy(load_pixels(extra))])
        labels["train"] = np.concatenate([labels["train"], [r.label for r in extra]])
        log(f"{len(extra)} outcome images added to {len(splits['train'])} training images")
    pixels = {name: tensor.to(device) for name, tensor in cpu_pixels.items()}
    model = _channels_last((start if start is not None else build_network(pretrained=True)).to(device))
    if cfg.freeze_backbone:
        _freeze_backbone(model)
    steps_per_epoch = max(len(labels["train"]) // cfg.batch_size, 1)
    horizon = {"total": cfg.epochs * steps_per_epoch}
    optimizer = _optimizer(model, cfg)
    state: dict[str, Any] = {
        "device": device,
        "gen": torch.Generator(device=device).manual_seed(cfg.seed),
        "cpu_gen": torch.Generator().manual_seed(cfg.seed),
        "weights": class_balanced_weights(labels["train"], cfg.class_balance_beta).to(device),
        "optimizer": optimizer,
        "ema": WeightAverage(model, cfg.ema_decay),
        "scheduler": torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            _schedule(horizon, int(cfg.warmup_epochs * steps_per_epoch)),
        ),
    }
    log(f"class weights {dict(zip(CLASSES, state['weights'].tolist(), strict=True))}")
    train_labels = torch.from_numpy(labels["train"]).to(device)
    started, best, history = time.time(), (-1.0, 0, copy.deepcopy(model.state_dict())), []
    planned, epoch, epoch_started = cfg.epochs, 0, started
    while epoch < planned:
        epoch += 1
        loss = _train_epoch(model, state, pixels["train"], train_labels, cfg)
        if epoch == 3:
            now = time.time()
            planned = _affordable_epochs(cfg, now - started, now - epoch_started, epoch, log)
            horizon["total"] = planned * steps_per_epoch
        epoch_started = time.time()
        val_pred = predict_logits(state["ema"].model, pixels["val"], device)[0].argmax(axis=1)
        val_ba = balanced_accuracy(labels["val"], val_pred)
        elapsed = time.time() - started
        history.append(
            {"epoch": epoch, "train_loss": loss, "val_balanced_accuracy": val_ba, "seconds": elapsed}
        )
        log(f"epoch {epoch:3d} loss {loss:.4f} val BA {val_ba:.4f} ({elapsed:.0f}s)")
        if val_ba > best[0]:
            best = (val_ba, epoch, copy.deepcopy(state["ema"].model.state_dict()))
        if elapsed > cfg.max_minutes * 60 * 1.1 and epoch < planned:
            log(f"time limit of {cfg.max_minutes} min overrun after epoch {epoch}; stopping")
            break
    model.load_state_dict(best[2])
    log(f"best epoch {best[1]} (val BA {best[0]:.4f})")
    return TrainedModel(model, splits, pixels, history, best[1], time.time() - started, str(device))


def run_training(cfg: TrainConfig, log: Log = print) -> Path:
    """Train, calibrate, evaluate and export into `cfg.out_dir`; returns that folder."""
    from hygeia.dermatology.export import write_artifacts

    trained = train(cfg, log)
    return write_artifacts(trained, cfg, log)
