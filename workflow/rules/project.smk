# Projections and scores: one job per (method, epoch, layer), each its own cached target.


# Project one layer at one epoch to 2-D and score the embedding.
rule project_layer:
    input:
        unpack(projection_inputs),
    output:
        projection=results("projections/{method}/epoch_{epoch}/{layer}.parquet"),
        metrics=results("metrics/{method}/epoch_{epoch}/{layer}.json"),
    log:
        results("logs/project_layer/{method}/epoch_{epoch}/{layer}.log"),
    benchmark:
        results("benchmarks/project_layer/{method}/epoch_{epoch}/{layer}.tsv")
    conda:
        "../../envs/analysis.yaml"
    threads: projection_threads
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        method=projection_params,
        k=config["metrics"]["k"],
    script:
        "../scripts/project_layer.py"


# Align every epoch's embedding of one (method, layer) onto the reference epoch's.
rule align_projections:
    input:
        expand(
            results("projections/{{method}}/epoch_{epoch}/{{layer}}.parquet"),
            epoch=EPOCHS,
        ),
    output:
        expand(
            results("projections/{{method}}/epoch_{epoch}/{{layer}}.aligned.parquet"),
            epoch=EPOCHS,
        ),
    log:
        results("logs/align_projections/{method}/{layer}.log"),
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        reference=lsconfig.reference_epoch(config),
    script:
        "../scripts/align_projections.py"


# Score one layer's full-dimensional activations: linear probe and k-NN accuracy.
rule score_layer:
    input:
        results("activations/epoch_{epoch}/{layer}.parquet"),
    output:
        results("metrics/representation/epoch_{epoch}/{layer}.json"),
    log:
        results("logs/score_layer/epoch_{epoch}/{layer}.log"),
    benchmark:
        results("benchmarks/score_layer/epoch_{epoch}/{layer}.tsv")
    conda:
        "../../envs/analysis.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        k=config["metrics"]["k"],
        seed=config["seed"],
    script:
        "../scripts/score_layer.py"


# Collect every score into one table for the figures and the report.
rule collect_metrics:
    input:
        metric_files(),
    output:
        results("metrics/summary.parquet"),
    log:
        results("logs/collect_metrics/collect_metrics.log"),
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/collect_metrics.py"
