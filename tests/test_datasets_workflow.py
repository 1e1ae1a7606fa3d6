"""Beyond MNIST, end to end: the offline digits demo and Fashion-MNIST through the real workflow,
with each dataset's class names in its tables and report."""

import pytest
from conftest import make_workdir, run_tiny, write_fake_dataset

from layerscope.datasets import DATASETS
from layerscope.tables import read_activations, read_frame, read_projection

pytestmark = pytest.mark.e2e


def test_digits_runs_offline_to_the_report(tmp_path):
    # No data_root files at all: digits ships with scikit-learn.
    work = make_workdir(tmp_path / "work", tmp_path / "nothing-here", "dataset: digits\n")
    run_tiny(work)
    results = work / "results"
    pixels = read_activations(results / "activations" / "epoch_2" / "input.parquet")
    assert pixels.activation.shape == (100, 64)  # 8x8 images: the input width follows the data
    assert pixels.meta["dataset"] == "digits" and pixels.meta["split"] == "test"
    logits = read_activations(results / "activations" / "epoch_2" / "logits.parquet")
    assert logits.activation.shape == (100, 10)
    training = read_frame(results / "training" / "metrics.parquet", "training")
    assert training.test_accuracy.iloc[-1] > training.test_accuracy.iloc[0]
    page = (results / "report" / "index.html").read_text()
    assert "digits" in page.lower() and "MLP 64-32-16-10" in page
    assert not (tmp_path / "nothing-here").exists()  # nothing was downloaded or written there


def test_fashion_mnist_class_names_reach_tables_and_report(tmp_path):
    data = write_fake_dataset(tmp_path / "data", folder="FashionMNIST")
    work = make_workdir(tmp_path / "work", data, "dataset: fashion_mnist\n")
    run_tiny(work, "--config", "projection={methods: [pca]}")
    names = list(DATASETS["fashion_mnist"].class_names)
    assert names[9] == "Ankle boot"
    results = work / "results"
    assert read_activations(results / "activations" / "epoch_2" / "a1.parquet").meta[
        "class_names"
    ] == names  # fmt: skip
    assert read_projection(results / "projections" / "pca" / "epoch_2" / "a1.parquet").meta[
        "class_names"
    ] == names  # fmt: skip
    page = (results / "report" / "index.html").read_text()
    assert '<li title="label 9: Ankle boot">' in page and "T-shirt/top" in page
