"""Assemble the HTML report: every figure, the metric tables and the run's provenance."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

from pathlib import Path

from layerscope import jobs, report
from layerscope.tables import read_frame


def main():
    params, config = snakemake.params, snakemake.config
    summary = read_frame(snakemake.input.summary, "metrics")
    training = read_frame(snakemake.input.training, "training")
    info, versions = report.collect_provenance(
        config, Path(snakemake.scriptdir), summary.attrs.get("meta")
    )
    copies = report.write_report(
        snakemake.output.html,
        params.figures,
        embed=params.options["embed_images"],
        run_name=params.run_name,
        summary=summary,
        training=training,
        config=config,
        provenance_info=info,
        versions=versions,
        decimals=params.options["decimals"],
        **params.layout,
    )
    jobs.log.info(
        "%s: %d figures, %d copied beside it",
        snakemake.output.html,
        len(params.figures),
        len(copies),
    )


jobs.run(snakemake.log[0], main)
