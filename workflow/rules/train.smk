# Training: one job per epoch, each resuming from the previous epoch's checkpoint.


# Train epoch `epoch` (epoch 0 initialises the weights) and evaluate it on both splits.
rule train_epoch:
    input:
        train=results("data/train.parquet"),
        test=results("data/test.parquet"),
        previous=previous_checkpoint,
    output:
        checkpoint=results("checkpoints/epoch_{epoch}.pt"),
        metrics=results("training/epoch_{epoch}.json"),
    log:
        results("logs/train_epoch/epoch_{epoch}.log"),
    benchmark:
        results("benchmarks/train_epoch/epoch_{epoch}.tsv")
    # The epoch chain is the run's critical path: start its jobs first.
    priority: 10
    conda:
        "../../envs/torch.yaml"
    # Batches of 64 gain nothing from a second intra-op thread and lose much when the
    # cores are shared (measured: 19,000 samples/s on 1 thread, 600 on 2 under load).
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        run=run_params(),
    script:
        "../scripts/train_epoch.py"


# Collect the per-epoch training metrics into one table.
rule summarize_training:
    input:
        expand(
            results("training/epoch_{epoch}.json"),
            epoch=range(config["train"]["epochs"] + 1),
        ),
    output:
        results("training/metrics.parquet"),
    log:
        results("logs/summarize_training/summarize_training.log"),
    conda:
        "../../envs/torch.yaml"
    script:
        "../scripts/summarize_training.py"
