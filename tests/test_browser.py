"""The report in a real browser: headless Debian Chromium, driven by Playwright, from file://.

Playwright's own browser download cannot work offline, so the test uses the system Chromium
(``apt-get install chromium``; another binary via ``LAYERSCOPE_CHROMIUM``) and skips without
it. Screenshots go to the test's tmp folder and, if set, to ``LAYERSCOPE_SCREENSHOT_DIR``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_plots import LAYERS, summary_frame, table
from test_report import EVIL, render_kwargs, training_frame

from layerscope import plots, report

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("LAYERSCOPE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
METHODS, EPOCHS = ["pca", "tsne", "umap"], [0, 1, 3]


def draw_figures(folder: Path, summary: pd.DataFrame) -> dict[str, Path]:
    """Every figure of a report, drawn by the real plotting code from synthetic embeddings."""
    options = plots.PlotOptions(dpi=80)
    paths = {k: folder / v for k, v in report.figure_paths(METHODS, EPOCHS, LAYERS, "png",
                                                          scaling=True).items()}  # fmt: skip
    knn = summary.set_index(["method", "epoch", "layer"])["knn_accuracy"]
    grids = {m: [] for m in METHODS}
    for epoch in EPOCHS:
        for depth, layer in enumerate(LAYERS):
            spread = 0.4 + 0.3 * depth + 0.4 * epoch
            panels = {m: table(m, epoch, layer, n=1500, separation=spread, names=[str(d) for d in
                                                                                   range(10)])
                      for m in METHODS}  # fmt: skip
            for method, t in panels.items():
                grids[method].append(t)
            scores = {m: knn[m, epoch, layer] for m in METHODS}
            fig = plots.pair_figure(panels, scores, options=options)
            plots.save(fig, paths[f"pair/{epoch}/{layer}"], options)
    for method in METHODS:
        fig = plots.grid_figure(grids[method], options=options)
        plots.save(fig, paths[f"grid/{method}"], options)
    plots.save(plots.metric_curves_figure(summary, options=options), paths["curves"], options)
    for metric in report.HEATMAP_METRICS:
        fig = plots.heatmap_figure(summary, metric, options=options)
        plots.save(fig, paths[f"heatmap/{metric}"], options)
    plots.save(plots.fit_time_figure(summary, options=options), paths["fit_time"], options)
    n = np.array([1000, 2000, 5000, 10000])
    scaling = pd.DataFrame({"method": "tsne", "backend": "opentsne", "n": n, "seconds": n / 500})
    plots.save(plots.scaling_figure(scaling, options=options), paths["tsne_scaling"], options)
    plots.save(plots.training_figure(training_frame(), options=options), paths["training"],
               options)  # fmt: skip
    return paths


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    summary = summary_frame(METHODS, EPOCHS, LAYERS)
    figures = draw_figures(base / "plots", summary)
    out = base / "report" / "index.html"
    kwargs = render_kwargs(summary, run_name=f"Browser test {EVIL}")
    kwargs.update(methods=METHODS)
    report.write_report(out, figures, **kwargs)
    return out


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or LAYERSCOPE_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Watch:
    """Opens a page, recording console errors, page errors, dialogs and non-file requests."""

    def __init__(self, browser, javascript=True):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000},
                                           java_script_enabled=javascript)  # fmt: skip
        self.errors, self.dialogs, self.network = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.network.append(url)
            route.abort()

    def visible_pane(self, container: str) -> list[str]:
        return self.page.eval_on_selector_all(
            f"{container} .panes > figure",
            "els => els.filter(e => e.offsetParent !== null).map(e => e.id)",
        )

    def close(self):
        self.context.close()


def save_screenshot(watch: Watch, tmp_path: Path, name: str, **kwargs) -> Path:
    path = tmp_path / name
    watch.page.screenshot(path=str(path), **kwargs)
    if os.environ.get("LAYERSCOPE_SCREENSHOT_DIR"):
        target = Path(os.environ["LAYERSCOPE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def test_every_image_loads_without_errors_or_network(browser, page_file, tmp_path):
    watch = Watch(browser)
    watch.page.goto(page_file.as_uri(), wait_until="load")
    images = watch.page.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert len(images) == len(report.figure_paths(METHODS, EPOCHS, LAYERS, scaling=True))
    assert [src for src, done, width in images if not (done and width > 0)] == []
    assert watch.errors == [] and watch.dialogs == [] and watch.network == []
    assert watch.page.title() == f"Browser test {EVIL} · LayerScope report"
    top = save_screenshot(watch, tmp_path, "report-top.png")
    watch.page.locator("#projections").scroll_into_view_if_needed()
    save_screenshot(watch, tmp_path, "report-projections.png",
                    clip={"x": 0, "y": 0, "width": 1600, "height": 1000})  # fmt: skip
    save_screenshot(watch, tmp_path, "report-full.png", full_page=True)
    assert top.stat().st_size > 10_000
    watch.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_controls_show_the_chosen_figure(browser, page_file, javascript):
    watch = Watch(browser, javascript)
    page = watch.page
    page.goto(page_file.as_uri(), wait_until="load")
    assert watch.visible_pane("#pairs") == ["fig-pair-3-input"]  # last epoch, first layer
    page.click("label[for=pe-1]")
    page.click("label[for=pl-a1]")
    assert watch.visible_pane("#pairs") == ["fig-pair-1-a1"]
    src = page.get_attribute("#fig-pair-1-a1 img", "src")
    assert src == "figures/pair/1/a1.png"
    page.focus("#pl-a1")  # arrow keys step through a group, as in any radio group
    page.keyboard.press("ArrowRight")
    assert watch.visible_pane("#pairs") == ["fig-pair-1-z2"]
    page.click("label[for=gm-umap]")
    assert watch.visible_pane("#gm-picker") == ["fig-grid-umap"]
    page.click("label[for=hm-trustworthiness]")
    assert watch.visible_pane("#hm-picker") == ["fig-heatmap-trustworthiness"]
    assert watch.errors == [] and watch.network == []
    watch.close()


def test_deep_links_open_a_figure(browser, page_file):
    watch = Watch(browser)
    watch.page.goto(page_file.as_uri() + "#pair=0/z1", wait_until="load")
    assert watch.visible_pane("#pairs") == ["fig-pair-0-z1"]
    watch.page.click("label[for=pl-logits]")
    assert watch.page.evaluate("location.hash") == "#pair=0/logits"
    assert watch.errors == []
    watch.close()


@pytest.mark.e2e
def test_the_workflows_own_report_loads_whole_from_disk(browser, tiny_results, tmp_path):
    """The report the tiny workflow run wrote, copied elsewhere (it must not point outside
    its folder), opened from disk: every figure loads, no error, nothing from the network."""
    folder = shutil.copytree(tiny_results / "results" / "report", tmp_path / "moved")
    watch = Watch(browser)
    watch.page.goto((folder / "index.html").as_uri(), wait_until="load")
    images = watch.page.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    figures = list((tiny_results / "results" / "plots").rglob("*.png"))
    assert len(images) == len(figures) > 20
    assert [src for src, done, width in images if not (done and width > 0)] == []
    assert watch.errors == [] and watch.dialogs == [] and watch.network == []
    assert watch.page.title() == "tiny test run · LayerScope report"
    save_screenshot(watch, tmp_path, "workflow-report.png", full_page=True)
    watch.close()
