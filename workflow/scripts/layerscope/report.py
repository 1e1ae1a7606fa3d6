"""The HTML report: one page that opens from disk and needs neither network nor JavaScript.

:func:`figure_paths` lists every figure (the workflow asks for exactly these),
:func:`findings` turns the metrics table into sentences with numbers, :func:`render` builds the
page and :func:`write_report` writes it, with the figures copied beside it into ``figures/``
(default) or embedded as ``data:`` URIs (``embed=True``: one file, a third larger).

Navigation between projections (epoch x layer, method, metric) is pure CSS: visually hidden
radio buttons and ``:checked`` sibling selectors, so it works with JavaScript off and arrow
keys move within each group. A few lines of inline JavaScript only add deep links (the URL
hash). Every string from the config or from files passes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
import os
import platform
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from layerscope import __version__, provenance
from layerscope.config import METHODS
from layerscope.datasets import DATASETS
from layerscope.files import atomic_path

# The names figures and report share (plots imports them from here: this module stays light).
# Class colours of every figure and of the report's key: matplotlib's petroff10, a 10-colour
# palette chosen to stay distinct under colour-vision deficiencies.
PALETTE = (
    "#3f90da",
    "#ffa90e",
    "#bd1f01",
    "#94a4a2",
    "#832db6",
    "#a96b59",
    "#e76300",
    "#b9ac70",
    "#717581",
    "#92dadd",
)
METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "representation": "full-dim."}
HEATMAP_METRICS = (
    "knn_accuracy",
    "trustworthiness",
    "linear_probe_accuracy",
    "silhouette",
    "neighborhood_hit",
)
METRIC_LABELS = {
    "knn_accuracy": "k-NN accuracy",
    "trustworthiness": "trustworthiness",
    "linear_probe_accuracy": "linear-probe accuracy",
    "silhouette": "silhouette",
    "neighborhood_hit": "neighbourhood hit",
}
PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "openTSNE",
    "umap-learn",
    "matplotlib",
    "torch",
    "snakemake",
)
MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def esc(value) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    return html.escape(str(value), quote=True)


# -- which figures --------------------------------------------------------------------------------


def figure_paths(
    methods: Sequence[str],
    epochs: Sequence[int],
    layers: Sequence[str],
    fmt: str = "png",
    scaling: bool = False,
) -> dict[str, str]:
    """Every figure of the report: id (``pair/10/a4``, ``grid/tsne``, ...) to its path under
    the results folder. ``scaling``: whether the t-SNE scaling benchmark's table exists."""
    paths = {"training": f"plots/training.{fmt}"}
    for epoch in epochs:
        for layer in layers:
            paths[f"pair/{epoch}/{layer}"] = f"plots/pairs/epoch_{epoch}/{layer}.{fmt}"
    for method in methods:
        paths[f"grid/{method}"] = f"plots/grids/{method}.{fmt}"
    paths["curves"] = f"plots/metrics/curves.{fmt}"
    for metric in HEATMAP_METRICS:
        paths[f"heatmap/{metric}"] = f"plots/metrics/heatmap_{metric}.{fmt}"
    paths["fit_time"] = f"plots/runtime/fit_time.{fmt}"
    if scaling:
        paths["tsne_scaling"] = f"plots/runtime/tsne_scaling.{fmt}"
    return paths


def copy_name(figure_id: str, suffix: str) -> str:
    """Where :func:`write_report` copies a figure, relative to the report's folder."""
    return f"figures/{figure_id}{suffix}"


# -- findings -------------------------------------------------------------------------------------


def _fmt(value, decimals: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{decimals}f}"


def layer_rank(layer: str) -> float:
    """Position of a layer in the network: input 0, z1 1, a1 2, z2 3, ..., logits last."""
    if layer == "input":
        return 0
    if layer == "logits":
        return math.inf
    match = re.fullmatch(r"([za])([1-9][0-9]*)", layer)
    if match is None:
        raise ValueError(f"unknown layer name {layer!r}; expected input, z<i>, a<i> or logits")
    return 2 * int(match[2]) - (match[1] == "z")


def _series(summary, method: str, metric: str, epoch: int) -> dict[str, float]:
    """``layer -> value`` of one method's metric at one epoch, in network order, NaNs dropped."""
    if metric not in summary.columns:
        return {}
    rows = summary[(summary["method"] == method) & (summary["epoch"] == epoch)]
    rows = rows.dropna(subset=[metric])
    pairs = sorted(zip(rows["layer"], rows[metric], strict=True), key=lambda p: layer_rank(p[0]))
    return {layer: float(value) for layer, value in pairs}


def _value(summary, method: str, metric: str, epoch: int, layer: str) -> float | None:
    return _series(summary, method, metric, epoch).get(layer)


def neighbours(summary, default: int = 10) -> int:
    """The k of the neighbour-based scores, from the metrics table's ``k`` column if it has one."""
    if summary is None or "k" not in summary.columns or not summary["k"].notna().any():
        return default
    return int(summary["k"].dropna().iloc[0])


def _rises(a: float, b: float) -> str:
    return "rises" if b > a else "falls" if b < a else "stays"


def findings(summary, training=None, decimals: int = 3) -> list[str]:
    """What the metrics say, as sentences; numbers are wrapped in ``**`` for emphasis.

    Covers: the final test accuracy; for each method, how the 2-D k-NN accuracy changes from the
    input to its best layer at the last epoch; how training changes it at that layer (first,
    epoch 1 and last captured epoch); the linear probe on the full activations; and each
    non-linear method against PCA. Sentences whose numbers are missing are left out.
    """
    out: list[str] = []

    def num(value) -> str:
        return f"**{_fmt(value, decimals)}**"

    if training is not None and len(training):
        rows = training.sort_values("epoch")
        first, last = rows.iloc[0], rows.iloc[-1]
        out.append(
            f"After {int(last['epoch'])} epochs the network classifies "
            f"**{100 * last['test_accuracy']:.2f} %** of the test images correctly "
            f"(epoch {int(first['epoch'])}: {100 * first['test_accuracy']:.2f} %)."
        )
    if summary is None or not len(summary):
        return out
    epochs = sorted(int(e) for e in summary["epoch"].unique())
    last = epochs[-1]
    shown = sorted({e for e in (epochs[0], 1, last) if e in epochs})
    methods = [m for m in METHODS if m in set(summary["method"])]
    for method in methods:
        series = _series(summary, method, "knn_accuracy", last)
        deeper = {k: v for k, v in series.items() if k != "input"}
        if "input" not in series or not deeper:
            continue
        best = max(deeper, key=deeper.get)
        start, end = series["input"], deeper[best]
        out.append(
            f"2-D k-NN accuracy of {METHOD_LABELS[method]} {_rises(start, end)} from "
            f"{num(start)} at the input to {num(end)} at {best} (its best layer) by epoch {last}."
        )
        if len(shown) > 1:
            values = [(e, _value(summary, method, "knn_accuracy", e, best)) for e in shown]
            values = [(e, v) for e, v in values if v is not None]
            if len(values) > 1:
                steps = ", ".join(f"{num(v)} at epoch {e}" for e, v in values)
                out.append(
                    f"At {best}, training moves {METHOD_LABELS[method]}'s 2-D k-NN "
                    f"accuracy through {steps}."
                )
    probe = _series(summary, "representation", "linear_probe_accuracy", last)
    if "input" in probe and len(probe) > 1:
        deeper = {k: v for k, v in probe.items() if k != "input"}
        best = max(deeper, key=deeper.get)
        out.append(
            f"A linear probe on the full activations {_rises(probe['input'], deeper[best])} from "
            f"{num(probe['input'])} at the input to {num(deeper[best])} at {best} "
            f"(epoch {last})."
        )
    if "pca" in methods:
        for method in methods:
            if method == "pca":
                continue
            pca = _series(summary, "pca", "knn_accuracy", last)
            other = _series(summary, method, "knn_accuracy", last)
            shared = [k for k in other if k in pca]
            if not shared:
                continue
            mean_o = sum(other[k] for k in shared) / len(shared)
            mean_p = sum(pca[k] for k in shared) / len(shared)
            wins = sum(other[k] > pca[k] for k in shared)
            text = (
                f"{METHOD_LABELS[method]} vs PCA at epoch {last}: mean 2-D k-NN accuracy "
                f"{num(mean_o)} vs {num(mean_p)} over {len(shared)} layers "
                f"({METHOD_LABELS[method]} higher in {wins} of {len(shared)})"
            )
            trust_o = _series(summary, method, "trustworthiness", last)
            trust_p = _series(summary, "pca", "trustworthiness", last)
            both = [k for k in shared if k in trust_o and k in trust_p]
            if both:
                t_o = sum(trust_o[k] for k in both) / len(both)
                t_p = sum(trust_p[k] for k in both) / len(both)
                text += f"; mean trustworthiness {num(t_o)} vs {num(t_p)}"
            out.append(text + ".")
    return out


# -- HTML pieces ----------------------------------------------------------------------------------


def _emphasis(sentence: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(sentence))


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value).replace("/", "-"))


def _figure(
    sources: Mapping[str, str], figure_id: str, alt: str, caption: str = "", attrs: str = ""
) -> str:
    src = sources.get(figure_id)
    if src is None:
        return f'<p class="note">Figure {esc(figure_id)} is missing.</p>'
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure id="fig-{_slug(figure_id)}"{attrs}><a href="{esc(src)}">'
        f'<img src="{esc(src)}" alt="{esc(alt)}"></a>{cap}</figure>'
    )


def _tabs(name: str, label: str, options: Sequence[tuple[str, str]], checked: str) -> tuple:
    """One control group: its radio inputs (html) and its labelled buttons (html)."""
    inputs, labels = [], []
    for value, text in options:
        rid = f"{name}-{_slug(value)}"
        mark = " checked" if value == checked else ""
        inputs.append(
            f'<input type="radio" class="sr" name="{name}" id="{rid}" value="{esc(value)}"{mark}>'
        )
        labels.append(f'<label for="{rid}">{esc(text)}</label>')
    group = (
        f'<div class="group" role="group" aria-label="{esc(label)}">'
        f'<span class="glabel">{esc(label)}</span>{"".join(labels)}</div>'
    )
    return "".join(inputs), group


def _tab_css(name: str, values: Sequence[str]) -> list[str]:
    """Highlight the checked button of a group and outline the focused one."""
    rules = []
    for value in values:
        rid = f"{name}-{_slug(value)}"
        rules.append(
            f"#{rid}:checked~.controls label[for={rid}]{{background:var(--accent);color:#fff;"
            "border-color:var(--accent)}"
        )
        rules.append(
            f"#{rid}:focus-visible~.controls label[for={rid}]{{outline:3px solid var(--focus)}}"
        )
    return rules


def _pairs_section(sources, epochs, layers, methods) -> tuple[str, str]:
    last = epochs[-1]
    epoch_names = [(str(e), f"{e} (untrained)" if e == 0 else str(e)) for e in epochs]
    epoch_inputs, epoch_group = _tabs("pe", "Epoch", epoch_names, str(last))
    layer_inputs, layer_group = _tabs("pl", "Layer", [(lay, lay) for lay in layers], layers[0])
    names = " | ".join(METHOD_LABELS[m] for m in methods)
    figures = []
    css = _tab_css("pe", [str(e) for e in epochs]) + _tab_css("pl", layers)
    for epoch in epochs:
        for layer in layers:
            fid = f"pair/{epoch}/{layer}"
            figures.append(
                _figure(
                    sources,
                    fid,
                    f"{names} projections of layer {layer} at epoch {epoch}",
                    f"Layer <b>{esc(layer)}</b> at epoch <b>{esc(epoch)}</b>: {esc(names)}; "
                    "colour = true class.",
                    f' class="pane" data-epoch="{esc(epoch)}" data-layer="{esc(layer)}"',
                )
            )
            css.append(
                f"#pe-{_slug(epoch)}:checked~#pl-{_slug(layer)}:checked~.panes "
                f"#fig-pair-{_slug(epoch)}-{_slug(layer)}{{display:block}}"
            )
    html_ = (
        f'<div class="picker" id="pairs">{epoch_inputs}{layer_inputs}'
        f'<div class="controls">{epoch_group}{layer_group}</div>'
        f'<div class="panes">{"".join(figures)}</div></div>'
    )
    return html_, "\n".join(css)


def _single_tabs(key: str, prefix: str, sources, options, label: str, alt, caption) -> tuple:
    """One control group switching between figures ``prefix/<value>`` (methods, metrics)."""
    present = [(v, t) for v, t in options if f"{prefix}/{v}" in sources]
    if not present:
        return '<p class="note">No figures.</p>', ""
    inputs, group = _tabs(key, label, present, present[0][0])
    figures, css = [], _tab_css(key, [v for v, _ in present])
    for value, text in present:
        fid = f"{prefix}/{value}"
        figures.append(
            _figure(
                sources, fid, alt(text), caption(text), f' class="pane" data-{key}="{esc(value)}"'
            )
        )
        css.append(f"#{key}-{_slug(value)}:checked~.panes #fig-{_slug(fid)}{{display:block}}")
    html_ = (
        f'<div class="picker" id="{key}-picker">{inputs}<div class="controls">{group}</div>'
        f'<div class="panes">{"".join(figures)}</div></div>'
    )
    return html_, "\n".join(css)


def _metrics_tables(summary, methods, epochs, layers, decimals) -> str:
    """One table per epoch (the last one open): rows = layers, columns = scores per method."""
    columns = [(m, "knn_accuracy") for m in methods] + [(m, "trustworthiness") for m in methods]
    rep = summary[summary["method"] == "representation"]
    if len(rep):
        columns += [("representation", "knn_accuracy"), ("representation", "linear_probe_accuracy")]
    head1 = "".join(
        f"<th>{esc(METHOD_LABELS[m])}<br><span>{esc(METRIC_LABELS[c])}</span></th>"
        for m, c in columns
    )
    blocks = []
    for epoch in reversed(epochs):
        values = {(m, c): _series(summary, m, c, epoch) for m, c in columns}
        best = {key: max(v.values()) if v else None for key, v in values.items()}
        body = []
        for layer in layers:
            cells = []
            for method, column in columns:
                value = values[method, column].get(layer)
                top = ' class="best"' if value is not None and value == best[method, column] else ""
                cells.append(
                    f'<td{top} data-method="{esc(method)}" data-metric="{esc(column)}" '
                    f'data-epoch="{esc(epoch)}" data-layer="{esc(layer)}">'
                    f"{_fmt(value, decimals)}</td>"
                )
            body.append(f'<tr><th scope="row">{esc(layer)}</th>{"".join(cells)}</tr>')
        opened = " open" if epoch == epochs[-1] else ""
        blocks.append(
            f"<details{opened}><summary>Epoch {esc(epoch)}</summary>"
            f'<div class="scroll"><table class="num"><thead><tr><th>layer</th>{head1}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div></details>"
        )
    return "".join(blocks)


def _training_table(training) -> str:
    if training is None or not len(training):
        return ""
    rows = []
    for _, r in training.sort_values("epoch").iterrows():
        rows.append(
            f"<tr><td>{int(r['epoch'])}</td><td>{r['train_loss']:.4f}</td>"
            f"<td>{r['train_accuracy']:.4f}</td><td>{r['test_loss']:.4f}</td>"
            f"<td>{r['test_accuracy']:.4f}</td><td>{r['seconds']:.1f}</td></tr>"
        )
    return (
        "<details><summary>Training metrics per epoch</summary><div class='scroll'>"
        '<table class="num"><thead><tr><th>epoch</th><th>train loss</th><th>train acc.</th>'
        "<th>test loss</th><th>test acc.</th><th>seconds</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></details>"
    )


def _runtime_table(summary, methods) -> str:
    rows = []
    for method in methods:
        part = summary[summary["method"] == method]
        fit = part["fit_seconds"].dropna() if "fit_seconds" in part else part.iloc[:0]
        scoring = part["metric_seconds"].dropna() if "metric_seconds" in part else fit.iloc[:0]
        if not len(fit):
            continue
        rows.append(
            f'<tr><th scope="row">{esc(METHOD_LABELS[method])}</th><td>{len(fit)}</td>'
            f'<td data-method="{esc(method)}" data-metric="fit_seconds_total">{fit.sum():.1f}</td>'
            f"<td>{fit.median():.2f}</td><td>{fit.max():.2f}</td>"
            f"<td>{scoring.sum():.1f}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<div class="scroll"><table class="num"><thead><tr><th>method</th><th>projections</th>'
        "<th>fit s, total</th><th>fit s, median</th><th>fit s, max</th><th>scoring s, total</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cards(summary, training, methods, epochs, decimals) -> str:
    cards = []
    if training is not None and len(training):
        last = training.sort_values("epoch").iloc[-1]
        cards.append(
            (
                "test accuracy",
                f"{100 * last['test_accuracy']:.2f} %",
                f"after epoch {int(last['epoch'])}",
            )
        )
    last_epoch = epochs[-1] if epochs else None
    for method in methods:
        series = _series(summary, method, "knn_accuracy", last_epoch)
        if series:
            layer = max(series, key=series.get)
            cards.append(
                (
                    f"best 2-D k-NN, {METHOD_LABELS[method]}",
                    _fmt(series[layer], decimals),
                    f"{layer}, epoch {last_epoch}",
                )
            )
    probe = _series(summary, "representation", "linear_probe_accuracy", last_epoch)
    if probe:
        layer = max(probe, key=probe.get)
        cards.append(
            ("best linear probe", _fmt(probe[layer], decimals), f"{layer}, epoch {last_epoch}")
        )
    return "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
        f'<div class="d">{esc(d)}</div></div>'
        for k, v, d in cards
    )


def _definition_list(items: Mapping[str, str]) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items.items()
    )
    return f'<div class="scroll"><table class="kv"><tbody>{rows}</tbody></table></div>'


# -- the page -------------------------------------------------------------------------------------

CSS = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f5f6f8;--card:#fff;--accent:#2466b4;
--focus:#ffa90e;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
sans-serif;color:var(--ink);background:var(--bg);line-height:1.5;font-size:17px}
*{box-sizing:border-box}body{margin:0}
header.top{background:#1d2a3f;color:#fff;padding:1.4rem 2rem .9rem}
header.top h1{margin:0;font-size:2rem;letter-spacing:.01em}
header.top p{margin:.3rem 0 0;color:#c8d2e2}
nav.sections{display:flex;gap:.2rem;flex-wrap:wrap;position:sticky;top:0;z-index:5;
background:#1d2a3f;padding:0 2rem .6rem;margin:0}
nav.sections a{color:#e6ecf5;text-decoration:none;padding:.35rem .8rem;border-radius:999px;
font-weight:600}
nav.sections a:hover,nav.sections a:focus{background:#33466a}
main{max-width:1500px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;
padding:1.2rem 1.6rem;margin:1.4rem 0;scroll-margin-top:3.5rem}
h2{margin:.2rem 0 .8rem;font-size:1.5rem}h3{margin:1.4rem 0 .5rem;font-size:1.15rem}
.lead{color:var(--muted);margin-top:0}
ul.classes{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0;
margin:.2rem 0 .8rem}
ul.classes li{display:flex;align-items:center;gap:.35rem}
ul.classes .swatch{width:.85rem;height:.85rem;border-radius:50%;display:inline-block}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.8rem;
margin:.4rem 0 1rem}
.card{border:1px solid var(--line);border-radius:10px;padding:.7rem 1rem;background:#fafbfc}
.card .k{color:var(--muted);font-size:.85rem}.card .v{font-size:1.9rem;font-weight:700}
.card .d{color:var(--muted);font-size:.85rem}
ul.findings{padding-left:1.2rem}ul.findings li{margin:.35rem 0}
figure{margin:.6rem 0}figure img{max-width:100%;height:auto;display:block;margin:0 auto;
border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{color:var(--muted);font-size:.9rem;margin-top:.3rem;text-align:center}
.sr{position:absolute;opacity:0;width:1px;height:1px;margin:0;pointer-events:none}
.picker{position:relative}
.controls{display:flex;flex-direction:column;gap:.45rem;margin:.3rem 0 .6rem}
.group{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem}
.glabel{font-weight:700;min-width:4.2rem;color:var(--muted)}
.controls label{border:1px solid #b9c2d0;border-radius:8px;padding:.25rem .75rem;cursor:pointer;
background:#fff;font-variant-numeric:tabular-nums;user-select:none;min-width:2.6rem;
text-align:center}
.controls label:hover{border-color:var(--accent)}
.panes>figure.pane{display:none}
.panes img{max-height:calc(100vh - 13rem);width:auto}
.note{background:#fff8e6;border:1px solid #f0d08a;border-radius:8px;padding:.6rem 1rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0;font-size:.95rem}
th,td{padding:.3rem .7rem;border-bottom:1px solid var(--line);text-align:left}
table.num td{text-align:right;font-variant-numeric:tabular-nums}
table.num thead th{vertical-align:bottom}thead th span{font-weight:400;color:var(--muted);
font-size:.85em}
td.best{font-weight:700;background:#e8f1fb}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
pre{background:#f3f4f7;border:1px solid var(--line);border-radius:8px;padding:.8rem;
overflow-x:auto;font-size:.85rem}
table.kv th{color:var(--muted);font-weight:600;white-space:nowrap}
table.kv td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88rem;
word-break:break-all}
footer{color:var(--muted);text-align:center;font-size:.85rem;padding-bottom:2rem}
kbd{border:1px solid #b9c2d0;border-radius:4px;padding:0 .3rem;font-size:.85em;background:#fff}
@media print{nav.sections{display:none}.panes>figure.pane{display:block;break-inside:avoid}
.controls{display:none}section{break-inside:auto}}
"""

# Deep links only (#pair=10/a4, #pe=10, ...): the page works the same without it.
SCRIPT = """
(function(){
  function apply(){
    var h=decodeURIComponent(location.hash.slice(1));
    h.split('&').forEach(function(part){
      var kv=part.split('='); if(kv.length!==2) return;
      var names=kv[0]==='pair'?['pe','pl']:[kv[0]], vals=kv[1].split('/');
      names.forEach(function(n,i){
        var el=document.getElementById(n+'-'+(vals[i]||'').replace(/[^A-Za-z0-9_-]/g,'_'));
        if(el&&el.type==='radio'){el.checked=true;}
      });
    });
  }
  document.addEventListener('change',function(ev){
    var t=ev.target; if(!t||t.type!=='radio') return;
    var n=t.name, v=t.value;
    if(n==='pe'||n==='pl'){
      var e=document.querySelector('input[name=pe]:checked'),
          l=document.querySelector('input[name=pl]:checked');
      history.replaceState(null,'','#pair='+e.value+'/'+l.value);
    } else { history.replaceState(null,'','#'+n+'='+v); }
  });
  window.addEventListener('hashchange',apply); apply();
})();
"""


class _ConfigDumper(yaml.SafeDumper):
    """Mappings in block style (one key a line), lists inline: the config as people write it."""


_ConfigDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def _class_key(class_names: Sequence[str]) -> str:
    """The colour of each class, as the figures draw it; a tooltip names class and label."""
    if not class_names:
        return ""
    items = "".join(
        f'<li title="label {i}: {esc(name)}"><span class="swatch" '
        f'style="background:{PALETTE[i % len(PALETTE)]}"></span>{esc(name)}</li>'
        for i, name in enumerate(class_names)
    )
    return f'<ul class="classes" aria-label="class colours">{items}</ul>'


def render(
    *,
    run_name: str,
    summary,
    training,
    sources: Mapping[str, str],
    methods: Sequence[str],
    epochs: Sequence[int],
    layers: Sequence[str],
    config: Mapping,
    provenance_info: Mapping[str, str],
    versions: Mapping[str, str],
    decimals: int = 3,
) -> str:
    """The report page as one HTML string.

    Parameters
    ----------
    run_name : str
        Title (from the config; escaped like every other string).
    summary, training : pandas.DataFrame
        The collected metrics table and the training table.
    sources : mapping
        Figure id (see :func:`figure_paths`) to the ``src`` of its ``<img>``.
    methods, epochs, layers : sequences
        What was projected, in display order.
    config : mapping
        The run's config, shown as YAML.
    provenance_info, versions : mappings
        Key-value lines for the provenance section (commit, command, ...) and package versions.
    decimals : int
        Digits after the point of every score.
    """
    methods = [m for m in METHODS if m in methods]
    epochs, layers = list(epochs), list(layers)
    dataset = DATASETS.get(config.get("dataset", ""))
    dataset_title = dataset.title if dataset else str(config.get("dataset", ""))
    hidden = config.get("model", {}).get("hidden", [])
    if dataset:
        h, w = dataset.image_shape
        shape = "-".join(str(x) for x in [h * w, *hidden, len(dataset.class_names)])
    else:
        shape = "-".join(str(x) for x in hidden)
    epochs_trained = config.get("train", {}).get("epochs", "?")
    subtitle = (
        f"{dataset_title} · MLP {shape} ({config.get('model', {}).get('activation', '')}) · "
        f"{epochs_trained} epochs · {len(layers)} layers × {len(epochs)} epochs × "
        f"{len(methods)} projection methods"
    )
    names = ", ".join(METHOD_LABELS[m] for m in methods)
    k = neighbours(summary)

    findings_html = "".join(
        f"<li>{_emphasis(s)}</li>" for s in findings(summary, training, decimals)
    )
    pairs_html, pairs_css = _pairs_section(sources, epochs, layers, methods)
    grids_html, grids_css = _single_tabs(
        "gm",
        "grid",
        sources,
        [(m, METHOD_LABELS[m]) for m in methods],
        "Method",
        lambda t: f"{t} of every layer at every epoch",
        lambda t: (
            f"{esc(t)}: rows = epochs, columns = layers; each embedding is rotated, scaled "
            "and shifted (Procrustes) onto the reference epoch's, so clusters keep their place."
        ),
    )
    heat_html, heat_css = _single_tabs(
        "hm",
        "heatmap",
        sources,
        [(k, METRIC_LABELS[k]) for k in HEATMAP_METRICS],
        "Metric",
        lambda t: f"heat map of {t} by layer and epoch",
        lambda t: f"{esc(t[:1].upper() + t[1:])} for every layer (columns) and epoch (rows).",
    )
    scaling = (
        _figure(
            sources,
            "tsne_scaling",
            "t-SNE scaling benchmark, time against n",
            "Wall time against the number of points (log-log); the slope is the empirical "
            "exponent.",
        )
        if "tsne_scaling" in sources
        else '<p class="note">No scaling benchmark yet. Produce it with <code>python '
        "benchmarks/bench_tsne.py</code>, which writes "
        "<code>results/benchmarks/tsne_scaling.csv</code>, then run Snakemake again: the "
        "figure and this section update.</p>"
    )
    training_fig = _figure(
        sources,
        "training",
        "loss and accuracy per epoch",
        "Loss and accuracy per epoch on the training and test split; epoch 0 is the untrained "
        "network.",
    )
    curves_fig = _figure(
        sources,
        "curves",
        "metric curves against layer depth",
        "Class separation against depth, one line per epoch.",
    )
    fit_fig = _figure(
        sources,
        "fit_time",
        "fit time per method and layer",
        "Seconds per projection: bars = the computation alone, diamonds = the whole job.",
    )
    config_yaml = yaml.dump(dict(config), Dumper=_ConfigDumper, sort_keys=False)
    css = "\n".join([CSS, pairs_css, grids_css, heat_css])

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="LayerScope {esc(__version__)}">
<title>{esc(run_name)} · LayerScope report</title>
<style>{css}</style>
</head>
<body>
<header class="top">
<h1>{esc(run_name)}</h1>
<p>{esc(subtitle)}</p>
</header>
<nav class="sections" aria-label="Sections">
<a href="#summary">Summary</a><a href="#training">Training</a>
<a href="#projections">Projections</a><a href="#metrics">Metrics</a>
<a href="#runtime">Runtime</a><a href="#provenance">Provenance</a>
</nav>
<main>
<section id="summary">
<h2>Summary</h2>
<div class="cards">{_cards(summary, training, methods, epochs, decimals)}</div>
<ul class="findings">{findings_html}</ul>
<p class="lead">k-NN accuracy: share of points whose {k} nearest neighbours (in the 2-D map, or
in the full activations) vote for their true class. Trustworthiness: how much the 2-D
neighbourhoods are true neighbourhoods of the activations (1 = all). Linear probe: held-out
accuracy of a logistic regression on the full activations.</p>
</section>

<section id="training">
<h2>Training</h2>
{training_fig}
{_training_table(training)}
</section>

<section id="projections">
<h2>Projections by layer and epoch</h2>
<p class="lead">Each image of the probe set is one dot, coloured by its true class. Choose an
epoch and a layer ({esc(names)} side by side); with a control focused, the arrow keys step
through its values.</p>
{_class_key(dataset.class_names if dataset else ())}
{pairs_html}
<h3>Every layer at every epoch</h3>
{grids_html}
</section>

<section id="metrics">
<h2>Metrics</h2>
{curves_fig}
<h3>Heat maps</h3>
{heat_html}
<h3>Tables</h3>
<p class="lead">The best value of each column is highlighted.</p>
{_metrics_tables(summary, methods, epochs, layers, decimals)}
</section>

<section id="runtime">
<h2>Runtime</h2>
{fit_fig}
{_runtime_table(summary, methods)}
<h3>Scaling with the number of points</h3>
{scaling}
</section>

<section id="provenance">
<h2>Provenance</h2>
{_definition_list(provenance_info)}
<h3>Library versions</h3>
{_definition_list(versions)}
<h3>Config</h3>
<pre>{esc(config_yaml)}</pre>
</section>
</main>
<footer>LayerScope {esc(__version__)} · this page needs no network and works without
JavaScript</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""


# -- provenance and writing -----------------------------------------------------------------------


def collect_provenance(
    config: Mapping, repo: str | Path, frame_meta: Mapping | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """The provenance lines and package versions shown in the report.

    ``frame_meta``: the metrics table's metadata; its ``versions`` (those of the jobs that
    computed the numbers) are shown beside the report job's own.
    """
    info = {
        "git commit": provenance.git_commit(repo),
        "command": provenance.snakemake_command() or "unknown (no /proc, or not run by Snakemake)",
        "working directory": os.getcwd(),
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seed": str(config.get("seed", "")),
        "config hash": provenance.config_hash(dict(config)),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    versions = {"layerscope": __version__, **provenance.versions(*PACKAGES)}
    for name, version in ((frame_meta or {}).get("versions") or {}).items():
        versions[f"{name} (metrics jobs)"] = str(version)
    return info, versions


def write_report(
    path: str | Path, figures: Mapping[str, str | Path], embed: bool = False, **render_kwargs
) -> dict[str, Path]:
    """Write the page to ``path`` and its figures beside it (``figures/``) or into it.

    ``figures`` maps figure ids to files; ``render_kwargs`` go to :func:`render`. Returns the
    copies made (none when embedding).
    """
    path = Path(path)
    sources, copies = {}, {}
    for figure_id, file in figures.items():
        file = Path(file)
        if not file.exists():
            raise FileNotFoundError(f"figure {figure_id!r}: {file} is missing; run the workflow")
        if embed:
            data = base64.b64encode(file.read_bytes()).decode("ascii")
            sources[figure_id] = f"data:{MIME.get(file.suffix, 'image/png')};base64,{data}"
            continue
        name = copy_name(figure_id, file.suffix)
        target = path.parent / name
        with atomic_path(target) as tmp:
            shutil.copyfile(file, tmp)
        sources[figure_id] = name
        copies[figure_id] = target
    page = render(sources=sources, **render_kwargs)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return copies
