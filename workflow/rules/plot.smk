# Figures: one job per figure, each a cached target under results/plots/. The plot options
# (config `plots`) are each rule's only params, so changing one redraws figures, not numbers.


# One (epoch, layer) in every configured projection method, side by side.
rule plot_pair:
    input:
        tables=expand(
            results("projections/{method}/epoch_{{epoch}}/{{layer}}.parquet"),
            method=METHODS,
        ),
        metrics=expand(
            results("metrics/{method}/epoch_{{epoch}}/{{layer}}.json"), method=METHODS
        ),
    output:
        report(
            results(f"plots/pairs/epoch_{{epoch}}/{{layer}}.{PLOT_FORMAT}"),
            caption="../report/pair.rst",
            category="Projections",
            subcategory="Epoch {epoch}",
            labels={"layer": "{layer}", "epoch": "{epoch}"},
        ),
    log:
        results("logs/plot_pair/epoch_{epoch}/{layer}.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_pair.py"


# One method's aligned embeddings of every layer (columns) at every epoch (rows).
rule plot_grid:
    input:
        tables=expand(
            results("projections/{{method}}/epoch_{epoch}/{layer}.aligned.parquet"),
            epoch=EPOCHS,
            layer=LAYERS,
        ),
        metrics=expand(
            results("metrics/{{method}}/epoch_{epoch}/{layer}.json"),
            epoch=EPOCHS,
            layer=LAYERS,
        ),
    output:
        report(
            results(f"plots/grids/{{method}}.{PLOT_FORMAT}"),
            caption="../report/grid.rst",
            category="Projections",
            subcategory="All epochs and layers",
            labels={"method": "{method}"},
        ),
    log:
        results("logs/plot_grid/{method}.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_grid.py"


# Class separation against layer depth, one line per epoch.
rule plot_metric_curves:
    input:
        results("metrics/summary.parquet"),
    output:
        report(
            results(f"plots/metrics/curves.{PLOT_FORMAT}"),
            caption="../report/curves.rst",
            category="Metrics",
            subcategory="Curves",
            labels={"figure": "separation against depth"},
        ),
    log:
        results("logs/plot_metric_curves/plot_metric_curves.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_metric_curves.py"


# A layer x epoch heat map of one metric, a panel per method.
rule plot_metric_heatmap:
    input:
        results("metrics/summary.parquet"),
    output:
        report(
            results(f"plots/metrics/heatmap_{{metric}}.{PLOT_FORMAT}"),
            caption="../report/heatmap.rst",
            category="Metrics",
            subcategory="Heat maps",
            labels={"metric": "{metric}"},
        ),
    log:
        results("logs/plot_metric_heatmap/{metric}.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_metric_heatmap.py"


# Seconds per projection: the fit alone (metrics table) and the whole job (benchmarks).
rule plot_fit_time:
    input:
        summary=results("metrics/summary.parquet"),
        benchmarks=expand(
            results("benchmarks/project_layer/{method}/epoch_{epoch}/{layer}.tsv"),
            method=METHODS,
            epoch=EPOCHS,
            layer=LAYERS,
        ),
    output:
        report(
            results(f"plots/runtime/fit_time.{PLOT_FORMAT}"),
            caption="../report/fit_time.rst",
            category="Runtime",
            labels={"figure": "fit time"},
        ),
    log:
        results("logs/plot_fit_time/plot_fit_time.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_fit_time.py"


# Wall time against the number of points, from benchmarks/bench_tsne.py's table.
rule plot_tsne_scaling:
    input:
        results("benchmarks/tsne_scaling.csv"),
    output:
        report(
            results(f"plots/runtime/tsne_scaling.{PLOT_FORMAT}"),
            caption="../report/tsne_scaling.rst",
            category="Runtime",
            labels={"figure": "t-SNE scaling"},
        ),
    log:
        results("logs/plot_tsne_scaling/plot_tsne_scaling.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_tsne_scaling.py"


# Loss and accuracy per epoch on both splits.
rule plot_training:
    input:
        results("training/metrics.parquet"),
    output:
        report(
            results(f"plots/training.{PLOT_FORMAT}"),
            caption="../report/training.rst",
            category="Training",
            labels={"figure": "loss and accuracy"},
        ),
    log:
        results("logs/plot_training/plot_training.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["plots"],
    script:
        "../scripts/plot_training.py"
