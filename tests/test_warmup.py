"""The numba warm-up (layerscope.warmup): a local run fills an empty cache once, in the
background, and leaves a filled one alone."""

import os
import time

import pytest

from layerscope import warmup


@pytest.mark.e2e
def test_warmup_fills_an_empty_cache_once(tmp_path, monkeypatch):
    cache = tmp_path / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    monkeypatch.chdir(tmp_path)
    assert warmup.start()  # empty cache: started in the background
    marker = warmup.marker(cache)
    deadline = time.monotonic() + 600
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    log = (tmp_path / ".snakemake" / "layerscope-warmup.log").read_text()
    assert marker.exists(), log
    assert f"numba cache {cache} filled in " in log
    compiled = {p.name.split(".")[0] for p in cache.rglob("*.nbi")}
    assert {"metrics", "umap_"} <= compiled, compiled  # ours and umap-learn's
    assert not warmup.start()  # filled: nothing to do


def test_no_warmup_without_a_cache_folder(monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert warmup.cache_dir() is None
    assert not warmup.start()


def test_the_marker_changes_with_the_installation(tmp_path, monkeypatch):
    first = warmup.marker(tmp_path)
    monkeypatch.setattr(warmup.sys, "executable", os.path.join("elsewhere", "python"))
    assert warmup.marker(tmp_path) != first
