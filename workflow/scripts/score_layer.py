"""Score one layer's full-dimensional activations: linear probe and k-NN accuracy."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import time

from layerscope import jobs
from layerscope.files import write_json
from layerscope.metrics import representation_metrics
from layerscope.tables import read_activations


def main():
    table = read_activations(snakemake.input[0])
    started = time.perf_counter()
    scores = representation_metrics(
        table.activation, table.label, snakemake.params.seed, snakemake.params.k
    )
    result = {
        "epoch": table.meta["epoch"],
        "layer": table.meta["layer"],
        "n": len(table.label),
        "width": table.activation.shape[1],
        **scores,
        "seconds": time.perf_counter() - started,
    }
    write_json(snakemake.output[0], result)
    jobs.log.info("%s", result)


jobs.run(snakemake.log[0], main, threads=snakemake.threads)
