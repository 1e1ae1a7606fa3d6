"""The figures: projections side by side, epoch-by-layer grids, metric curves, runtimes, training.

Every ``*_figure`` function takes projection tables or data frames and returns a
:class:`matplotlib.figure.Figure`; :func:`save` writes one. Figures are built on ``Figure``
directly, never through ``pyplot``: nothing here selects a backend or touches global state,
and saving a PNG always goes through Agg. Scatter points are rasterised, so an SVG of 30,000
points stays small. Seaborn is not used: its import alone costs a plot job more than drawing.

One palette colours classes in every figure: :data:`PALETTE`, matplotlib's ``petroff10``
(Petroff 2021, chosen for distinctness under colour-vision deficiencies), fixed here so that
figures look the same with any matplotlib version.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter
from PIL import Image

from layerscope.config import METHODS
from layerscope.datasets import DATASETS
from layerscope.files import atomic_path
from layerscope.report import (
    METHOD_LABELS,
    METRIC_LABELS,
    PALETTE,
    layer_rank,
    neighbours,
)
from layerscope.tables import ProjectionTable

# Methods keep one colour in every figure that compares them.
METHOD_COLORS = {
    "pca": PALETTE[0],
    "tsne": PALETTE[6],
    "umap": PALETTE[4],
    "representation": "#444",
}
# t-SNE backends in the scaling figure: orange (the method's colour), then red, brown, khaki.
TSNE_COLORS = (PALETTE[6], PALETTE[2], PALETTE[5], PALETTE[7])
FORMATS = ("png", "svg")

PANEL_IN = 4.0  # side of one embedding panel in a pair figure, inches
GRID_PANEL_IN = 1.6  # side of one panel in a grid
LEGEND_IN = 1.7  # room for the class legend
FAINT = "#c8c8c8"


@dataclass(frozen=True)
class PlotOptions:
    """How figures look (the config's ``plots`` section); nothing here changes a number.

    Attributes
    ----------
    format : str
        ``"png"`` or ``"svg"``.
    dpi : int
        Pixels per inch of PNGs (130 gives a 1,900-pixel-wide pair of three panels).
    point_size : float
        Scatter marker area in points^2 in pair figures; grids use half of it.
    alpha : float
        Scatter opacity, in (0, 1].
    font_size : float
        Base font size in points; titles are 1 to 3 points larger.
    png_colors : int
        Colours of a PNG's palette (2 to 256): 256 makes files about 3x smaller and looks the
        same (largest channel error measured: 13 of 255); 0 keeps full 24-bit colour. Heat
        maps always keep full colour: a palette would band their colour scale.
    """

    format: str = "png"
    dpi: int = 130
    point_size: float = 3.0
    alpha: float = 0.3
    font_size: float = 11.0
    png_colors: int = 256

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"plots.format = {self.format!r}; choose one of {FORMATS}")
        if not 0 < self.alpha <= 1:
            raise ValueError(f"plots.alpha = {self.alpha}; it must be in (0, 1]")
        if self.png_colors != 0 and not 2 <= self.png_colors <= 256:
            raise ValueError(f"plots.png_colors = {self.png_colors}; use 0 or 2 to 256")

    @classmethod
    def from_config(cls, section: Mapping | None) -> PlotOptions:
        """Build from the config's ``plots`` mapping, rejecting keys this version does not know."""
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"unknown plot options {unknown}; known: {sorted(known)}")
        return cls(**section)


DEFAULT = PlotOptions()


def _rc(options: PlotOptions) -> dict:
    size = options.font_size
    return {
        "font.size": size,
        "axes.titlesize": size + 1,
        "axes.labelsize": size,
        "xtick.labelsize": size - 1,
        "ytick.labelsize": size - 1,
        "legend.fontsize": size - 1,
        "legend.title_fontsize": size,
        "figure.titlesize": size + 3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#555555",
        "axes.grid": True,
        "grid.color": "#e6e6e6",
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=PALETTE),
        "legend.frameon": False,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "svg.hashsalt": "layerscope",  # identical SVG ids on every run
    }


def _styled(func):
    """Build the figure inside the house style (not the caller's rcParams)."""

    @functools.wraps(func)
    def wrapper(*args, options: PlotOptions = DEFAULT, **kwargs):
        with matplotlib.rc_context(_rc(options)):
            return func(*args, options=options, **kwargs)

    return wrapper


def save(fig: Figure, path: str | Path, options: PlotOptions = DEFAULT) -> None:
    """Write ``fig`` atomically in ``options.format`` at ``options.dpi`` (no timestamps).

    PNGs get a palette of ``options.png_colors`` colours (Pillow's max-coverage quantiser keeps
    white exact and every colour within a few levels), unless that is 0.
    """
    metadata = {"Date": None} if options.format == "svg" else {}
    with matplotlib.rc_context(_rc(options)), atomic_path(path) as tmp:
        # A palette would band a continuous colour scale: heat maps keep full colour.
        gradient = any(ax.images for ax in fig.axes)
        if options.format != "png" or not options.png_colors or gradient:
            fig.savefig(tmp, format=options.format, dpi=options.dpi, metadata=metadata)
            return
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=options.dpi)
        image = Image.open(buffer).convert("RGB")
        quantized = image.quantize(
            options.png_colors, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
        )
        quantized.save(tmp, format="PNG", dpi=(options.dpi, options.dpi))


# -- helpers --------------------------------------------------------------------------------------


def ordered_methods(methods) -> list[str]:
    """``methods`` in panel order (pca, tsne, umap); an unknown name is an error."""
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown projection methods {unknown}; known: {list(METHODS)}")
    return [m for m in METHODS if m in set(methods)]


def class_colors(labels: np.ndarray) -> np.ndarray:
    """``(n, 4)`` RGBA rows, class ``c`` in ``PALETTE[c]``."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= len(PALETTE)):
        raise ValueError(
            f"class labels must lie in 0..{len(PALETTE) - 1} for the {len(PALETTE)}-colour "
            f"palette; got {labels.min()}..{labels.max()}"
        )
    return to_rgba_array(PALETTE)[labels]


def _dataset_title(meta: Mapping) -> str:
    name = meta.get("dataset", "")
    return DATASETS[name].title if name in DATASETS else str(name)


def _same_meta(tables: Sequence[ProjectionTable], key: str):
    values = {repr(t.meta.get(key)) for t in tables}
    if len(values) > 1:
        raise ValueError(f"projection tables disagree on {key!r}: {sorted(values)}")
    return tables[0].meta.get(key)


def _draw_order(n: int) -> np.ndarray:
    """A fixed shuffle, so that no class is always drawn on top of the others."""
    return np.random.default_rng(0).permutation(n)


def _embedding(ax, xy: np.ndarray, labels: np.ndarray, size: float, alpha: float) -> None:
    order = _draw_order(len(xy))
    ax.scatter(
        xy[order, 0],
        xy[order, 1],
        c=class_colors(labels)[order],
        s=size,
        alpha=alpha,
        linewidths=0,
        rasterized=True,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_aspect("equal", adjustable="datalim")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(FAINT)


def _class_legend(fig: Figure, class_names: Sequence[str], **kwargs):
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, color=PALETTE[i], label=name)
        for i, name in enumerate(class_names)
    ]
    return fig.legend(handles=handles, title="class", handletextpad=0.2, **kwargs)


def _epoch_colors(epochs: Sequence[int]) -> dict[int, tuple]:
    cmap = matplotlib.colormaps["viridis"]
    # From green to dark violet: the first epoch stays visible on white, the last stands out.
    spots = np.linspace(0.75, 0.0, len(epochs)) if len(epochs) > 1 else [0.0]
    return {e: cmap(s) for e, s in zip(epochs, spots, strict=True)}


def _plain_log(*axes) -> None:
    """Log-scale ticks as plain numbers (0.5, 2, 100), not powers of ten."""
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())


def _layers(frame) -> list[str]:
    return sorted(frame["layer"].unique(), key=layer_rank)


# -- projections ----------------------------------------------------------------------------------


@_styled
def pair_figure(
    panels: Mapping[str, ProjectionTable],
    knn: Mapping[str, float] | None = None,
    *,
    options: PlotOptions = DEFAULT,
) -> Figure:
    """One (epoch, layer) side by side in every method: PCA, t-SNE, UMAP (those given).

    Parameters
    ----------
    panels : mapping
        Method name to its projection table; all of one epoch and layer.
    knn : mapping, optional
        Method name to its 2-D k-NN accuracy, shown in the panel's title.
    """
    methods = ordered_methods(panels)
    if not methods:
        raise ValueError("pair_figure needs at least one projection table")
    tables = [panels[m] for m in methods]
    epoch, layer = _same_meta(tables, "epoch"), _same_meta(tables, "layer")
    class_names = _same_meta(tables, "class_names")
    n = len(methods)
    fig = Figure(figsize=(PANEL_IN * n + LEGEND_IN, PANEL_IN + 0.9), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, method, table in zip(axes, methods, tables, strict=True):
        _embedding(ax, table.xy, table.label, options.point_size, options.alpha)
        title = METHOD_LABELS[method]
        if knn is not None and method in knn:
            title += f"   2-D k-NN accuracy {knn[method]:.3f}"
        ax.set_title(title)
    _class_legend(fig, class_names, loc="outside right center")
    n_points = f"{len(tables[0].label):,} points"
    fig.suptitle(f"Epoch {epoch}, layer {layer}  ({_dataset_title(tables[0].meta)}, {n_points})")
    return fig


@_styled
def grid_figure(
    tables: Sequence[ProjectionTable],
    knn: Mapping[tuple[int, str], float] | None = None,
    *,
    options: PlotOptions = DEFAULT,
) -> Figure:
    """One method's embeddings: a row per epoch, a column per layer (network order).

    Pass the Procrustes-aligned tables, so that clusters keep their place from row to row;
    every column shares its axis limits, so growth and shrinkage stay visible.
    ``knn`` maps ``(epoch, layer)`` to the 2-D k-NN accuracy printed in the panel's corner.
    """
    if not tables:
        raise ValueError("grid_figure needs at least one projection table")
    method = _same_meta(tables, "method")
    class_names = _same_meta(tables, "class_names")
    cells = {(t.meta["epoch"], t.meta["layer"]): t for t in tables}
    epochs = sorted({e for e, _ in cells})
    layers = sorted({lay for _, lay in cells}, key=layer_rank)
    left, top, bottom, right = 0.45, 0.85, 0.15, LEGEND_IN
    width = left + GRID_PANEL_IN * len(layers) + right
    height = top + GRID_PANEL_IN * len(epochs) + bottom
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(
        len(epochs),
        len(layers),
        squeeze=False,
        gridspec_kw={
            "left": left / width,
            "right": 1 - right / width,
            "top": 1 - top / height,
            "bottom": bottom / height,
            "wspace": 0.05,
            "hspace": 0.05,
        },
    )
    for col, layer in enumerate(layers):
        column = [cells[e, layer].xy for e in epochs if (e, layer) in cells]
        lo, hi = np.min([c.min(0) for c in column], 0), np.max([c.max(0) for c in column], 0)
        # One square window per column (equal axis units), a little larger than its data.
        centre, half = (lo + hi) / 2, 0.52 * max(float(np.max(hi - lo)), 1e-9)
        for row, epoch in enumerate(epochs):
            ax = axes[row, col]
            table = cells.get((epoch, layer))
            if table is None:
                ax.set_axis_off()
                continue
            _embedding(ax, table.xy, table.label, options.point_size / 2, options.alpha)
            ax.set_aspect("equal", adjustable="box")
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] - half, centre[1] + half)
            if knn is not None and (epoch, layer) in knn:
                ax.text(
                    0.04,
                    0.04,
                    f"{knn[epoch, layer]:.2f}",
                    transform=ax.transAxes,
                    fontsize=options.font_size - 2,
                    color="#333333",
                )
            if row == 0:
                ax.set_title(layer)
            if col == 0:
                ax.set_ylabel(f"epoch {epoch}")
    _class_legend(
        fig, class_names, loc="center left", bbox_to_anchor=(1 - right / width + 0.01, 0.5)
    )
    knn_note = "; corner: 2-D k-NN accuracy" if knn else ""
    fig.suptitle(
        f"{METHOD_LABELS[method]} of each layer (columns) at each epoch (rows), aligned "
        f"across epochs{knn_note}",
        x=left / width,
        ha="left",
    )
    return fig


# -- metrics --------------------------------------------------------------------------------------


def _line_panel(ax, frame, column: str, epoch_colors: dict, layers: list[str]) -> None:
    x = {layer: i for i, layer in enumerate(layers)}
    for epoch, rows in frame.groupby("epoch"):
        rows = rows.dropna(subset=[column]).sort_values("layer", key=lambda s: s.map(layer_rank))
        ax.plot(
            rows["layer"].map(x),
            rows[column],
            marker="o",
            markersize=4,
            color=epoch_colors[epoch],
            label=f"{epoch}",
        )
    ax.set_xticks(range(len(layers)), layers, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.4, len(layers) - 0.6)


@_styled
def metric_curves_figure(summary, *, options: PlotOptions = DEFAULT) -> Figure:
    """Class separation against depth, one line per epoch.

    Top row: 2-D k-NN accuracy of each method, then the full-dimensional k-NN accuracy;
    bottom row: each method's trustworthiness, then the linear-probe accuracy. ``summary`` is
    the collected metrics table (columns ``method``, ``epoch``, ``layer`` and the scores).
    """
    methods = ordered_methods(set(summary["method"]) - {"representation"})
    rep = summary[summary["method"] == "representation"]
    columns = [*methods, *(["representation"] if len(rep) else [])]
    if not columns:
        raise ValueError("metric_curves_figure: the metrics table has no rows")
    layers = _layers(summary)
    epoch_colors = _epoch_colors(sorted(summary["epoch"].unique()))
    fig = Figure(figsize=(3.3 * len(columns) + 1.0, 7.0), layout="constrained")
    axes = fig.subplots(2, len(columns), squeeze=False, sharex=True, sharey="row")
    for col, method in enumerate(columns):
        rows = summary[summary["method"] == method]
        bottom = "linear_probe_accuracy" if method == "representation" else "trustworthiness"
        for row, column in enumerate(("knn_accuracy", bottom)):
            ax = axes[row, col]
            _line_panel(ax, rows, column, epoch_colors, layers)
            what = "full-dimensional" if method == "representation" else "2-D " + method
            what = what.replace(method, METHOD_LABELS.get(method, method))
            ax.set_title(f"{what}\n{METRIC_LABELS[column]}", fontsize=options.font_size)
        axes[0, col].tick_params(labelbottom=True)
    axes[0, 0].set_ylabel(f"k-NN accuracy (k = {neighbours(summary)})")
    axes[1, 0].set_ylabel("trustworthiness / probe acc.")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title="epoch", loc="outside right center")
    fig.suptitle("Class separation by layer: higher is better")
    return fig


@_styled
def heatmap_figure(summary, metric: str, *, options: PlotOptions = DEFAULT) -> Figure:
    """A layer x epoch heat map of ``metric``, one panel per method that has it."""
    if metric not in summary.columns:
        raise ValueError(f"the metrics table has no column {metric!r}")
    rows = summary.dropna(subset=[metric])
    methods = [m for m in (*METHODS, "representation") if m in set(rows["method"])]
    if not methods:
        raise ValueError(f"heatmap_figure: no values of {metric!r} in the metrics table")
    layers, epochs = _layers(rows), sorted(rows["epoch"].unique())
    values = rows[metric].to_numpy(dtype=float)
    vmin, vmax = float(values.min()), float(values.max())
    cell_h = 0.42
    fig = Figure(
        figsize=(0.78 * len(layers) + 2.6, len(methods) * (cell_h * len(epochs) + 0.9) + 0.9),
        layout="constrained",
    )
    axes = fig.subplots(len(methods), 1, squeeze=False)[:, 0]
    cmap = matplotlib.colormaps["viridis"]
    for ax, method in zip(axes, methods, strict=True):
        table = rows[rows["method"] == method].pivot_table(
            index="epoch", columns="layer", values=metric, aggfunc="first"
        )
        grid = table.reindex(index=epochs, columns=layers).to_numpy(dtype=float)
        image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                shade = (value - vmin) / (vmax - vmin) if vmax > vmin else 1.0
                ax.text(
                    j,
                    i,
                    f"{value:.3f}",
                    ha="center",
                    va="center",
                    fontsize=options.font_size - 2,
                    color="black" if shade > 0.55 else "white",
                )
        ax.set_xticks(range(len(layers)), layers)
        ax.set_yticks(range(len(epochs)), [str(e) for e in epochs])
        ax.set_ylabel("epoch")
        ax.grid(False)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(
            METHOD_LABELS.get(method, method)
            if method != "representation"
            else "full-dimensional activations",
            loc="left",
        )
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=METRIC_LABELS.get(metric, metric))
    label = METRIC_LABELS.get(metric, metric)
    fig.suptitle(f"{label[:1].upper()}{label[1:]} by layer and epoch")
    return fig


# -- runtime --------------------------------------------------------------------------------------


def read_benchmarks(paths: Sequence[str | Path]):
    """Snakemake benchmark TSVs of ``.../{method}/epoch_{epoch}/{layer}.tsv`` as one frame.

    Returns columns ``method``, ``epoch``, ``layer``, ``seconds`` (wall time of the whole job),
    ``max_rss`` (MiB) and ``cpu_time`` (s); the mean over repeats where a file holds several.
    """
    import pandas as pd

    rows = []
    for path in map(Path, paths):
        match = re.fullmatch(r"epoch_(\d+)", path.parent.name)
        if match is None:
            raise ValueError(
                f"{path}: expected a benchmark path .../<method>/epoch_<e>/<layer>.tsv"
            )
        data = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        rows.append(
            {
                "method": path.parent.parent.name,
                "epoch": int(match[1]),
                "layer": path.stem,
                "seconds": float(data["s"].mean()),
                "max_rss": float(data["max_rss"].mean()),
                "cpu_time": float(data["cpu_time"].mean()),
            }
        )
    return pd.DataFrame(
        rows, columns=["method", "epoch", "layer", "seconds", "max_rss", "cpu_time"]
    )


@_styled
def fit_time_figure(summary, benchmarks=None, *, options: PlotOptions = DEFAULT) -> Figure:
    """Seconds per projection, per layer and method: bars = median fit time over epochs (the
    computation alone, whiskers min to max), diamonds = median wall time of the whole job
    (from ``benchmarks``, see :func:`read_benchmarks`; imports and I/O included)."""
    fits = summary[summary["method"].isin(METHODS)].dropna(subset=["fit_seconds"])
    methods = ordered_methods(set(fits["method"]))
    if not methods:
        raise ValueError("fit_time_figure: no fit_seconds in the metrics table")
    layers = _layers(fits)
    width = 0.8 / len(methods)
    fig = Figure(figsize=(max(7.0, 0.85 * len(layers) + 3.0), 4.8), layout="constrained")
    ax = fig.subplots()
    for i, method in enumerate(methods):
        stats = fits[fits["method"] == method].groupby("layer")["fit_seconds"]
        med, lo, hi = (stats.agg(f).reindex(layers) for f in ("median", "min", "max"))
        x = np.arange(len(layers)) + (i - (len(methods) - 1) / 2) * width
        total = fits.loc[fits["method"] == method, "fit_seconds"].sum()
        ax.bar(
            x,
            med,
            width * 0.92,
            color=METHOD_COLORS[method],
            yerr=[med - lo, hi - med],
            error_kw={"elinewidth": 1, "ecolor": "#333"},
            label=f"{METHOD_LABELS[method]} fit (all jobs: {_duration(total)})",
        )
        if benchmarks is not None and len(benchmarks):
            wall = benchmarks[benchmarks["method"] == method].groupby("layer")["seconds"]
            wall = wall.median().reindex(layers)
            ax.plot(
                x,
                wall,
                linestyle="",
                marker="D",
                markersize=5,
                markerfacecolor="white",
                markeredgecolor=METHOD_COLORS[method],
                markeredgewidth=1.5,
            )
    if benchmarks is not None and len(benchmarks):
        ax.plot(
            [],
            [],
            linestyle="",
            marker="D",
            markerfacecolor="white",
            markeredgecolor="#333",
            label="whole job (wall)",
        )
    ax.set_yscale("log")
    _plain_log(ax.yaxis)
    ax.set_xticks(range(len(layers)), layers)
    ax.set_ylabel("seconds (log scale)")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("whole job"))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    ax.set_title("Time per projection, median over epochs (whiskers: min to max)", loc="left")
    return fig


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


SCALING_COLUMNS = ("method", "backend", "n", "seconds")


@_styled
def scaling_figure(scaling, *, options: PlotOptions = DEFAULT) -> Figure:
    """Wall time against the number of points, log-log, one line per (method, backend).

    ``scaling`` has the columns ``method``, ``backend``, ``n``, ``seconds`` (the t-SNE scaling
    benchmark's table); the legend gives each line's fitted log-log slope, its empirical
    exponent (1: linear, 2: quadratic).
    """
    missing = [c for c in SCALING_COLUMNS if c not in scaling.columns]
    if missing:
        raise ValueError(
            f"the scaling table lacks the columns {missing}; it needs {list(SCALING_COLUMNS)}"
        )
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = fig.subplots()
    groups = scaling.groupby(["method", "backend"], sort=False)
    markers, tsne_lines = "osD^v<>", 0
    for i, ((method, backend), rows) in enumerate(
        sorted(groups, key=lambda g: (g[0][0] != "tsne", g[0][0], g[0][1]))
    ):
        rows = rows.groupby("n", as_index=False)["seconds"].median().sort_values("n")
        label = METHOD_LABELS.get(method, method)
        label += "" if backend in ("", method) else f" ({backend})"
        if len(rows) > 1:
            slope = np.polyfit(np.log(rows["n"]), np.log(rows["seconds"]), 1)[0]
            label += f", slope {slope:.2f}"
        if method == "tsne":
            color = TSNE_COLORS[tsne_lines % len(TSNE_COLORS)]
            tsne_lines += 1
        else:
            color = METHOD_COLORS.get(method, PALETTE[3])
        ax.plot(
            rows["n"], rows["seconds"], marker=markers[i % len(markers)], color=color, label=label
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax.xaxis, ax.yaxis)
    ax.set_xlabel("points n (log scale)")
    ax.set_ylabel("wall seconds (log scale)")
    ax.legend(title="method (backend)")
    ax.set_title("How projection time grows with the number of points", loc="left")
    return fig


# -- training -------------------------------------------------------------------------------------


@_styled
def training_figure(training, *, options: PlotOptions = DEFAULT) -> Figure:
    """Loss and error rate (1 - accuracy) per epoch on both splits, both on log scales, so
    that the last epochs' small gains and any overfitting stay visible (epoch 0: the initial
    weights)."""
    training = training.sort_values("epoch")
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    loss_ax, error_ax = fig.subplots(1, 2, sharex=True)
    for split, color in (("train", PALETTE[0]), ("test", PALETTE[6])):
        loss_ax.plot(
            training["epoch"], training[f"{split}_loss"], marker="o", color=color, label=split
        )
        error = 1 - training[f"{split}_accuracy"]
        error_ax.plot(training["epoch"], error, marker="o", color=color, label=split)
    last = training.iloc[-1]
    error_ax.annotate(
        f"test accuracy {100 * last['test_accuracy']:.2f} %",
        (last["epoch"], 1 - last["test_accuracy"]),
        xytext=(-10, 12),
        textcoords="offset points",
        ha="right",
        color=PALETTE[6],
    )
    loss_ax.set(title="Loss (cross-entropy)", xlabel="epoch", yscale="log")
    error_ax.set(title="Error rate (1 - accuracy)", xlabel="epoch", yscale="log")
    _plain_log(loss_ax.yaxis)
    error_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:g} %"))
    error_ax.yaxis.set_minor_formatter(NullFormatter())
    for ax in (loss_ax, error_ax):
        ax.legend(loc="upper right")
        ax.xaxis.get_major_locator().set_params(integer=True)
    return fig
