"""Draw class separation against layer depth, one line per epoch."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.tables import read_frame


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    summary = read_frame(snakemake.input[0], "metrics")
    plots.save(plots.metric_curves_figure(summary, options=options), snakemake.output[0], options)


jobs.run(snakemake.log[0], main)
