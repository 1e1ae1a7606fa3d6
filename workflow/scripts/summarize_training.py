"""Collect every epoch's training metrics into one table."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import pandas as pd

from layerscope import jobs
from layerscope.files import read_json
from layerscope.tables import write_frame


def main():
    rows = [read_json(path) for path in snakemake.input]
    frame = pd.DataFrame(rows).sort_values("epoch").reset_index(drop=True)
    write_frame(snakemake.output[0], frame, "training", {"dataset": snakemake.config["dataset"]})


jobs.run(snakemake.log[0], main)
