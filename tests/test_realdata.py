"""Real MNIST (../shared/data or $LAYERSCOPE_DATA_ROOT): skipped with its reason where absent."""

import numpy as np
import pytest
import torch
from conftest import real_mnist_root

from layerscope.datasets import load_split
from layerscope.model import ModelConfig
from layerscope.train import TrainConfig, evaluate, init_model, make_optimizer, train_epoch

ROOT = real_mnist_root()
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        ROOT is None,
        reason="real MNIST not found: set LAYERSCOPE_DATA_ROOT to the folder holding MNIST/raw",
    ),
]

# The counts published with the data (../shared/data/README.md), digits 0 to 9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_loads_whole_with_published_label_counts():
    train = load_split("mnist", ROOT, "train", download=False)
    test = load_split("mnist", ROOT, "test", download=False)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert np.bincount(train.labels).tolist() == TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == TEST_COUNTS


def test_one_epoch_on_real_mnist_learns():
    train = load_split("mnist", ROOT, "train", download=False)
    test = load_split("mnist", ROOT, "test", download=False)
    scaled = train.images / 255
    config = ModelConfig(hidden=(128, 64), mean=float(scaled.mean()), std=float(scaled.std()))
    cfg = TrainConfig(epochs=1, batch_size=128, seed=0)
    model = init_model(config, cfg.seed)
    x, y = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    train_epoch(model, make_optimizer(model, cfg), x, y, cfg, 1)
    _, accuracy = evaluate(model, torch.from_numpy(test.images), torch.from_numpy(test.labels))
    assert accuracy > 0.93


@pytest.mark.e2e
def test_the_tsne_benchmark_writes_the_table_the_scaling_figure_draws(tmp_path):
    import subprocess
    import sys

    import pandas as pd
    from conftest import REPO

    from layerscope import plots

    table = tmp_path / "tsne_scaling.csv"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_tsne.py"), "--quick",
         "--data-root", str(ROOT), "--activations", str(tmp_path / "none.parquet"),
         "--csv", str(table)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "speed-up vs sklearn" in proc.stdout and "| 2000 | test |" in proc.stdout
    scaling = pd.read_csv(table)
    assert sorted(scaling.n.unique()) == [500, 1000, 2000]
    assert set(zip(scaling.method, scaling.backend, strict=True)) == {
        ("tsne", "scikit-learn defaults"), ("tsne", "opentsne"), ("tsne", "sklearn"), ("pca", "pca"),
    }  # fmt: skip
    assert (scaling.seconds > 0).all()
    plots.scaling_figure(scaling)  # the workflow's figure accepts it
