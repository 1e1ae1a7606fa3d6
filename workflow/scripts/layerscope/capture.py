"""Running a fixed probe set through a checkpoint and keeping every named layer."""

from __future__ import annotations

import numpy as np
import torch

from layerscope.model import MLP


def probe_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A stratified, seeded subset of ``n`` indices into ``labels``, sorted ascending.

    With ``n`` equal to the split size the whole split is the probe set (the seed's N was the
    10,000 test images). Each class gets its share of ``n`` in proportion to its frequency
    (largest remainders round up), so small probe sets still hold every class.
    """
    labels = np.asarray(labels)
    if not 1 <= n <= len(labels):
        raise ValueError(
            f"capture.n = {n} is not within 1..{len(labels)}, the size of the probe split"
        )
    if n == len(labels):
        return np.arange(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    extra = np.argsort(-(quota - take), kind="stable")[: n - take.sum()]
    take[extra] += 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
        for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


@torch.no_grad()
def capture_layers(
    model: MLP, pixels: torch.Tensor, layers: list[str], batch_size: int = 2048
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every requested layer's activations (float32, ``(n, width)``) and the predictions."""
    model.eval()
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    predictions = []
    for start in range(0, len(pixels), batch_size):
        out = model.forward_layers(pixels[start : start + batch_size])
        for name in layers:
            chunks[name].append(out[name].float().cpu().numpy())
        predictions.append(out["logits"].argmax(1).cpu().numpy())
    return {name: np.concatenate(c) for name, c in chunks.items()}, np.concatenate(predictions)
