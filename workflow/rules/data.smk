# Datasets: one Parquet table per split, the only stage that touches the raw files or network.


# Read (downloading if allowed) the dataset's train and test splits.
rule prepare_dataset:
    output:
        train=results("data/train.parquet"),
        test=results("data/test.parquet"),
    log:
        results("logs/prepare_dataset/prepare_dataset.log"),
    conda:
        "../../envs/torch.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        dataset=config["dataset"],
    script:
        "../scripts/prepare_dataset.py"
