"""Draw the t-SNE scaling benchmark: wall time against the number of points, log-log."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import pandas as pd

from layerscope import jobs, plots


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    scaling = pd.read_csv(snakemake.input[0])
    try:
        figure = plots.scaling_figure(scaling, options=options)
    except ValueError as err:
        raise ValueError(f"{snakemake.input[0]}: {err}; rerun benchmarks/bench_tsne.py") from None
    plots.save(figure, snakemake.output[0], options)


jobs.run(snakemake.log[0], main)
