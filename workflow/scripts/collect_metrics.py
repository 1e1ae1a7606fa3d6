"""Collect every score file into one table (one row per projection or representation)."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import numpy as np
import pandas as pd

from layerscope import jobs
from layerscope.config import captured_layers
from layerscope.files import read_json
from layerscope.provenance import versions
from layerscope.tables import FRAME_COLUMNS, write_frame

# What computed the numbers (this job runs in the same environment as the projection jobs).
LIBRARIES = ("numpy", "scikit-learn", "openTSNE", "umap-learn", "numba", "scipy")


def main():
    depth = {layer: i for i, layer in enumerate(captured_layers(snakemake.config))}
    rows = []
    for path in snakemake.input:
        row = read_json(path)
        row.setdefault("method", "representation")
        row["fit_seconds"] = row.get("fit_seconds", row.pop("seconds", np.nan))
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=FRAME_COLUMNS["metrics"])
    frame["depth"] = frame["layer"].map(depth)
    frame = frame.sort_values(["method", "epoch", "depth"]).reset_index(drop=True)
    meta = {"dataset": snakemake.config["dataset"], "versions": versions(*LIBRARIES)}
    write_frame(snakemake.output[0], frame, "metrics", meta)


jobs.run(snakemake.log[0], main)
