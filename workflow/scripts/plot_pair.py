"""Draw one (epoch, layer) in every configured projection method, side by side."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.files import read_json
from layerscope.tables import read_projection


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    panels = {}
    for path in snakemake.input.tables:
        table = read_projection(path)
        panels[table.meta["method"]] = table
    knn = {}
    for path in snakemake.input.metrics:
        scores = read_json(path)
        knn[scores["method"]] = scores["knn_accuracy"]
    plots.save(plots.pair_figure(panels, knn, options=options), snakemake.output[0], options)
    jobs.log.info("%s: %s", snakemake.output[0], ", ".join(panels))


jobs.run(snakemake.log[0], main)
