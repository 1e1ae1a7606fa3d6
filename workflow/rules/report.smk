# The HTML report: one page with every figure, the metric tables and the run's provenance.


# Assemble results/report/index.html, figures copied beside it (or embedded, report.embed_images).
rule build_report:
    input:
        figures=list(figures().values()),
        summary=results("metrics/summary.parquet"),
        training=results("training/metrics.parquet"),
    output:
        html=results("report/index.html"),
        copies=report_copies(),
    log:
        results("logs/build_report/build_report.log"),
    conda:
        "../../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    # Every other config key that matters reaches the report through its inputs; those that
    # do not (device, data_root, batch sizes) must rerun nothing, as the README promises.
    params:
        figures=figures(),
        layout={"methods": METHODS, "epochs": EPOCHS, "layers": LAYERS},
        run_name=config["run_name"],
        options=config["report"],
    script:
        "../scripts/build_report.py"
