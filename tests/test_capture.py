"""The probe set and the capture of every layer."""

import numpy as np
import pytest
import torch

from layerscope.capture import capture_layers, probe_indices
from layerscope.model import MLP, ModelConfig


def test_whole_split_is_the_default_probe_set():
    labels = np.arange(50) % 10
    np.testing.assert_array_equal(probe_indices(labels, 50, seed=0), np.arange(50))


def test_subset_is_stratified_seeded_and_sorted():
    labels = np.repeat(np.arange(10), [100, 200, 50, 50, 100, 100, 100, 100, 100, 100])
    a = probe_indices(labels, 100, seed=1)
    assert len(a) == 100 and len(np.unique(a)) == 100
    assert np.all(np.diff(a) > 0)
    counts = np.bincount(labels[a], minlength=10)
    assert counts.tolist() == [10, 20, 5, 5, 10, 10, 10, 10, 10, 10]
    np.testing.assert_array_equal(a, probe_indices(labels, 100, seed=1))
    assert not np.array_equal(a, probe_indices(labels, 100, seed=2))


def test_rounding_keeps_the_requested_size():
    labels = np.repeat(np.arange(3), [5, 5, 5])
    for n in range(1, 16):
        assert len(probe_indices(labels, n, seed=0)) == n


@pytest.mark.parametrize("n", [0, 16])
def test_out_of_range_sizes(n):
    with pytest.raises(ValueError, match=rf"capture.n = {n} is not within 1..15"):
        probe_indices(np.zeros(15), n, seed=0)


def test_capture_matches_one_big_forward_pass():
    torch.manual_seed(0)
    model = MLP(ModelConfig(input_dim=9, hidden=(6, 4), n_classes=3))
    pixels = torch.randint(0, 256, (25, 3, 3), dtype=torch.uint8)
    layers, prediction = capture_layers(model, pixels, ["input", "a1", "logits"], batch_size=7)
    full = model.forward_layers(pixels)
    assert list(layers) == ["input", "a1", "logits"]
    for name, values in layers.items():
        assert values.dtype == np.float32
        np.testing.assert_allclose(values, full[name].detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(prediction, full["logits"].argmax(1).numpy())
