"""Run the probe set through one epoch's checkpoint and write one table per layer."""

from layerscope.jobserver import delegate

delegate()  # run in the preloaded job server when there is one (see layerscope.jobserver)

import torch

from layerscope import __version__, jobs
from layerscope.capture import capture_layers, probe_indices
from layerscope.provenance import config_hash
from layerscope.tables import read_dataset, write_activations
from layerscope.train import load_checkpoint, make_deterministic, resolve_device


def main():
    params = snakemake.params
    device = resolve_device(snakemake.config["device"])
    torch.set_num_threads(snakemake.threads)
    make_deterministic(device)
    state = load_checkpoint(snakemake.input.checkpoint, device)
    probe = read_dataset(snakemake.input.probe)
    chosen = probe_indices(probe.label, params.probe["n"], params.probe["seed"])
    pixels = torch.from_numpy(probe.pixels[chosen]).to(device)
    batch_size = snakemake.config["capture"]["batch_size"]
    activations, prediction = capture_layers(state["model"], pixels, params.layers, batch_size)
    meta = {
        "epoch": state["epoch"],
        "split": probe.meta["split"],
        "dataset": probe.meta["dataset"],
        "class_names": probe.class_names,
        "model": state["model_config"],
        "probe": params.probe,
        "config_hash": config_hash({"run": state["run_config"], "probe": params.probe}),
        "layerscope_version": __version__,
    }
    for layer, path in zip(params.layers, snakemake.output, strict=True):
        write_activations(
            path, probe.sample[chosen], probe.label[chosen], prediction, activations[layer],
            {**meta, "layer": layer},
        )  # fmt: skip
    jobs.log.info(
        "epoch %d: %d layers of %d probe samples", state["epoch"], len(params.layers), len(chosen)
    )


jobs.run(snakemake.log[0], main)
