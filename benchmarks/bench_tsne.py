"""How fast and how good LayerScope's default t-SNE is, next to scikit-learn's, openTSNE's and UMAP.

    python benchmarks/bench_tsne.py [--n 10000] [--quick] [--threads 2]

Part 1, on ``n`` MNIST test images (pixels / 255) and on a trained 256-wide layer
(``--activations``, by default results/activations/epoch_10/a2.parquet; skipped, saying why,
when missing): wall time, trustworthiness (k=10), 2-D kNN accuracy (k=10) and the speed-up
against ``sklearn.manifold.TSNE(n_components=2, random_state=seed)`` run side by side in this
process. Part 2: wall time for growing n (training images beyond the 10,000 test images) of
scikit-learn's default t-SNE, ours with each backend (openTSNE, scikit-learn) and PCA, also
written to ``--csv`` (results/benchmarks/tsne_scaling.csv), which the workflow then draws as the
report's t-SNE scaling figure. Every
method gets the same thread count: ``--threads`` for BLAS/OpenMP pools and ``n_jobs`` (seeded
UMAP still optimises on one thread, as umap-learn forces). UMAP's numba code is compiled
before timing (see bench_umap_startup.py for start-up cost). On a busy machine compare ratios,
not seconds, and use --repeat.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

from layerscope.datasets import load_split  # noqa: E402
from layerscope.metrics import knn_accuracy, trustworthiness  # noqa: E402
from layerscope.projections import project  # noqa: E402
from layerscope.tables import TableError, read_activations  # noqa: E402

DEFAULT_ROOT = Path(os.environ.get("LAYERSCOPE_DATA_ROOT", REPO.parent / "shared" / "data"))
DEFAULT_LAYER = REPO / "results" / "activations" / "epoch_10" / "a2.parquet"


def sklearn_default(X, seed, threads):
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, random_state=seed, n_jobs=threads).fit_transform(X)


def opentsne_default(X, seed, threads):
    from openTSNE import TSNE

    return np.asarray(TSNE(random_state=seed, n_jobs=threads).fit(X))


def ours(method, params=None):
    def run(X, seed, threads):
        return project(X, method, params or {}, seed=seed, n_jobs=threads)[0]

    return run


# our settings (perplexity 40, PCA-50, 250 + 250 iterations) on scikit-learn's Barnes-Hut
OURS_SKLEARN = ours("tsne", {"backend": "sklearn", "negative_gradient_method": "bh"})
CONTENDERS = {
    "sklearn TSNE default": sklearn_default,
    "LayerScope t-SNE default": ours("tsne"),
    "openTSNE TSNE default": opentsne_default,
    "LayerScope UMAP default": ours("umap"),
    "LayerScope PCA": ours("pca"),
}


def timed(fn, X, seed, threads, repeat=1) -> tuple[np.ndarray, float]:
    """The embedding and the fastest wall time of ``repeat`` seeded (identical) runs."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        Y = fn(X, seed, threads)
        best = min(best, time.perf_counter() - start)
    return Y, best


def mnist(root: Path, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    data = load_split("mnist", root, split, download=False)
    if n > len(data.labels):
        raise SystemExit(f"--n {n}: the MNIST {split} split has only {len(data.labels)} images")
    images = data.images[:n].reshape(n, -1).astype(np.float32) / 255.0
    return images, data.labels[:n]


def datasets(args) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = [("MNIST test pixels", *mnist(args.data_root, "test", args.n))]
    try:
        table = read_activations(args.activations)
    except TableError as err:
        print(f"skipped the trained-layer dataset: {err}\n")
        return out
    if len(table.label) < args.n:
        print(f"skipped {args.activations}: {len(table.label)} rows, fewer than --n {args.n}\n")
        return out
    width = table.activation.shape[1]
    name = f"{table.meta.get('layer', 'layer')} epoch {table.meta.get('epoch', '?')} ({width}-d)"
    out.append((name, table.activation[: args.n], table.label[: args.n]))
    return out


def head_to_head(args) -> None:
    runs = f"best of {args.repeat} runs" if args.repeat > 1 else "one run each"
    print(f"== Part 1: n = {args.n}, {args.threads} threads, seed {args.seed}, {runs}\n")
    for name, X, labels in datasets(args):
        rows, base = [], None
        for contender, fn in CONTENDERS.items():
            Y, seconds = timed(fn, X, args.seed, args.threads, args.repeat)
            trust = trustworthiness(X, Y, 10)
            acc = knn_accuracy(Y, labels, 10)
            base = base or (seconds, trust, acc)
            rows.append(
                (contender, seconds, base[0] / seconds, trust, trust - base[1], acc, acc - base[2])
            )
            print(f"  {contender}: {seconds:.1f} s", flush=True)
        print(f"\n{name}, {X.shape[0]} x {X.shape[1]}")
        print("| method | wall s | speed-up vs sklearn | trust k=10 | delta | kNN acc | delta |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print("| {} | {:.1f} | {:.2f}x | {:.4f} | {:+.4f} | {:.4f} | {:+.4f} |".format(*row))
        print()


def scaling(args) -> None:
    sizes = [500, 1000, 2000] if args.quick else [2500, 5000, 10000, 20000]
    print(f"== Part 2: wall time in seconds by n ({args.threads} threads)\n")
    print(
        "| n | images | sklearn TSNE default | LayerScope t-SNE (openTSNE) | ratio "
        "| LayerScope t-SNE, backend sklearn | PCA |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    # The table the workflow's t-SNE scaling figure draws (rows added as each n finishes).
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    args.csv.write_text("method,backend,n,seconds\n")
    for n in sizes:
        split = "test" if n <= 10000 else "train"
        X, _ = mnist(args.data_root, split, n)
        t_sk = timed(sklearn_default, X, args.seed, args.threads, args.repeat)[1]
        t_us = timed(ours("tsne"), X, args.seed, args.threads, args.repeat)[1]
        t_bh = timed(OURS_SKLEARN, X, args.seed, args.threads, args.repeat)[1]
        t_pca = timed(ours("pca"), X, args.seed, args.threads, args.repeat)[1]
        print(
            f"| {n} | {split} | {t_sk:.1f} | {t_us:.1f} | {t_sk / t_us:.2f}x | {t_bh:.1f} "
            f"| {t_pca:.2f} |",
            flush=True,
        )
        with args.csv.open("a") as table:
            for method, backend, seconds in (
                ("tsne", "scikit-learn defaults", t_sk),
                ("tsne", "opentsne", t_us),
                ("tsne", "sklearn", t_bh),
                ("pca", "pca", t_pca),
            ):
                table.write(f"{method},{backend},{n},{seconds:.4f}\n")
    print(f"wrote {args.csv}: the report's t-SNE scaling figure (snakemake draws it next run)\n")


def warm_up(threads: int) -> None:
    """Compile numba code (UMAP, metrics) and load libraries outside every timed call."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20)).astype(np.float32)
    Y = project(X, "umap", {"n_epochs": 10}, seed=0, n_jobs=threads)[0]
    trustworthiness(X, Y, 10)
    knn_accuracy(Y, np.arange(300) % 3, 10)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="points in part 1")
    parser.add_argument("--quick", action="store_true", help="smoke run: n=1500, small scaling")
    parser.add_argument("--threads", type=int, default=2, help="threads for every method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT, help="holds MNIST/raw")
    parser.add_argument("--activations", type=Path, default=DEFAULT_LAYER)
    parser.add_argument("--skip-scaling", action="store_true", help="part 1 only")
    parser.add_argument(
        "--csv", type=Path, default=REPO / "results" / "benchmarks" / "tsne_scaling.csv",
        help="where part 2 writes its table (the report's t-SNE scaling figure reads it)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per timing, the fastest counts (noisy hosts)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 1500)
    with threadpool_limits(args.threads):
        warm_up(args.threads)
        head_to_head(args)
        if not args.skip_scaling:
            scaling(args)


if __name__ == "__main__":
    main()
