"""The figures: what they show (panels, legends, titles, values) and what they weigh and cost."""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.style
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from PIL import Image

from layerscope import plots
from layerscope.tables import ProjectionTable

FASHION = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
LAYERS = ["input", "z1", "a1", "z2", "a2", "logits"]


def blobs(n: int, separation: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 2-D points in 10 classes around a circle, tighter for larger ``separation``."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    angle = labels * 2 * np.pi / 10
    centres = np.column_stack([np.cos(angle), np.sin(angle)]) * 6 * separation
    return (centres + rng.normal(size=(n, 2))).astype(np.float32), labels


def table(method="pca", epoch=1, layer="a1", n=400, separation=1.0, names=FASHION, **meta):
    xy, labels = blobs(n, separation, seed=hash((method, epoch, layer)) % 2**32)
    meta = {"method": method, "epoch": epoch, "layer": layer, "dataset": "fashion_mnist",
            "class_names": list(names), **meta}  # fmt: skip
    return ProjectionTable(np.arange(n), labels, labels, xy, meta)


def summary_frame(methods=("pca", "tsne"), epochs=(0, 1, 3), layers=LAYERS) -> pd.DataFrame:
    """A metrics table whose values grow with depth and epoch, distinct in every cell."""
    rows = []
    for m, method in enumerate([*methods, "representation"]):
        for e, epoch in enumerate(epochs):
            for j, layer in enumerate(layers):
                base = 0.5 + 0.04 * j + 0.05 * e + 0.01 * m
                rep = method == "representation"
                rows.append({
                    "method": method, "epoch": epoch, "layer": layer,
                    "knn_accuracy": base + 0.001 * j,
                    "trustworthiness": np.nan if rep else base + 0.1,
                    "silhouette": np.nan if rep else base - 0.4,
                    "neighborhood_hit": np.nan if rep else base - 0.01,
                    "linear_probe_accuracy": base + 0.02 if rep else np.nan,
                    "fit_seconds": np.nan if rep else (0.2 if method == "pca" else 15.0) + j + e,
                    "metric_seconds": np.nan if rep else 1.0,
                })  # fmt: skip
    return pd.DataFrame(rows)


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def expected_size(fig, dpi) -> tuple[int, int]:
    w, h = fig.get_size_inches()
    return round(w * dpi), round(h * dpi)


def titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


# -- palette and options ----------------------------------------------------------------------


def test_palette_is_matplotlibs_petroff10():
    assert len(set(plots.PALETTE)) == 10
    style = matplotlib.style.library.get("petroff10")
    if style is None:
        pytest.skip("this matplotlib has no petroff10 style (added in 3.10)")
    assert list(plots.PALETTE) == style["axes.prop_cycle"].by_key()["color"]


def test_class_colors_follow_the_palette_and_refuse_an_eleventh_class():
    colors = plots.class_colors(np.array([0, 9, 3]))
    assert colors.shape == (3, 4)
    assert matplotlib.colors.to_hex(colors[1]) == plots.PALETTE[9]
    with pytest.raises(ValueError, match="0..9"):
        plots.class_colors(np.array([0, 10]))


def test_plot_defaults_agree_in_schema_config_and_code():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    section = schema["properties"]["plots"]
    assert section["additionalProperties"] is False
    for key, prop in section["properties"].items():
        assert prop["description"] and "default" in prop, key
    from_schema = {k: p["default"] for k, p in section["properties"].items()}
    from_config = yaml.safe_load((REPO / "config.yaml").read_text())["plots"]
    assert from_schema == from_config
    assert plots.PlotOptions.from_config(from_config) == plots.PlotOptions()


def test_plot_options_name_a_bad_key_and_value():
    with pytest.raises(ValueError, match=r"unknown plot options \['dpii'\]"):
        plots.PlotOptions.from_config({"dpii": 100})
    with pytest.raises(ValueError, match="plots.format = 'jpg'"):
        plots.PlotOptions(format="jpg")


# -- projections ------------------------------------------------------------------------------


def test_pair_figure_orders_panels_and_shows_classes_titles_and_scores(tmp_path):
    panels = {m: table(m, epoch=3, layer="a2") for m in ("umap", "pca", "tsne")}
    knn = {"pca": 0.61234, "tsne": 0.9701, "umap": 0.955}
    options = plots.PlotOptions(dpi=100, alpha=0.3, point_size=2.5)
    fig = plots.pair_figure(panels, knn, options=options)
    assert [t.split()[0] for t in titles(fig)] == ["PCA", "t-SNE", "UMAP"]
    assert "0.612" in titles(fig)[0] and "0.970" in titles(fig)[1]
    assert fig.get_suptitle().startswith("Epoch 3, layer a2")
    assert "Fashion-MNIST" in fig.get_suptitle()
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == FASHION
    for ax in fig.axes:
        assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
        (points,) = ax.collections
        assert len(points.get_offsets()) == 400
        assert points.get_rasterized() and points.get_alpha() == 0.3
        assert points.get_sizes()[0] == 2.5
    path = tmp_path / "pair.png"
    plots.save(fig, path, options)
    assert png_size(path) == expected_size(fig, 100)
    with Image.open(path) as image:
        assert image.mode == "P"  # palette PNG (png_colors = 256)


def test_pair_figure_widens_with_the_number_of_methods():
    two = plots.pair_figure({m: table(m) for m in ("pca", "tsne")})
    three = plots.pair_figure({m: table(m) for m in ("pca", "tsne", "umap")})
    assert len(two.axes) == 2 and len(three.axes) == 3
    assert three.get_size_inches()[0] - two.get_size_inches()[0] == pytest.approx(plots.PANEL_IN)


def test_pair_figure_refuses_tables_of_different_epochs():
    with pytest.raises(ValueError, match="disagree on 'epoch'"):
        plots.pair_figure({"pca": table("pca", epoch=1), "tsne": table("tsne", epoch=2)})
    with pytest.raises(ValueError, match="unknown projection methods"):
        plots.pair_figure({"lda": table("lda")})


def test_grid_figure_puts_epochs_in_rows_and_layers_in_network_order():
    epochs, layers = [0, 1, 10], ["logits", "a1", "input", "z1"]
    tables = [table("tsne", e, lay, separation=1 + e) for lay in layers for e in epochs[::-1]]
    knn = {(e, lay): 0.5 + e / 100 for e in epochs for lay in layers}
    fig = plots.grid_figure(tables, knn)
    grid = np.array(fig.axes).reshape(3, 4)
    assert [ax.get_title() for ax in grid[0]] == ["input", "z1", "a1", "logits"]
    assert [ax.get_ylabel() for ax in grid[:, 0]] == ["epoch 0", "epoch 1", "epoch 10"]
    assert [t.get_text() for t in grid[2, 0].texts] == ["0.60"]
    for col in range(4):  # each column shares its limits, so growth stays visible
        assert len({ax.get_xlim() for ax in grid[:, col]}) == 1
    assert "t-SNE" in fig.get_suptitle()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == FASHION


# -- metrics ----------------------------------------------------------------------------------


def test_metric_curves_draw_one_line_per_epoch_with_the_tables_values():
    summary = summary_frame()
    fig = plots.metric_curves_figure(summary)
    axes = np.array(fig.axes).reshape(2, 3)
    assert "PCA" in axes[0, 0].get_title() and "full-dimensional" in axes[0, 2].get_title()
    assert "linear-probe" in axes[1, 2].get_title()
    lines = axes[0, 1].get_lines()
    assert [line.get_label() for line in lines] == ["0", "1", "3"]
    want = summary.query("method == 'tsne' and epoch == 3")["knn_accuracy"].to_numpy()
    np.testing.assert_allclose(lines[2].get_ydata(), want)  # layers already in network order
    assert [t.get_text() for t in axes[1, 0].get_xticklabels()] == LAYERS


def test_heatmap_cells_print_the_tables_values(tmp_path):
    summary = summary_frame()
    fig = plots.heatmap_figure(summary, "knn_accuracy")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title(loc="left") for ax in panels] == ["PCA", "t-SNE",
                                                             "full-dimensional activations"]  # fmt: skip
    texts = [t.get_text() for t in panels[1].texts]
    want = summary.query("method == 'tsne'").sort_values(["epoch", "layer"], key=lambda s: (
        s.map(plots.layer_rank) if s.name == "layer" else s))  # fmt: skip
    assert sorted(texts) == sorted(f"{v:.3f}" for v in want["knn_accuracy"])
    plots.save(fig, tmp_path / "heat.png")
    with Image.open(tmp_path / "heat.png") as image:
        assert image.mode in ("RGB", "RGBA")  # a palette would band the colour bar
    probe = plots.heatmap_figure(summary, "linear_probe_accuracy")
    assert len([ax for ax in probe.axes if ax.images]) == 1
    with pytest.raises(ValueError, match="no column 'accuracy'"):
        plots.heatmap_figure(summary, "accuracy")


# -- runtime ----------------------------------------------------------------------------------

BENCH = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_read_benchmarks_takes_method_epoch_layer_from_the_path(tmp_path):
    paths = []
    for method, epoch, layer, seconds in (("pca", 0, "a1", 1.5), ("tsne", 10, "logits", 20.25)):
        path = tmp_path / "project_layer" / method / f"epoch_{epoch}" / f"{layer}.tsv"
        path.parent.mkdir(parents=True)
        path.write_text(BENCH + f"{seconds}\t0:00:01\t500.5\t900\t480\t490\t1\t0\t90\t2.5\n")
        paths.append(path)
    frame = plots.read_benchmarks(paths)
    assert frame.to_dict("list") == {
        "method": ["pca", "tsne"], "epoch": [0, 10], "layer": ["a1", "logits"],
        "seconds": [1.5, 20.25], "max_rss": [500.5, 500.5], "cpu_time": [2.5, 2.5],
    }  # fmt: skip


def test_fit_time_bars_are_median_fit_seconds_per_layer():
    summary = summary_frame()
    bench = summary.dropna(subset=["fit_seconds"])[["method", "epoch", "layer"]].assign(
        seconds=30.0
    )
    fig = plots.fit_time_figure(summary, bench)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    bars = [p.get_height() for p in ax.patches]
    want = [
        summary[(summary["method"] == m) & (summary["layer"] == lay)]["fit_seconds"].median()
        for m in ("pca", "tsne") for lay in LAYERS
    ]  # fmt: skip
    np.testing.assert_allclose(bars, want)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("PCA fit") and labels[-1] == "whole job (wall)"


def test_scaling_figure_is_log_log_with_fitted_slopes():
    n = np.array([1000, 2000, 4000, 8000])
    scaling = pd.concat([
        pd.DataFrame({"method": "tsne", "backend": "opentsne", "n": n, "seconds": n * 1e-3}),
        pd.DataFrame({"method": "tsne", "backend": "sklearn", "n": n, "seconds": (n / 1e3) ** 2}),
        pd.DataFrame({"method": "pca", "backend": "sklearn", "n": n, "seconds": n * 1e-5}),
    ])  # fmt: skip
    fig = plots.scaling_figure(scaling)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "t-SNE (opentsne), slope 1.00", "t-SNE (sklearn), slope 2.00", "PCA (sklearn), slope 1.00",
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"lacks the columns \['backend'\]"):
        plots.scaling_figure(scaling.drop(columns="backend"))


def test_training_figure_has_loss_and_error_rate_per_split():
    training = pd.DataFrame({
        "epoch": [0, 1, 2], "train_loss": [2.3, 0.4, 0.2], "test_loss": [2.3, 0.3, 0.25],
        "train_accuracy": [0.1, 0.9, 0.95], "test_accuracy": [0.1, 0.92, 0.96],
    })  # fmt: skip
    fig = plots.training_figure(training)
    loss, error = fig.axes
    assert [line.get_label() for line in error.get_lines()] == ["train", "test"]
    np.testing.assert_allclose(error.get_lines()[1].get_ydata(), [0.9, 0.08, 0.04])
    assert loss.get_yscale() == "log" and error.get_yscale() == "log"
    assert [t.get_text() for t in error.texts] == ["test accuracy 96.00 %"]


# -- files: size, determinism, formats, speed -------------------------------------------------


def test_saving_is_deterministic_and_svg_has_no_date(tmp_path):
    fig = plots.pair_figure({"pca": table("pca")})
    plots.save(fig, tmp_path / "a.png")
    plots.save(fig, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    svg = plots.PlotOptions(format="svg")
    plots.save(plots.pair_figure({"pca": table("pca")}, options=svg), tmp_path / "a.svg", svg)
    text = (tmp_path / "a.svg").read_text()
    assert text.startswith("<?xml") and "<image" in text and "<dc:date>" not in text


def test_full_colour_png_when_palette_is_off(tmp_path):
    options = plots.PlotOptions(png_colors=0, dpi=60)
    plots.save(plots.pair_figure({"pca": table("pca")}, options=options), tmp_path / "a.png",
               options)  # fmt: skip
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode in ("RGB", "RGBA")


def test_a_pair_of_10000_points_in_three_panels_is_fast_and_small(tmp_path):
    panels = {m: table(m, n=10_000, separation=2.0) for m in ("pca", "tsne", "umap")}
    start = time.perf_counter()
    fig = plots.pair_figure(panels, {m: 0.9 for m in panels})
    plots.save(fig, tmp_path / "pair.png")
    seconds = time.perf_counter() - start
    assert seconds < 5, f"{seconds:.1f} s"  # about 0.5 s on a laptop core
    assert png_size(tmp_path / "pair.png") == expected_size(fig, plots.DEFAULT.dpi)
    assert (tmp_path / "pair.png").stat().st_size < 400_000
