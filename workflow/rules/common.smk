# Config validation, wildcard constraints and the functions the rules call.
import os
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

# This workflow's own library comes first, here and in every job (Snakemake appends a
# script's folder to sys.path, after an installed copy that may belong to another clone).
LIBRARY = str(Path(workflow.basedir) / "workflow" / "scripts")
sys.path.insert(0, LIBRARY)
OTHER_PATHS = os.environ.get("PYTHONPATH", "").split(os.pathsep)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        [LIBRARY, *(p for p in OTHER_PATHS if p and p != LIBRARY)]
    )
)
from layerscope import config as lsconfig  # noqa: E402
from layerscope import jobserver  # noqa: E402
from layerscope import warmup  # noqa: E402
from layerscope import report as lsreport  # noqa: E402
from layerscope.tables import TableError, read_meta  # noqa: E402

SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
# umap's and the metrics' numba code is compiled once per installation into this cache, not
# in every job (numba keys each entry by its source file, so clones and venvs can share it).
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_HOME / "layerscope" / "numba"))


SCHEMA_DICT = yaml.safe_load(SCHEMA.read_text())


def check_config():
    """Stop before any job with one line naming the bad key, its value and what is allowed."""
    config.update(lsconfig.coerce_strings(config, SCHEMA_DICT))
    problem = lsconfig.schema_error(config, SCHEMA_DICT)
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
METHODS = lsconfig.projection_methods(config)
PLOT_FORMAT = config["plots"]["format"]


wildcard_constraints:
    epoch=r"\d+",
    layer=r"input|logits|[za]\d+",
    split=r"train|test",
    method=r"pca|tsne|umap",
    metric="|".join(lsreport.HEATMAP_METRICS),


def on_start():
    """A local run starts its preloaded job server (layerscope.jobserver) and, on a new
    installation, fills numba's cache in the background (layerscope.warmup) while its first
    jobs run; cluster jobs use neither."""
    if workflow.local_exec and not workflow.dryrun and not jobserver.start_for_run():
        warmup.start()  # without a server (which starts it itself, after its imports)


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


def projection_inputs(wildcards):
    """The layer's activations, and the previous captured epoch's embedding when chained."""
    inputs = {
        "activations": results(
            f"activations/epoch_{wildcards.epoch}/{wildcards.layer}.parquet"
        )
    }
    epoch = int(wildcards.epoch)
    earlier = [e for e in EPOCHS if e < epoch]
    if wildcards.method in config["projection"]["init_from_previous"] and earlier:
        inputs["init"] = results(
            f"projections/{wildcards.method}/epoch_{earlier[-1]}/{wildcards.layer}.parquet"
        )
    return inputs


def projection_params(wildcards):
    """Exactly the settings of this job's method (and the seed), so that changing one
    method's settings reruns that method's jobs only."""
    return {
        "name": wildcards.method,
        "settings": lsconfig.method_params(config, wildcards.method, SCHEMA_DICT),
        "seed": config["seed"],
        "init_from_previous": wildcards.method
        in config["projection"]["init_from_previous"],
    }


def projection_threads(wildcards):
    """t-SNE uses two threads; PCA and seeded UMAP run on one."""
    return 2 if wildcards.method == "tsne" else 1


def metric_files():
    """Every score file: one per projection, one per (epoch, layer) representation."""
    return [
        *expand(
            results("metrics/{method}/epoch_{epoch}/{layer}.json"),
            method=METHODS,
            epoch=EPOCHS,
            layer=LAYERS,
        ),
        *expand(
            results("metrics/representation/epoch_{epoch}/{layer}.json"),
            epoch=EPOCHS,
            layer=LAYERS,
        ),
    ]


def scaling_table():
    """The t-SNE scaling benchmark's table, or None until benchmarks/bench_tsne.py writes it."""
    path = Path(results("benchmarks/tsne_scaling.csv"))
    return str(path) if path.exists() else None


def figures():
    """Every figure of the report, id -> path (see layerscope.report.figure_paths)."""
    scaling = scaling_table() is not None
    paths = lsreport.figure_paths(METHODS, EPOCHS, LAYERS, PLOT_FORMAT, scaling)
    return {key: results(path) for key, path in paths.items()}


def report_copies():
    """The figures copied beside the report; none when it embeds them."""
    if config["report"]["embed_images"]:
        return []
    suffix = f".{PLOT_FORMAT}"
    return [results(f"report/{lsreport.copy_name(key, suffix)}") for key in figures()]


def projection_tables():
    """Every projection, independent and aligned."""
    return expand(
        results("projections/{method}/epoch_{epoch}/{layer}{suffix}.parquet"),
        method=METHODS,
        epoch=EPOCHS,
        layer=LAYERS,
        suffix=["", ".aligned"],
    )


def get_final_output():
    """The targets of `rule all`, from the config."""
    return [
        *training_outputs(),
        *activation_tables(),
        *projection_tables(),
        results("metrics/summary.parquet"),
        *figures().values(),
        results("report/index.html"),
    ]
