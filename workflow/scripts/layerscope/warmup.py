"""Fill numba's disk cache before the first UMAP and score jobs need it.

umap-learn's and the scores' numba functions are compiled the first time a job calls them and
then cached on disk (``NUMBA_CACHE_DIR``), so only the first jobs after an installation pay for
compiling: 20 to 40 s each, and on a fresh machine the first few UMAP and score jobs start
together and each compiles the same code. So at the beginning of a local run, on a new
installation, the job server (layerscope.jobserver) runs this warm-up in a fork of itself once
its imports are done (or the run starts it as a process, when the server is off), at the lowest
CPU priority, while the epochs train one after another and a core is free: it runs a tiny UMAP
projection and every score once, which compiles what the jobs will load. It does nothing when
a marker says this installation's cache is already filled, and it never affects results (a job
that starts before it ends compiles for itself, as without it).

    python -m layerscope.warmup        # what the workflow starts; safe to run by hand
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from importlib import metadata
from pathlib import Path

LIBRARIES = ("numba", "umap-learn", "pynndescent", "numpy", "scikit-learn")


def cache_dir() -> Path | None:
    folder = os.environ.get("NUMBA_CACHE_DIR")
    return Path(folder) if folder else None


def marker(folder: Path) -> Path:
    """The file that says this installation's code is compiled into ``folder``."""
    here = Path(__file__).resolve().parent
    key = hashlib.sha1()
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            key.update(f"{name}={metadata.version(name)};".encode())
    for source in ("metrics.py", "projections.py"):
        key.update((here / source).read_bytes())
    key.update(sys.executable.encode())
    return folder / f"layerscope-warm-{key.hexdigest()[:16]}"


def needed() -> bool:
    """Whether there is a cache folder and this installation's code is not known to be in it."""
    folder = cache_dir()
    return folder is not None and not marker(folder).exists()


def start() -> bool:
    """Start the warm-up in the background unless the cache is known to be warm; whether it
    started. (The job server runs it in a fork of itself instead, after its imports.)"""
    if not needed():
        return False
    from layerscope.jobserver import spawn_module

    spawn_module(["layerscope.warmup"], "warmup", niceness=19)  # only what the jobs leave idle
    return True


def main() -> None:
    folder = cache_dir()
    if folder is None:
        raise SystemExit("NUMBA_CACHE_DIR is not set: there is no cache to fill")
    started = time.perf_counter()
    import numpy as np
    from threadpoolctl import threadpool_limits

    from layerscope.metrics import projection_metrics, representation_metrics
    from layerscope.projections import project

    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    X = (rng.normal(size=(300, 20)) + labels[:, None]).astype(np.float32)
    with threadpool_limits(1):
        xy = project(X, "umap", {"n_epochs": 10}, seed=0, n_jobs=1)[0]
        projection_metrics(X, xy, labels, 10)
        representation_metrics(X, labels, 0, 10)
    folder.mkdir(parents=True, exist_ok=True)
    marker(folder).touch()
    print(f"numba cache {folder} filled in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
