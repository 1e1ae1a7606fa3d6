"""The MLP's named layers, their shapes, and agreement with a plain PyTorch reference."""

import pytest
import torch
from torch import nn

from layerscope.config import layer_names
from layerscope.model import MLP, ModelConfig, layer_widths


def test_layer_names_follow_depth():
    assert layer_names(4) == [
        "input", "z1", "a1", "z2", "a2", "z3", "a3", "z4", "a4", "logits",
    ]  # fmt: skip
    assert layer_names(1) == ["input", "z1", "a1", "logits"]


def test_seed_architecture_shapes():
    config = ModelConfig()
    model = MLP(config)
    widths = [layer.out_features for layer in model.hidden] + [model.out.out_features]
    assert widths == [512, 256, 128, 64, 10]
    out = model.forward_layers(torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8))
    assert list(out) == config.layers
    assert {name: t.shape[1] for name, t in out.items()} == layer_widths(config)
    assert all(t.shape[0] == 5 for t in out.values())


def test_forward_matches_a_sequential_reference():
    torch.manual_seed(0)
    config = ModelConfig(input_dim=16, hidden=(8, 4), n_classes=3, pixel_max=16, mean=0.3, std=0.2)
    model = MLP(config)
    reference = nn.Sequential(model.hidden[0], nn.ReLU(), model.hidden[1], nn.ReLU(), model.out)
    pixels = torch.randint(0, 17, (7, 4, 4), dtype=torch.uint8)
    x = (pixels.reshape(7, -1).float() / 16 - 0.3) / 0.2
    layers = model.forward_layers(pixels)
    torch.testing.assert_close(layers["input"], x)
    torch.testing.assert_close(layers["logits"], reference(x))
    torch.testing.assert_close(model(pixels), reference(x))
    torch.testing.assert_close(layers["a1"], torch.relu(layers["z1"]))


@pytest.mark.parametrize("activation", ["tanh", "gelu", "leaky_relu", "sigmoid"])
def test_activation_is_configurable(activation):
    model = MLP(ModelConfig(input_dim=4, hidden=(3,), activation=activation))
    out = model.forward_layers(torch.rand(2, 4))
    expected = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}.get(activation)
    if expected is not None:
        torch.testing.assert_close(out["a1"], expected(out["z1"]))
    assert not torch.equal(out["a1"], torch.relu(out["z1"]))


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="model.activation 'swish' is unknown"):
        ModelConfig(activation="swish")
