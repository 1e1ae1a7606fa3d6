"""The HTML report: its numbers, its escaping, its figures and navigation, and the workflow's
plot and report rules end to end."""

from __future__ import annotations

import base64
import html.parser
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, copy_workdir, jobs_planned, run_tiny
from PIL import Image
from test_plots import LAYERS, summary_frame

from layerscope import config, provenance, report, tables

EVIL = "<script>alert(1)</script>"
METHODS, EPOCHS = ["pca", "tsne"], [0, 1, 3]


class Cells(html.parser.HTMLParser):
    """Collects the text of every element carrying ``data-metric``, keyed by its data-*."""

    def __init__(self):
        super().__init__()
        self.cells, self.key, self.images = {}, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if "data-metric" in attrs:
            self.key = tuple(attrs.get(k) for k in ("data-method", "data-metric", "data-epoch",
                                                     "data-layer"))  # fmt: skip

    def handle_data(self, data):
        if self.key is not None:
            self.cells[self.key] = data
            self.key = None


def parse(page: str) -> Cells:
    cells = Cells()
    cells.feed(page)
    return cells


def training_frame(epochs=3) -> pd.DataFrame:
    e = np.arange(epochs + 1)
    return pd.DataFrame({
        "epoch": e, "train_loss": 2.3 / (1 + 3 * e), "test_loss": 2.3 / (1 + 2.5 * e),
        "train_accuracy": 1 - 0.9 / (1 + 5 * e), "test_accuracy": 1 - 0.9 / (1 + 4.5 * e),
        "seconds": np.where(e == 0, 0.0, 12.5), "samples_per_second": 5000.0,
    })  # fmt: skip


def placeholder_figures(folder: Path, ids) -> dict[str, Path]:
    """A small, distinct PNG per figure id (the report does not look inside them)."""
    out = {}
    for i, figure_id in enumerate(ids):
        path = folder / f"{figure_id}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40 + i, 30), (i * 5 % 256, 120, 200)).save(path)
        out[figure_id] = path
    return out


def render_kwargs(summary, run_name="tiny run", **extra):
    config = {"run_name": run_name, "dataset": "mnist", "seed": 0,
              "model": {"hidden": [32, 16], "activation": "relu"}, "train": {"epochs": 3}}  # fmt: skip
    return {
        "run_name": run_name, "summary": summary, "training": training_frame(),
        "methods": METHODS, "epochs": EPOCHS, "layers": LAYERS, "config": config,
        "provenance_info": {"git commit": "abc123", "command": "snakemake --cores 2"},
        "versions": {"numpy": "2.0"}, **extra,
    }  # fmt: skip


@pytest.fixture
def built(tmp_path):
    """A report from a known metrics table and placeholder figures."""
    summary = summary_frame(METHODS, EPOCHS, LAYERS)
    ids = report.figure_paths(METHODS, EPOCHS, LAYERS)
    figures = placeholder_figures(tmp_path / "plots", ids)
    out = tmp_path / "report" / "index.html"
    copies = report.write_report(out, figures, **render_kwargs(summary))
    return out, summary, figures, copies


# -- figure list ------------------------------------------------------------------------------


def test_figure_paths_list_every_figure_once():
    paths = report.figure_paths(["pca", "tsne", "umap"], [0, 10], ["input", "a1"], "svg")
    assert paths["pair/10/a1"] == "plots/pairs/epoch_10/a1.svg"
    assert paths["grid/umap"] == "plots/grids/umap.svg"
    assert paths["heatmap/trustworthiness"] == "plots/metrics/heatmap_trustworthiness.svg"
    assert len(paths) == 1 + 2 * 2 + 3 + 1 + len(report.HEATMAP_METRICS) + 1
    assert len(set(paths.values())) == len(paths)
    assert "tsne_scaling" not in paths
    assert report.figure_paths([], [0], ["input"], scaling=True)["tsne_scaling"].endswith(
        "runtime/tsne_scaling.png")  # fmt: skip


# -- numbers ----------------------------------------------------------------------------------


def test_every_table_cell_equals_the_metrics_table(built):
    out, summary, _, _ = built
    cells = parse(out.read_text()).cells
    checked = 0
    for row in summary.itertuples():
        for metric in ("knn_accuracy", "trustworthiness", "linear_probe_accuracy"):
            value = getattr(row, metric)
            key = (row.method, metric, str(row.epoch), row.layer)
            if np.isnan(value):
                assert key not in cells
                continue
            assert cells[key] == f"{value:.3f}", key
            checked += 1
    assert checked == len(EPOCHS) * len(LAYERS) * (2 * len(METHODS) + 2)
    for method in METHODS:  # runtime table
        fit = summary.loc[summary["method"] == method, "fit_seconds"].sum()
        assert cells[(method, "fit_seconds_total", None, None)] == f"{fit:.1f}"


def test_findings_state_the_tables_numbers(built):
    out, summary, _, _ = built
    page = out.read_text()
    last = summary.query("epoch == 3")
    for method, label in (("pca", "PCA"), ("tsne", "t-SNE")):
        knn = last[last["method"] == method].set_index("layer")["knn_accuracy"]
        best = knn.drop("input").idxmax()
        assert (
            f"2-D k-NN accuracy of {label} rises from <strong>{knn['input']:.3f}</strong> at the "
            f"input to <strong>{knn[best]:.3f}</strong> at {best} (its best layer) by epoch 3."
        ) in page
        at_best = summary[(summary["method"] == method) & (summary["layer"] == best)]
        steps = at_best.set_index("epoch")["knn_accuracy"].loc[EPOCHS].tolist()
        assert ", ".join(f"<strong>{v:.3f}</strong> at epoch {e}"
                         for e, v in zip(EPOCHS, steps, strict=True)) in page  # fmt: skip
    tsne = last.query("method == 'tsne'")["knn_accuracy"].mean()
    pca = last.query("method == 'pca'")["knn_accuracy"].mean()
    assert (f"t-SNE vs PCA at epoch 3: mean 2-D k-NN accuracy <strong>{tsne:.3f}</strong> vs "
            f"<strong>{pca:.3f}</strong> over 6 layers (t-SNE higher in 6 of 6)") in page  # fmt: skip
    final = 100 * training_frame()["test_accuracy"].iloc[-1]
    assert f"classifies <strong>{final:.2f} %</strong> of the test images" in page


def test_findings_say_falls_when_a_score_drops():
    summary = pd.DataFrame({
        "method": "tsne", "epoch": 2, "layer": ["input", "a1", "a2"],
        "knn_accuracy": [0.9, 0.8, 0.85],
    })  # fmt: skip
    assert report.findings(summary) == [
        "2-D k-NN accuracy of t-SNE falls from **0.900** at the input to **0.850** at a2 (its "
        "best layer) by epoch 2."
    ]


# -- safety and self-containment --------------------------------------------------------------


def test_text_from_the_config_is_escaped(tmp_path):
    summary = summary_frame(METHODS, EPOCHS, LAYERS)
    figures = placeholder_figures(tmp_path / "plots", report.figure_paths(METHODS, EPOCHS, LAYERS))
    out = tmp_path / "index.html"
    kwargs = render_kwargs(summary, run_name=EVIL)
    kwargs["provenance_info"]["command"] = f"snakemake --config run_name='{EVIL}'"
    report.write_report(out, figures, **kwargs)
    page = out.read_text()
    assert EVIL not in page and "alert(1)</script>" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; · LayerScope report</title>" in page
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page
    assert page.count("<script") == 1  # ours, the deep-link helper


def test_report_needs_nothing_from_the_network(built):
    out, *_ = built
    page = out.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page and "<link" not in page


def test_figures_are_copied_beside_the_page_and_linked(built):
    out, _, figures, copies = built
    images = parse(out.read_text()).images
    assert len(images) == len(figures)
    for src in images:
        assert not src.startswith(("/", "data:")) and (out.parent / src).is_file()
    for figure_id, copy in copies.items():
        assert copy.read_bytes() == figures[figure_id].read_bytes()
        assert copy == out.parent / "figures" / f"{figure_id}.png"


def test_embedded_figures_make_one_file(tmp_path):
    summary = summary_frame(METHODS, EPOCHS, LAYERS)
    figures = placeholder_figures(tmp_path / "plots", report.figure_paths(METHODS, EPOCHS, LAYERS))
    out = tmp_path / "one" / "index.html"
    assert report.write_report(out, figures, embed=True, **render_kwargs(summary)) == {}
    assert [p.name for p in out.parent.iterdir()] == ["index.html"]
    images = parse(out.read_text()).images
    assert len(images) == len(figures)
    for src in images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data).startswith(b"\x89PNG")


def test_a_missing_figure_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"figure 'curves': .*curves.png is missing"):
        report.write_report(tmp_path / "index.html", {"curves": tmp_path / "curves.png"},
                            **render_kwargs(summary_frame()))  # fmt: skip


# -- navigation -------------------------------------------------------------------------------


def test_every_epoch_layer_pair_has_a_control_and_a_css_rule(built):
    out, *_ = built
    page = out.read_text()
    for epoch in EPOCHS:
        assert page.count(f'id="pe-{epoch}"') == 1 and f'<label for="pe-{epoch}">' in page
    for layer in LAYERS:
        assert page.count(f'id="pl-{layer}"') == 1 and f'<label for="pl-{layer}">' in page
        for epoch in EPOCHS:
            rule = f"#pe-{epoch}:checked~#pl-{layer}:checked~.panes #fig-pair-{epoch}-{layer}"
            assert rule + "{display:block}" in page
            assert f'id="fig-pair-{epoch}-{layer}"' in page
    assert len(re.findall(r'name="pe"[^>]*checked', page)) == 1  # the last epoch
    assert re.search(r'name="pe" id="pe-3" value="3" checked', page)
    for method in METHODS:
        assert f"#gm-{method}:checked~.panes #fig-grid-{method}{{display:block}}" in page


def test_scaling_note_until_the_benchmark_exists(built, tmp_path):
    out, *_ = built
    assert "benchmarks/bench_tsne.py" in out.read_text()
    summary = summary_frame(METHODS, EPOCHS, LAYERS)
    ids = report.figure_paths(METHODS, EPOCHS, LAYERS, scaling=True)
    figures = placeholder_figures(tmp_path / "with", ids)
    page = report.render(sources={k: str(v) for k, v in figures.items()},
                         **render_kwargs(summary))  # fmt: skip
    assert "bench_tsne.py</code>, which writes" not in page
    assert 'id="fig-tsne_scaling"' in page


# -- provenance -------------------------------------------------------------------------------


def fake_process(proc: Path, pid: int, parent: int, *argv: str, name="python"):
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / str(pid) / "stat").write_text(f"{pid} ({name}) S {parent} 1 1 0 -1\n")


def test_snakemake_command_is_found_up_the_process_tree(tmp_path):
    proc = tmp_path / "proc"
    fake_process(proc, 100, 1, "/venv/bin/python3", "/venv/bin/snakemake", "--cores", "2",
                 "--config", "run_name=a b")  # fmt: skip
    fake_process(proc, 200, 100, "/bin/bash", "-c", "python .snakemake/scripts/x.py",
                 name="odd) name")  # fmt: skip
    fake_process(proc, 300, 200, "/venv/bin/python3", ".snakemake/scripts/tmp.build_report.py")
    assert (provenance.snakemake_command(300, proc)
            == "/venv/bin/python3 /venv/bin/snakemake --cores 2 --config 'run_name=a b'")  # fmt: skip
    fake_process(proc, 400, 1, "python", "-m", "snakemake", "-n")
    assert provenance.snakemake_command(400, proc) == "python -m snakemake -n"
    fake_process(proc, 500, 1, "python", "-m", "pytest")
    assert provenance.snakemake_command(500, proc) is None
    assert provenance.snakemake_command(999, proc) is None


def test_provenance_records_commit_seed_and_versions():
    info, versions = report.collect_provenance({"seed": 7}, REPO, {"versions": {"umap": "0.5"}})
    assert info["seed"] == "7" and info["git commit"] != ""
    assert "matplotlib" in versions and versions["umap (metrics jobs)"] == "0.5"


# -- the workflow, end to end ----------------------------------------------------------------


def layout(work: Path) -> tuple[list[str], list[int], list[str]]:
    """Methods, epochs and layers of a finished tiny run, read from its projections."""
    root = work / "results" / "projections"
    methods = [m for m in config.METHODS if (root / m).is_dir()]
    epochs = sorted(int(p.name.split("_")[1]) for p in (root / methods[0]).glob("epoch_*"))
    layers = sorted({p.name.split(".")[0] for p in (root / methods[0]).rglob("*.parquet")},
                    key=report.layer_rank)  # fmt: skip
    return methods, epochs, layers


@pytest.mark.e2e
def test_workflow_draws_every_figure_and_the_report(tiny_results):
    results = tiny_results / "results"
    methods, epochs, layers = layout(tiny_results)
    assert layers == ["input", "z1", "a1", "z2", "a2", "logits"]
    for path in report.figure_paths(methods, epochs, layers).values():
        with Image.open(results / path) as image:
            assert image.format == "PNG" and image.size[0] > 500, path
    page = (results / "report" / "index.html").read_text()
    images = parse(page).images
    assert len(images) == len(report.figure_paths(methods, epochs, layers))
    for src in images:
        assert (results / "report" / src).is_file()
    assert "-m snakemake" in page and "--cores 2" in page  # the command that ran it
    summary = tables.read_frame(results / "metrics/summary.parquet", "metrics")
    cells = parse(page).cells
    for row in summary.itertuples():
        for metric in ("knn_accuracy", "trustworthiness", "linear_probe_accuracy"):
            key = (row.method, metric, str(row.epoch), row.layer)
            value = getattr(row, metric)
            assert cells.get(key) == (None if np.isnan(value) else f"{value:.3f}"), key


@pytest.mark.e2e
def test_a_plot_option_reruns_only_figures_and_the_report(tiny_results):
    methods, epochs, layers = layout(tiny_results)
    assert "Nothing to be done" in run_tiny(tiny_results, "-n").stdout
    planned = jobs_planned(run_tiny(tiny_results, "-n", "--config", "plots={dpi: 100}"))
    assert planned == {
        "plot_pair": len(epochs) * len(layers), "plot_grid": len(methods),
        "plot_metric_curves": 1, "plot_metric_heatmap": len(report.HEATMAP_METRICS),
        "plot_fit_time": 1, "plot_training": 1, "build_report": 1, "all": 1,
        "total": len(epochs) * len(layers) + len(methods) + 10,
    }  # fmt: skip
    assert "Nothing to be done" in run_tiny(tiny_results, "-n", "--config", "device=auto").stdout


@pytest.mark.e2e
def test_a_new_run_name_rebuilds_only_the_report_and_is_escaped(tiny_results, tmp_path):
    work = copy_workdir(tiny_results, tmp_path / "work")
    evil = ["--config", f"run_name={EVIL}"]
    assert jobs_planned(run_tiny(work, "-n", *evil)) == {"build_report": 1, "all": 1, "total": 2}
    run_tiny(work, *evil)
    page = (work / "results" / "report" / "index.html").read_text()
    assert EVIL not in page and "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page


@pytest.mark.e2e
def test_snakemake_report_zip(tiny_results, tmp_path):
    work = copy_workdir(tiny_results, tmp_path / "work")
    methods, epochs, layers = layout(work)
    run_tiny(work, "--report", "report.zip")
    with zipfile.ZipFile(work / "report.zip") as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        pngs = [n for n in names if n.endswith(".png")]
        assert Image.open(io.BytesIO(archive.read(pngs[0]))).format == "PNG"
    assert any(n.endswith("report.html") for n in names)
    assert len(pngs) == len(report.figure_paths(methods, epochs, layers))
