# Capture: a fixed probe set through one epoch's checkpoint, one Parquet table per layer.


# Record every configured layer's activations at epoch `epoch`.
rule capture_activations:
    input:
        checkpoint=results("checkpoints/epoch_{epoch}.pt"),
        probe=results(f"data/{config['capture']['split']}.parquet"),
    output:
        expand(results("activations/epoch_{{epoch}}/{layer}.parquet"), layer=LAYERS),
    log:
        results("logs/capture_activations/epoch_{epoch}.log"),
    benchmark:
        results("benchmarks/capture_activations/epoch_{epoch}.tsv")
    priority: 10
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        layers=LAYERS,
        probe=probe_params(),
    script:
        "../scripts/capture_activations.py"
