"""Load a dataset's train and test splits (downloading them if allowed) into Parquet tables."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import numpy as np

from layerscope import jobs
from layerscope.datasets import SPLITS, load_split
from layerscope.tables import write_dataset


def main():
    config = snakemake.config
    for split in SPLITS:
        data = load_split(snakemake.params.dataset, config["data_root"], split, config["download"])
        meta = {
            "dataset": data.info.name,
            "title": data.info.title,
            "split": split,
            "class_names": list(data.info.class_names),
            "image_shape": list(data.info.image_shape),
            "pixel_max": data.info.pixel_max,
        }
        write_dataset(
            snakemake.output[split], np.arange(len(data.labels)), data.labels, data.images, meta
        )
        jobs.log.info(
            "%s %s: %d images from %s", data.info.name, split, len(data.labels), data.source
        )


jobs.run(snakemake.log[0], main)
