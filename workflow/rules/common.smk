# Config validation, wildcard constraints and the functions the rules call.
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
from layerscope import config as lsconfig  # noqa: E402
from layerscope.tables import TableError, read_meta  # noqa: E402

SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"


def check_config():
    """Stop before any job with one line naming the bad key, its value and what is allowed."""
    schema = yaml.safe_load(SCHEMA.read_text())
    config.update(lsconfig.coerce_strings(config, schema))
    problem = lsconfig.schema_error(config, schema)
    if problem is None:
        validate(config, schema=str(SCHEMA))  # fills in the defaults
        problems = lsconfig.semantic_errors(config)
        problem = problems[0] if problems else None
    if problem is not None:
        sys.exit(f"LayerScope config error: {problem}")


def check_results_dir():
    """Refuse to mix two datasets' results in one folder (outputs would be overwritten)."""
    table = Path(config["results_dir"]) / "data" / "train.parquet"
    try:
        found = read_meta(table)["dataset"] if table.exists() else config["dataset"]
    except (TableError, KeyError):
        return  # a damaged table is the prepare_dataset rule's to replace
    if found != config["dataset"]:
        sys.exit(
            f"LayerScope config error: results_dir {config['results_dir']!r} holds "
            f"{found} results, but dataset = {config['dataset']!r}; give this dataset its own "
            f"folder, e.g. --config dataset={config['dataset']} "
            f"results_dir=results/{config['dataset']}"
        )


check_config()
check_results_dir()

LAYERS = lsconfig.captured_layers(config)
EPOCHS = lsconfig.captured_epochs(config)


wildcard_constraints:
    epoch=r"\d+",
    layer=r"input|logits|[za]\d+",
    split=r"train|test",


def results(path):
    """A path inside the configured results folder."""
    return str(Path(config["results_dir"]) / path)


def run_params():
    """What determines the trained weights: dataset, seed, model and optimisation."""
    keys = ("dataset", "seed", "model", "train")
    return {key: config[key] for key in keys}


def probe_params():
    """What determines the probe set besides the split."""
    return {"n": lsconfig.probe_size(config), "seed": config["seed"]}


def previous_checkpoint(wildcards):
    """Epoch e trains from epoch e-1's checkpoint; epoch 0 is the initialisation."""
    epoch = int(wildcards.epoch)
    if epoch > config["train"]["epochs"]:
        raise ValueError(
            f"epoch {epoch} is beyond train.epochs = {config['train']['epochs']}; "
            "raise train.epochs to train that far"
        )
    return [] if epoch == 0 else results(f"checkpoints/epoch_{epoch - 1}.pt")


def training_outputs():
    """Every epoch's checkpoint and the training-metrics table."""
    epochs = range(config["train"]["epochs"] + 1)
    return [
        results("training/metrics.parquet"),
        *expand(results("checkpoints/epoch_{epoch}.pt"), epoch=epochs),
    ]


def activation_tables():
    """Every captured (epoch, layer) table."""
    return expand(
        results("activations/epoch_{epoch}/{layer}.parquet"), epoch=EPOCHS, layer=LAYERS
    )


def get_final_output():
    """The targets of `rule all`, from the config."""
    return [*training_outputs(), *activation_tables()]
