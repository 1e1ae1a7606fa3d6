"""Project one layer's activations at one epoch to 2-D, then score the embedding."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import time

from layerscope import jobs
from layerscope.files import write_json
from layerscope.metrics import projection_metrics
from layerscope.projections import project
from layerscope.tables import read_activations, read_projection, rows_by_sample, write_projection


def main():
    method = snakemake.params.method
    table = read_activations(snakemake.input.activations)
    init, init_from = None, method["settings"].get("initialization", "default")
    if "init" in snakemake.input.keys():  # noqa: SIM118 (a Namedlist: `in` looks at values)
        previous = read_projection(snakemake.input.init)
        init = rows_by_sample(previous.xy, previous.sample, table.sample, snakemake.input.init)
        init_from = f"epoch {previous.meta['epoch']}"
    xy, info = project(
        table.activation, method["name"], method["settings"], method["seed"], init,
        n_jobs=snakemake.threads,
    )  # fmt: skip
    started = time.perf_counter()
    scores = projection_metrics(table.activation, xy, table.label, snakemake.params.k)
    metric_seconds = time.perf_counter() - started
    meta = {
        **info,
        "epoch": table.meta["epoch"],
        "layer": table.meta["layer"],
        "dataset": table.meta["dataset"],
        "class_names": table.meta["class_names"],
        "activations_hash": table.meta["config_hash"],
        "init_from": init_from,
        "alignment": None,
    }
    write_projection(
        snakemake.output.projection, table.sample, table.label, table.prediction, xy, meta
    )
    write_json(
        snakemake.output.metrics,
        {
            "method": method["name"],
            "epoch": table.meta["epoch"],
            "layer": table.meta["layer"],
            "n": len(table.label),
            **scores,
            "fit_seconds": info["fit_seconds"],
            "metric_seconds": metric_seconds,
        },
    )
    jobs.log.info(
        "%s: fit %.2f s, metrics %.2f s, %s",
        method["name"],
        info["fit_seconds"],
        metric_seconds,
        scores,
    )


jobs.run(snakemake.log[0], main, threads=snakemake.threads)
