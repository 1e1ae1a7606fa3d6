"""Draw loss and accuracy per epoch on both splits."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs, plots
from layerscope.tables import read_frame


def main():
    options = plots.PlotOptions.from_config(snakemake.params.options)
    training = read_frame(snakemake.input[0], "training")
    plots.save(plots.training_figure(training, options=options), snakemake.output[0], options)


jobs.run(snakemake.log[0], main)
