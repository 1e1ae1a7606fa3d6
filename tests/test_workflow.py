"""The real workflow, end to end, on a tiny config and tiny MNIST-format data written here."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import copy_workdir, jobs_planned, run_tiny

from layerscope import tables

pytestmark = pytest.mark.e2e
LAYERS = ["input", "z1", "a1", "z2", "a2", "logits"]


@pytest.fixture
def finished(tiny_results, tmp_path):
    """A private copy of the complete tiny run, free to change."""
    return copy_workdir(tiny_results, tmp_path / "work")


def test_all_outputs_exist(tiny_results):
    results = tiny_results / "results"
    for epoch in (0, 1, 2):
        assert (results / "checkpoints" / f"epoch_{epoch}.pt").stat().st_size > 0
    for epoch in (0, 2):
        for layer in LAYERS:
            assert (results / "activations" / f"epoch_{epoch}" / f"{layer}.parquet").exists()
    assert not (results / "activations" / "epoch_1").exists()
    assert (results / "logs" / "train_epoch" / "epoch_2.log").exists()
    assert (results / "benchmarks" / "train_epoch" / "epoch_2.tsv").exists()


def test_activation_tables_follow_the_documented_schema(tiny_results):
    path = tiny_results / "results" / "activations" / "epoch_2" / "a1.parquet"
    schema = pq.read_schema(path)
    assert schema.names == ["sample", "label", "prediction", "activation"]
    assert schema.field("activation").type == pa.list_(pa.float32(), 32)
    frame = pd.read_parquet(path)
    assert len(frame) == 100
    assert frame["sample"].is_monotonic_increasing and frame["sample"].max() < 200
    assert np.bincount(frame["label"], minlength=10).tolist() == [10] * 10
    meta = tables.read_meta(path)
    assert meta["epoch"] == 2 and meta["layer"] == "a1" and meta["split"] == "test"
    assert meta["dataset"] == "mnist" and meta["model"]["hidden"] == [32, 16]
    assert len(meta["config_hash"]) == 16
    logits = tables.read_activations(tiny_results / "results/activations/epoch_2/logits.parquet")
    np.testing.assert_array_equal(logits.prediction, logits.activation.argmax(1))


def test_training_table_has_every_epoch_and_learns(tiny_results):
    frame = tables.read_frame(tiny_results / "results" / "training" / "metrics.parquet", "training")
    assert frame["epoch"].tolist() == [0, 1, 2]
    assert frame["test_accuracy"].iloc[-1] > frame["test_accuracy"].iloc[0]
    assert frame["test_accuracy"].iloc[-1] > 0.8


def test_second_run_does_nothing(finished):
    proc = run_tiny(finished, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_a_single_table_reruns_only_its_capture(finished):
    target = "results/activations/epoch_2/z2.parquet"
    (finished / target).unlink()
    assert jobs_planned(run_tiny(finished, "-n", target)) == {"capture_activations": 1, "total": 1}
    before = (finished / "results/checkpoints/epoch_2.pt").stat().st_mtime_ns
    run_tiny(finished, target)
    assert (finished / target).exists()
    assert (finished / "results/checkpoints/epoch_2.pt").stat().st_mtime_ns == before


def test_asking_for_an_early_epoch_trains_only_that_far(tiny_workdir):
    planned = jobs_planned(run_tiny(tiny_workdir, "-n", "results/activations/epoch_1/a2.parquet"))
    assert planned == {
        "prepare_dataset": 1, "train_epoch": 2, "capture_activations": 1, "total": 4,
    }  # fmt: skip


def test_other_dataset_in_the_same_folder_is_refused(finished):
    proc = run_tiny(finished, "-n", "--config", "dataset=digits", check=False)
    assert proc.returncode == 1
    assert (
        "results_dir 'results' holds mnist results, but dataset = 'digits'; give this dataset "
        "its own folder, e.g. --config dataset=digits results_dir=results/digits"
    ) in proc.stdout + proc.stderr
