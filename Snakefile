# LayerScope: how an MLP's picture of its data changes, layer by layer and epoch by epoch.
# This file is the table of contents; the rules live in workflow/rules/, one file per stage.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/capture.smk"
include: "workflow/rules/project.smk"
include: "workflow/rules/plot.smk"
include: "workflow/rules/report.smk"


onstart:
    on_start()


localrules:
    all,
    prepare_dataset,
    summarize_training,
    collect_metrics,
    build_report,


# Everything the config asks for.
rule all:
    input:
        get_final_output(),
