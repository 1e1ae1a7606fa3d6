"""Shared fixtures: tiny MNIST-format data written by the tests, and a Snakemake runner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerscope.datasets import IDX_FILES
from layerscope.idx import write_idx
from layerscope.tables import read_projection

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "tests" / "config" / "tiny.yaml"


def real_mnist_root() -> Path | None:
    """The folder holding MNIST/raw (env LAYERSCOPE_DATA_ROOT, else ../shared/data), or None."""
    root = Path(os.environ.get("LAYERSCOPE_DATA_ROOT", REPO.parent / "shared" / "data"))
    return root if (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").exists() else None


def synthetic_images(n: int, seed: int, shape=(28, 28), n_classes: int = 10):
    """Learnable fake digits: class c lights a bar at a class-specific place, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    h, w = shape
    images = rng.integers(0, 60, size=(n, h, w), dtype=np.uint8)
    for i, c in enumerate(labels):
        row = (c * h) // n_classes
        images[i, row : row + max(1, h // n_classes), :] = 255
        images[i, :, (c * w) // n_classes] = 200
    return images, labels.astype(np.uint8)


def write_fake_dataset(root: Path, folder: str = "MNIST", n_train=600, n_test=200, gz=False):
    """Write a tiny dataset in torchvision's layout: <root>/<folder>/raw/*-idx?-ubyte."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", n_train, 1), ("test", n_test, 2)):
        images, labels = synthetic_images(n, seed)
        suffix = ".gz" if gz else ""
        write_idx(raw / (IDX_FILES[split][0] + suffix), images)
        write_idx(raw / (IDX_FILES[split][1] + suffix), labels)
    return root


@pytest.fixture
def fake_data_root(tmp_path) -> Path:
    return write_fake_dataset(tmp_path / "data")


def snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: int = 900, env: dict | None = None
):
    """Run the real workflow (this repository's Snakefile) in ``workdir``."""
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--cores", "2", *args,
    ]  # fmt: skip
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc


def jobs_planned(proc) -> dict[str, int]:
    """Jobs per rule from the table Snakemake prints for a (dry) run, ``total`` included."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", proc.stdout, re.M)}


def make_workdir(folder: Path, data_root: Path, extra: str = "") -> Path:
    """A working folder holding tiny.yaml (plus ``extra`` YAML lines) for ``data_root``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(TINY_CONFIG.read_text() + f"data_root: {data_root}\n" + extra)
    return folder


def run_tiny(work: Path, *args: str, **kwargs):
    """Snakemake on ``work``'s tiny.yaml; --configfile goes last as it takes several values."""
    return snakemake(work, *args, "--configfile", str(work / "tiny.yaml"), **kwargs)


@pytest.fixture(scope="session")
def tiny_results(tmp_path_factory) -> Path:
    """One complete run of the tiny workflow, shared by every test that only reads it.

    Tests that change files work on a copy (:func:`copy_workdir`).
    """
    base = tmp_path_factory.mktemp("tiny_results")
    work = make_workdir(base / "work", write_fake_dataset(base / "data"))
    run_tiny(work)
    return work


def copy_workdir(work: Path, destination: Path) -> Path:
    """A copy of a finished working folder (outputs, times and Snakemake's records)."""
    shutil.copytree(work, destination, symlinks=True)
    return destination


@pytest.fixture
def tiny_workdir(tmp_path, fake_data_root) -> Path:
    """A working folder with the tiny config pointing at freshly written fake MNIST."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(TINY_CONFIG, work / "tiny.yaml")
    with (work / "tiny.yaml").open("a") as f:
        f.write(f"data_root: {fake_data_root}\n")
    return work


def compare_outputs(local, remote):
    """Every table and checkpoint of the run in ``remote`` equals the one in ``local``."""
    parquet = sorted(p.relative_to(local) for p in local.rglob("*.parquet"))
    assert parquet == sorted(p.relative_to(remote) for p in remote.rglob("*.parquet"))
    for path in parquet:
        if path.parts[0] == "activations":
            assert (local / path).read_bytes() == (remote / path).read_bytes(), path
        elif path.parts[0] == "projections":
            a, b = read_projection(local / path), read_projection(remote / path)
            np.testing.assert_array_equal(a.xy, b.xy, err_msg=str(path))
    import torch  # imported here: most tests never need it

    for ckpt in sorted(local.glob("checkpoints/*.pt")):
        a = torch.load(ckpt, weights_only=True)["model_state"]
        b = torch.load(remote / "checkpoints" / ckpt.name, weights_only=True)["model_state"]
        assert all(torch.equal(a[k], b[k]) for k in a), ckpt.name
