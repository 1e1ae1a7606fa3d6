"""The real workflow, end to end, on a tiny config and tiny MNIST-format data written here."""

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import snakemake

from layerscope import tables

pytestmark = pytest.mark.e2e
LAYERS = ["input", "z1", "a1", "z2", "a2", "logits"]


def jobs_planned(proc) -> dict[str, int]:
    """The job-count table Snakemake prints for a (dry) run."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", proc.stdout, re.M)} | {}


def run(work, *args, **kw):
    # --configfile takes several values: it goes last, after any target.
    return snakemake(work, *args, "--configfile", str(work / "tiny.yaml"), **kw)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One complete run of the tiny workflow, shared by the tests that only read it."""
    from conftest import TINY_CONFIG, write_fake_dataset

    base = tmp_path_factory.mktemp("finished")
    data = write_fake_dataset(base / "data")
    work = base / "work"
    work.mkdir()
    (work / "tiny.yaml").write_text(TINY_CONFIG.read_text() + f"data_root: {data}\n")
    run(work)
    return work


def test_all_outputs_exist(finished):
    results = finished / "results"
    for epoch in (0, 1, 2):
        assert (results / "checkpoints" / f"epoch_{epoch}.pt").stat().st_size > 0
    for epoch in (0, 2):
        for layer in LAYERS:
            assert (results / "activations" / f"epoch_{epoch}" / f"{layer}.parquet").exists()
    assert not (results / "activations" / "epoch_1").exists()
    assert (results / "logs" / "train_epoch" / "epoch_2.log").exists()
    assert (results / "benchmarks" / "train_epoch" / "epoch_2.tsv").exists()


def test_activation_tables_follow_the_documented_schema(finished):
    path = finished / "results" / "activations" / "epoch_2" / "a1.parquet"
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
    logits = tables.read_activations(finished / "results/activations/epoch_2/logits.parquet")
    np.testing.assert_array_equal(logits.prediction, logits.activation.argmax(1))


def test_training_table_has_every_epoch_and_learns(finished):
    frame = tables.read_frame(finished / "results" / "training" / "metrics.parquet", "training")
    assert frame["epoch"].tolist() == [0, 1, 2]
    assert frame["test_accuracy"].iloc[-1] > frame["test_accuracy"].iloc[0]
    assert frame["test_accuracy"].iloc[-1] > 0.8


def test_second_run_does_nothing(finished):
    proc = run(finished, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_a_single_table_reruns_only_its_capture(finished):
    target = "results/activations/epoch_2/z2.parquet"
    (finished / target).unlink()
    assert jobs_planned(run(finished, "-n", target)) == {"capture_activations": 1, "total": 1}
    before = (finished / "results/checkpoints/epoch_2.pt").stat().st_mtime_ns
    run(finished, target)
    assert (finished / target).exists()
    assert (finished / "results/checkpoints/epoch_2.pt").stat().st_mtime_ns == before


def test_asking_for_an_early_epoch_trains_only_that_far(tiny_workdir):
    planned = jobs_planned(run(tiny_workdir, "-n", "results/activations/epoch_1/a2.parquet"))
    assert planned == {
        "prepare_dataset": 1, "train_epoch": 2, "capture_activations": 1, "total": 4,
    }  # fmt: skip


def test_other_dataset_in_the_same_folder_is_refused(finished):
    proc = run(finished, "-n", "--config", "dataset=digits", check=False)
    assert proc.returncode == 1
    assert (
        "results_dir 'results' holds mnist results, but dataset = 'digits'; give this dataset "
        "its own folder, e.g. --config dataset=digits results_dir=results/digits"
    ) in proc.stdout + proc.stderr
