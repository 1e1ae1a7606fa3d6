"""Draw one method's aligned embeddings: a row per epoch, a column per layer."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.files import read_json
from layerscope.tables import read_projection


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    tables = [read_projection(path) for path in snakemake.input.tables]
    knn = {}
    for path in snakemake.input.metrics:
        scores = read_json(path)
        knn[scores["epoch"], scores["layer"]] = scores["knn_accuracy"]
    plots.save(plots.grid_figure(tables, knn, options=options), snakemake.output[0], options)
    jobs.log.info("%s: %d panels", snakemake.output[0], len(tables))


jobs.run(snakemake.log[0], main)
