"""Train one epoch from the previous epoch's checkpoint (epoch 0: initialise) and evaluate it."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import sys

import numpy as np
import torch
from tqdm import tqdm

from layerscope import jobs
from layerscope.files import write_json
from layerscope.model import ModelConfig
from layerscope.tables import read_dataset
from layerscope.train import (
    Throughput,
    TrainConfig,
    evaluate,
    init_model,
    load_checkpoint,
    make_deterministic,
    make_optimizer,
    resolve_device,
    save_checkpoint,
    train_epoch,
)


def to_device(table, device):
    pixels = torch.from_numpy(table.pixels).to(device)
    return pixels, torch.from_numpy(table.label.astype(np.int64)).to(device)


def main():
    jobs.log.info("started")
    run = snakemake.params.run
    epoch = int(snakemake.wildcards.epoch)
    device = resolve_device(snakemake.config["device"])
    torch.set_num_threads(snakemake.threads)
    make_deterministic(device)
    cfg = TrainConfig(**run["train"], seed=run["seed"])
    train, test = read_dataset(snakemake.input.train), read_dataset(snakemake.input.test)
    x_train, y_train = to_device(train, device)
    x_test, y_test = to_device(test, device)

    if epoch == 0:
        scaled = train.pixels / train.meta["pixel_max"]
        model_config = ModelConfig(
            input_dim=train.pixels.shape[1],
            hidden=run["model"]["hidden"],
            n_classes=len(train.class_names),
            activation=run["model"]["activation"],
            pixel_max=float(train.meta["pixel_max"]),
            mean=float(scaled.mean()),
            std=float(scaled.std()),
        )
        model = init_model(model_config, cfg.seed).to(device)
        optimizer = make_optimizer(model, cfg)
        seconds = 0.0
        train_loss, train_accuracy = evaluate(model, x_train, y_train)
    else:
        state = load_checkpoint(snakemake.input.previous, device)
        model = state["model"]
        optimizer = make_optimizer(model, cfg)
        optimizer.load_state_dict(state["optimizer_state"])
        bar = tqdm(
            total=len(y_train), desc=f"epoch {epoch}", unit="sample", file=sys.stderr,
            mininterval=5, ascii=True,
        )  # fmt: skip
        with bar, Throughput(device) as timer:
            train_loss, train_accuracy = train_epoch(
                model, optimizer, x_train, y_train, cfg, epoch, bar
            )
        seconds = timer.seconds

    test_loss, test_accuracy = evaluate(model, x_test, y_test)
    metrics = {
        "epoch": epoch,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "seconds": seconds,
        "samples_per_second": len(y_train) / seconds if seconds else 0.0,
        "device": str(device),
    }
    jobs.log.info("epoch %d on %s: %s", epoch, device, metrics)
    save_checkpoint(snakemake.output.checkpoint, model, optimizer, cfg, epoch, run, metrics)
    write_json(snakemake.output.metrics, metrics)


jobs.run(snakemake.log[0], main)
