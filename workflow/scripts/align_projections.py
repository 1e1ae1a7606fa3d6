"""Align every epoch's embedding of one (method, layer) onto the reference epoch's."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from layerscope import jobs
from layerscope.projections import procrustes_align
from layerscope.tables import read_projection, write_projection


def main():
    tables = [read_projection(path) for path in snakemake.input]
    by_epoch = {t.meta["epoch"]: t for t in tables}
    reference = by_epoch[snakemake.params.reference]
    for table, path in zip(tables, snakemake.output, strict=True):
        xy, info = procrustes_align(table.xy, reference.xy, table.sample, reference.sample)
        alignment = {"method": "procrustes", "reference_epoch": snakemake.params.reference, **info}
        meta = {**table.meta, "alignment": alignment}
        write_projection(path, table.sample, table.label, table.prediction, xy, meta)
        jobs.log.info("epoch %s: disparity %.4f", table.meta["epoch"], info["disparity"])


jobs.run(snakemake.log[0], main)
