"""The MLP and its named layers.

Layer names are what the reader sees in the figures: ``input`` (the standardised pixels),
then ``z<i>`` (pre-activation) and ``a<i>`` (post-activation) for each hidden layer ``i``,
then ``logits``. The seed's 784-512-256-128-64-10 network has ten: input, z1, a1, ... a4, logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from layerscope.config import layer_names

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; stored inside every checkpoint.

    ``pixel_max`` maps stored pixel values to [0, 1]; ``mean`` and ``std`` (of the training
    pixels in [0, 1]) standardise them, so the ``input`` layer is the standardised image.
    """

    input_dim: int = 784
    hidden: tuple[int, ...] = (512, 256, 128, 64)
    n_classes: int = 10
    activation: str = "relu"
    pixel_max: float = 255.0
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"model.activation {self.activation!r} is unknown; choose one of "
                f"{', '.join(ACTIVATIONS)}"
            )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @property
    def layers(self) -> list[str]:
        return layer_names(len(self.hidden))


class MLP(nn.Module):
    """A plain multi-layer perceptron whose forward pass can return every named layer."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        widths = [config.input_dim, *config.hidden]
        self.hidden = nn.ModuleList(
            nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:], strict=True)
        )
        self.act = ACTIVATIONS[config.activation]()
        self.out = nn.Linear(widths[-1], config.n_classes)
        # Buffers, so the preprocessing travels with the weights in every checkpoint.
        self.register_buffer("scale", torch.tensor(1.0 / (config.pixel_max * config.std)))
        self.register_buffer("shift", torch.tensor(config.mean / config.std))

    def standardise(self, pixels: torch.Tensor) -> torch.Tensor:
        """Map raw pixel values ``(n, h, w)`` or ``(n, h*w)`` to the standardised input."""
        return pixels.reshape(len(pixels), -1).float() * self.scale - self.shift

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.standardise(pixels)
        for linear in self.hidden:
            x = self.act(linear(x))
        return self.out(x)

    def forward_layers(self, pixels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every named layer's output for a batch, in :func:`layer_names` order."""
        x = self.standardise(pixels)
        layers = {"input": x}
        for i, linear in enumerate(self.hidden, start=1):
            z = linear(x)
            x = self.act(z)
            layers[f"z{i}"], layers[f"a{i}"] = z, x
        layers["logits"] = self.out(x)
        return layers


def layer_widths(config: ModelConfig) -> dict[str, int]:
    """Width of every named layer."""
    widths = {"input": config.input_dim, "logits": config.n_classes}
    for i, width in enumerate(config.hidden, start=1):
        widths[f"z{i}"] = widths[f"a{i}"] = width
    return {name: widths[name] for name in config.layers}
