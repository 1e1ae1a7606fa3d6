"""Draw a layer x epoch heat map of one metric, a panel per method."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.tables import read_frame


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    summary = read_frame(snakemake.input[0], "metrics")
    figure = plots.heatmap_figure(summary, snakemake.wildcards.metric, options=options)
    plots.save(figure, snakemake.output[0], options)


jobs.run(snakemake.log[0], main)
