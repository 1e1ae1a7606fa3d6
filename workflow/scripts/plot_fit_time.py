"""Draw the time of every projection: fit seconds and the whole job's wall seconds."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.tables import read_frame


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    summary = read_frame(snakemake.input.summary, "metrics")
    benchmarks = plots.read_benchmarks(snakemake.input.benchmarks)
    figure = plots.fit_time_figure(summary, benchmarks, options=options)
    plots.save(figure, snakemake.output[0], options)


jobs.run(snakemake.log[0], main)
