"""Trustworthy runs: bad data, divergence, interruption, determinism and rerun semantics."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import (
    REPO,
    copy_workdir,
    jobs_planned,
    make_workdir,
    run_tiny,
    write_fake_dataset,
)

from layerscope import tables
from layerscope.datasets import DATASETS, raw_paths

pytestmark = pytest.mark.e2e


def one_error_line(proc) -> str:
    """The single line LayerScope printed for a failed job (and no traceback on the terminal)."""
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines() if line.startswith("LayerScope")]
    assert len(set(lines)) == 1, output[-3000:]
    assert "Traceback" not in output
    return lines[0]


def weights(path):
    return torch.load(path, weights_only=True)["model_state"]


# -- bad data ------------------------------------------------------------------------------


def test_truncated_idx_file_is_named(tmp_path):
    data = write_fake_dataset(tmp_path / "data")
    images = raw_paths(DATASETS["mnist"], data, "test")[0]
    images.write_bytes(images.read_bytes()[:1000])
    work = make_workdir(tmp_path / "work", data)
    proc = run_tiny(work, "results/data/test.parquet", check=False)
    assert proc.returncode != 0
    line = one_error_line(proc)
    assert line.startswith(f"LayerScope error: {images}: 1000 bytes but its header")
    assert "intact copy" in line


def test_missing_files_without_download(tmp_path):
    work = make_workdir(tmp_path / "work", tmp_path / "empty")
    proc = run_tiny(work, "results/data/test.parquet", check=False)
    line = one_error_line(proc)
    assert "MNIST files not found" in line and "data_root" in line


@pytest.mark.parametrize("damage", ["nan", "float64"])
def test_damaged_activation_table_is_named(tiny_results, tmp_path, damage):
    work = copy_workdir(tiny_results, tmp_path / "work")
    path = work / "results/activations/epoch_2/a1.parquet"
    table = tables.read_activations(path)
    if damage == "nan":
        table.activation[3, 1] = np.nan
        tables.write_activations(
            path, table.sample, table.label, table.prediction, table.activation, table.meta
        )
        expected = "column 'activation' holds 1 NaN/inf values (first in row 3)"
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        raw = pq.read_table(path)
        wide = pa.FixedSizeListArray.from_arrays(
            pa.array(table.activation.reshape(-1).astype(np.float64)), table.activation.shape[1]
        )
        pq.write_table(raw.set_column(3, "activation", wide), path)
        expected = "column 'activation' has type double, expected float"
    target = "results/projections/pca/epoch_2/a1.parquet"
    proc = run_tiny(work, target, "--force", check=False)
    line = one_error_line(proc)
    assert line.startswith(f"LayerScope error: {path.relative_to(work)}: {expected}")
    assert line.endswith("delete it and rerun the capture_activations rule")


# -- divergence ----------------------------------------------------------------------------


def test_diverging_training_stops_and_keeps_earlier_checkpoints(tmp_path, fake_data_root):
    work = make_workdir(tmp_path / "work", fake_data_root)
    proc = run_tiny(
        work, "results/checkpoints/epoch_2.pt", "--config", "train={optimizer: sgd, lr: 10000}",
        check=False,
    )  # fmt: skip
    line = one_error_line(proc)
    assert line.startswith("LayerScope error: training diverged: loss is ")
    assert "in epoch 1, batch " in line and "rerun with a smaller learning rate" in line
    assert (work / "results/checkpoints/epoch_0.pt").exists()
    assert not (work / "results/checkpoints/epoch_1.pt").exists()
    assert not list((work / "results/checkpoints").glob(".*"))  # no half-written file


# -- interruption --------------------------------------------------------------------------


def start(work, *args):
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
        str(work), "--cores", "2", *args, "--configfile", str(work / "tiny.yaml"),
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def kill_when(proc, ready, timeout=300):
    """SIGKILL the run (its whole process group) as soon as ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "timed out waiting to interrupt"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def restart(work, *args):
    """What a user does after a kill: release Snakemake's stale lock, then run again."""
    run_tiny(work, "--unlock")
    return run_tiny(work, *args)


def test_killed_training_resumes_from_last_epoch_bit_identically(tmp_path, fake_data_root):
    longer = "train:\n  epochs: 4\n  batch_size: 32\n  lr: 0.003\n"
    target = "results/checkpoints/epoch_4.pt"
    work = make_workdir(tmp_path / "killed", fake_data_root, longer)
    checkpoints = work / "results/checkpoints"
    # Epoch 2's last output on disk means epochs 0 and 1 are complete in Snakemake's records
    # (it starts epoch 2 only then); epoch 2 itself may be cut off before it is recorded.
    kill_when(start(work, target), lambda: (work / "results/training/epoch_2.json").exists())
    assert not (checkpoints / "epoch_4.pt").exists()
    assert not list(checkpoints.glob(".*"))  # the killed epoch left no partial file
    done = ["epoch_0.pt", "epoch_1.pt"]
    stamps = {name: (checkpoints / name).stat().st_mtime_ns for name in done}

    planned = jobs_planned(run_tiny(work, "-n", target))
    assert planned["train_epoch"] in (2, 3)  # epochs 3 and 4, and 2 if it was cut off
    restart(work, target)
    assert {name: (checkpoints / name).stat().st_mtime_ns for name in done} == stamps

    straight = make_workdir(tmp_path / "straight", fake_data_root, longer)
    run_tiny(straight, target)
    a, b = weights(checkpoints / "epoch_4.pt"), weights(straight / target)
    assert all(torch.equal(a[key], b[key]) for key in a)


def is_independent(path):
    return not path.name.endswith(".aligned.parquet")


def test_killed_projections_rerun_only_the_incomplete(tiny_results, tmp_path):
    work = copy_workdir(tiny_results, tmp_path / "work")
    folder = work / "results/projections"
    for path in folder.rglob("*.parquet"):
        path.unlink()
    wanted = len(
        [p for p in (tiny_results / "results/projections").rglob("*.parquet") if is_independent(p)]
    )
    kill_when(start(work), lambda: len(list(folder.rglob("*.parquet"))) >= 5)
    kept = {p: p.stat().st_mtime_ns for p in folder.rglob("*.parquet")}
    for path in kept:  # every file there is complete and readable
        tables.read_projection(path)
    planned = jobs_planned(run_tiny(work, "-n"))
    assert "train_epoch" not in planned and "capture_activations" not in planned
    independent = [p for p in kept if is_independent(p)]
    # Only what is missing is planned (plus a job that was cut off before Snakemake recorded it).
    assert wanted - len(independent) <= planned["project_layer"] <= wanted - len(independent) + 2
    restart(work)
    redone = [p for p in independent if p.stat().st_mtime_ns != kept[p]]
    assert len(redone) <= 2, redone  # at most the jobs running (2 cores) when it was killed
    assert len(list(folder.rglob("*.parquet"))) == 2 * wanted


# -- determinism ---------------------------------------------------------------------------

SOME = [
    "results/activations/epoch_2/a1.parquet",
    "results/projections/pca/epoch_2/a1.parquet",
    "results/projections/tsne/epoch_2/a1.parquet",
    "results/projections/umap/epoch_2/a1.parquet",
]


def test_same_seed_same_bytes_other_seed_other_values(tiny_results, tmp_path, fake_data_root):
    again = make_workdir(tmp_path / "again", fake_data_root)
    other = make_workdir(tmp_path / "other", fake_data_root, "seed: 1\n")
    run_tiny(again, *SOME)
    run_tiny(other, *SOME)
    first = tiny_results / SOME[0]
    assert (again / SOME[0]).read_bytes() == first.read_bytes()
    assert (other / SOME[0]).read_bytes() != first.read_bytes()
    for target in SOME[1:]:
        a, b = tables.read_projection(tiny_results / target), tables.read_projection(again / target)
        np.testing.assert_array_equal(a.xy, b.xy, err_msg=target)
        assert not np.array_equal(a.xy, tables.read_projection(other / target).xy), target


# -- rerun semantics -----------------------------------------------------------------------

PLOTS = {"plot_pair", "plot_grid", "plot_metric_curves", "plot_metric_heatmap", "plot_fit_time",
         "plot_training", "plot_tsne_scaling", "build_report", "all", "total"}  # fmt: skip


def rules_planned(work, *config):
    return jobs_planned(run_tiny(work, "-n", "--config", *config))


def test_nothing_to_do_after_a_complete_run(tiny_results):
    proc = run_tiny(tiny_results, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_plot_option_reruns_only_figures_and_report(tiny_results):
    planned = rules_planned(tiny_results, "plots={alpha: 0.5}")
    assert planned and set(planned) <= PLOTS and "build_report" in planned


def test_projection_parameter_reruns_only_that_method(tiny_results):
    planned = rules_planned(tiny_results, "projection={tsne: {perplexity: 8}}")
    assert planned["project_layer"] == 2 * 6  # t-SNE's 2 epochs x 6 layers, no other method
    assert planned["align_projections"] == 6
    assert set(planned) <= PLOTS | {"project_layer", "align_projections", "collect_metrics"}


def test_model_change_reruns_everything(tiny_results):
    planned = rules_planned(tiny_results, "model={hidden: [32, 8]}")
    assert planned["train_epoch"] == 3 and planned["capture_activations"] == 2
    assert planned["project_layer"] == 3 * 2 * 6 and planned["score_layer"] == 2 * 6
