"""What a UMAP job costs in a fresh process, against a fit in an already warm one.

    python benchmarks/bench_umap_startup.py [--n 10000] [--quick]

Each "job" is a new ``python -c`` process that imports LayerScope, reads an activation table
(``--activations``, by default results/activations/epoch_10/a2.parquet, else the MNIST test
pixels written to a temporary table), runs the default UMAP projection and saves the result;
its wall time is measured from outside and includes interpreter start-up. The jobs differ in
numba's disk cache (``NUMBA_CACHE_DIR``: unset, an empty folder, the same folder again) and in
the neighbour search (ours, exact, versus umap's pynndescent). The reference is the faster of
the second and third fit inside one process, after everything is compiled. Target: a job with a
filled cache takes at most 2x the warm fit. Also checks that all jobs with one seed return
identical embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from layerscope.datasets import load_split  # noqa: E402
from layerscope.tables import TableError, read_activations, write_activations  # noqa: E402

DEFAULT_ROOT = Path(os.environ.get("LAYERSCOPE_DATA_ROOT", REPO.parent / "shared" / "data"))
DEFAULT_LAYER = REPO / "results" / "activations" / "epoch_10" / "a2.parquet"

JOB = """
import json, sys
import numpy as np
from layerscope.projections import project
from layerscope.tables import read_activations
table, params, out, fits = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
X = read_activations(table).activation[: int(sys.argv[5])]
report = []
for _ in range(fits):
    Y, info = project(X, "umap", params, seed=0, n_jobs=2)
    report.append({"fit": info["fit_seconds"], "import": info["import_seconds"]})
np.save(out, Y)
print(json.dumps(report))
"""


def job(table, n, out, params=None, cache_dir=None, fits=1) -> tuple[float, list[dict]]:
    """Run one fresh job; its wall seconds and, per fit, ``fit`` and ``import`` seconds."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(REPO / "workflow" / "scripts")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    args = [str(table), json.dumps(params or {}), str(out), str(fits), str(n)]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", JOB, *args], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"UMAP job failed:\n{done.stderr}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def input_table(args, folder: Path) -> Path:
    try:
        if len(read_activations(args.activations).label) >= args.n:
            return args.activations
        print(f"{args.activations} has fewer than {args.n} rows; using MNIST pixels instead")
    except TableError as err:
        print(f"no trained layer ({err}); using MNIST test pixels instead")
    data = load_split("mnist", args.data_root, "test", download=False)
    pixels = data.images.reshape(len(data.images), -1) / 255.0
    path = folder / "pixels.parquet"
    write_activations(path, np.arange(len(pixels)), data.labels, data.labels, pixels, {})
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="rows of the table to project")
    parser.add_argument("--quick", action="store_true", help="smoke run: n=1000, fewer jobs")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT, help="holds MNIST/raw")
    parser.add_argument("--activations", type=Path, default=DEFAULT_LAYER)
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table = input_table(args, tmp)
        cache = tmp / "numba_cache"
        rows, outs = [], []

        def run(name, **kw):
            out = tmp / f"{len(outs)}.npy"
            wall, fits = job(table, args.n, out, **kw)
            outs.append(out)
            rows.append((name, wall, fits))
            print(f"  {name}: {wall:.1f} s", flush=True)

        run("fresh job, NUMBA_CACHE_DIR unset")
        run("fresh job, empty cache folder (fills it)", cache_dir=cache)
        run("fresh job, filled cache folder", cache_dir=cache)
        if not args.quick:
            run("fresh job, filled cache folder (again)", cache_dir=cache)
        run("one process, three fits (filled cache)", cache_dir=cache, fits=3)
        exact_outs = list(outs)
        if not args.quick:
            run(
                "fresh job, umap's own kNN (pynndescent), no cache",
                params={"neighbors": "nndescent"},
            )
        report(args, table, rows, exact_outs)


def report(args, table, rows, outs) -> None:
    warm = next(min(f["fit"] for f in fits[1:]) for _, _, fits in rows if len(fits) > 1)
    print(
        f"\nUMAP default on {args.n} rows of {table}\nwarm fit (fastest of fits 2 and 3 in one "
        f"process): {warm:.1f} s\n"
    )
    print("| job | wall s | UMAP import s | projection s | wall / warm fit |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, fits in rows:
        fit = " + ".join(f"{f['fit']:.1f}" for f in fits)
        ratio = f"{wall / warm:.2f}x" if len(fits) == 1 else "(reference)"
        print(f"| {name} | {wall:.1f} | {fits[0]['import']:.1f} | {fit} | {ratio} |")
    first = np.load(outs[0])
    same = all(np.array_equal(first, np.load(o)) for o in outs[1:])
    print(f"\nexact-kNN jobs give identical embeddings across processes: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
