"""Training one epoch at a time, evaluation, and checkpoints that carry their own config.

Each epoch is its own step (and its own Snakemake job): it starts from the previous epoch's
checkpoint (weights and optimizer state) and writes the next. The batch order of epoch ``e``
depends only on ``(seed, e)``, so a run that was interrupted and resumed performs exactly the
same operations as one that was not, and ends with bit-identical weights on the CPU.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from layerscope.errors import LayerScopeError
from layerscope.files import atomic_path
from layerscope.model import MLP, ModelConfig

CHECKPOINT_FORMAT = "layerscope-checkpoint/1"
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation hyper-parameters (the ``train`` section of the config) and the seed."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class DivergenceError(LayerScopeError, RuntimeError):
    """The loss became NaN or infinite."""


class CheckpointError(LayerScopeError, RuntimeError):
    """A checkpoint file is missing, unreadable or not a LayerScope checkpoint."""


def resolve_device(name: str) -> torch.device:
    """``auto`` means CUDA when present, else Apple's MPS when present, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but CUDA is not available; use auto or cpu")
    return device


def make_deterministic(device: torch.device) -> None:
    """Ask torch for deterministic kernels (bit-identical reruns on the CPU)."""
    if device.type == "cuda":
        # cuBLAS needs a fixed workspace to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")


def init_model(model_config: ModelConfig, seed: int) -> MLP:
    """The epoch-0 network: PyTorch's default initialisation under ``seed``."""
    torch.manual_seed(seed)
    return MLP(model_config)


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimiser; the fused kernels where the device has them (2x faster here)."""
    params = list(model.parameters())
    fused = params[0].device.type in ("cpu", "cuda")
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=fused
        )
    raise ValueError(f"train.optimizer {cfg.optimizer!r} is unknown; choose one of {OPTIMIZERS}")


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate at global ``step`` (0-based) of ``total_steps``."""
    if cfg.schedule == "constant":
        return cfg.lr
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch, a function of ``(seed, epoch)`` alone."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint64)[0]
    generator = torch.Generator().manual_seed(int(state) & (2**63 - 1))
    return torch.randperm(n, generator=generator)


def train_epoch(
    model: MLP,
    optimizer: torch.optim.Optimizer,
    pixels: torch.Tensor,
    labels: torch.Tensor,
    cfg: TrainConfig,
    epoch: int,
    progress=None,
) -> tuple[float, float]:
    """Train epoch ``epoch`` (1-based) over every sample once.

    ``pixels`` and ``labels`` are the whole split already on the model's device. Returns the
    mean mini-batch loss and the accuracy on the mini-batches as they were trained (the usual
    running training accuracy; a second pass over the split would cost as much as a third
    of the epoch). Raises :class:`DivergenceError` at the first non-finite loss.
    """
    model.train()
    n = len(labels)
    order = epoch_order(n, cfg.seed, epoch).to(pixels.device)
    steps = math.ceil(n / cfg.batch_size)
    loss_fn = nn.CrossEntropyLoss()
    losses = torch.empty(steps, device=pixels.device)
    correct = torch.zeros((), dtype=torch.long, device=pixels.device)
    checked = 0
    for batch in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, (epoch - 1) * steps + batch, cfg.epochs * steps)
        idx = order[batch * cfg.batch_size : (batch + 1) * cfg.batch_size]
        logits = model(pixels[idx])
        loss = loss_fn(logits, labels[idx])
        losses[batch] = loss.detach()
        correct += (logits.detach().argmax(1) == labels[idx]).sum()
        # Reading the losses every 50 batches spares a GPU sync per batch; the first
        # non-finite one is still found exactly.
        if batch % 50 == 49 or batch == steps - 1:
            _check_finite(losses[checked : batch + 1], checked, epoch, cfg)
            checked = batch + 1
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress.update(len(idx))
    return losses.mean().item(), correct.item() / n


def _check_finite(losses: torch.Tensor, offset: int, epoch: int, cfg: TrainConfig) -> None:
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        first = int(bad[0])
        raise DivergenceError(_divergence_message(losses[first].item(), epoch, offset + first, cfg))


def _divergence_message(value: float, epoch: int, batch: int, cfg: TrainConfig) -> str:
    return (
        f"training diverged: loss is {value} in epoch {epoch}, batch {batch} "
        f"(train.lr={cfg.lr}, optimizer {cfg.optimizer}); the checkpoints of epochs before "
        f"{epoch} are kept; rerun with a smaller learning rate, e.g. "
        f"--config train='{{lr: {cfg.lr / 10:g}}}'"
    )


@torch.no_grad()
def evaluate(
    model: MLP, pixels: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the model in eval mode over a whole split."""
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, len(labels), batch_size):
        logits = model(pixels[start : start + batch_size])
        target = labels[start : start + batch_size]
        loss += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(1) == target).sum().item()
    return loss / len(labels), correct / len(labels)


def save_checkpoint(
    path: str | os.PathLike,
    model: MLP,
    optimizer: torch.optim.Optimizer,
    train_config: TrainConfig,
    epoch: int,
    run_config: dict[str, Any],
    metrics: dict[str, float],
) -> None:
    """Write a checkpoint that rebuilds itself: weights, optimizer state and every config."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "model_config": model.config.to_dict(),
        "train_config": train_config.to_dict(),
        "run_config": run_config,
        "metrics": metrics,
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer_state": _to_cpu(optimizer.state_dict()),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint safely (``weights_only=True``) and rebuild its model.

    Returns the checkpoint's dict with ``model`` (an :class:`MLP` in eval mode on
    ``device``) added.
    """
    path = Path(path)
    fix = "delete it and rerun the workflow to recreate it"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found; run the workflow first") from None
    except Exception as err:  # torch raises many types for a damaged or foreign file
        raise CheckpointError(f"{path}: unreadable checkpoint ({err}); {fix}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a LayerScope checkpoint; {fix}")
    model = MLP(ModelConfig(**state["model_config"]))
    model.load_state_dict(state["model_state"])
    state["model"] = model.to(device).eval()
    return state


class Throughput:
    """Wall-clock timing of a training epoch, synchronising the GPU when there is one."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.seconds = time.perf_counter() - self.start

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
