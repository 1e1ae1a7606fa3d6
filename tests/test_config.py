"""Bad configs stop before any job, with one line naming the key, the value and what is allowed."""

import pytest
import yaml
from conftest import REPO, snakemake

from layerscope import config as lsconfig

SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


def defaults():
    """The repository's config.yaml, as the workflow sees it."""
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_repository_config_is_valid_and_complete():
    config = defaults()
    assert lsconfig.schema_error(config, SCHEMA) is None
    assert lsconfig.semantic_errors(config) == []
    # Every key of the schema is spelt out (and so commented) in config.yaml.
    for key, spec in SCHEMA["properties"].items():
        assert key in config, key
        for sub in spec.get("properties", {}):
            assert sub in config[key], f"{key}.{sub}"


def test_every_schema_property_has_description_and_default():
    def walk(node, path):
        for key, spec in node.get("properties", {}).items():
            assert "description" in spec and "default" in spec, ".".join([*path, key])
            walk(spec, [*path, key])

    walk(SCHEMA, [])
    assert SCHEMA["additionalProperties"] is False


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"train": {"batch_size": 0}}, "config key 'train.batch_size' = 0 is not allowed: it must be >= 1"),
        ({"train": {"epoch": 3}}, "config key 'train.epoch' is unknown; did you mean 'epochs'?"),
        ({"dataset": "mnst"}, "config key 'dataset' = 'mnst' is not allowed: choose one of mnist, fashion_mnist"),
        ({"train": {"lr": "fast"}}, "config key 'train.lr' = 'fast' is not allowed: it must be of type number"),
        ({"capture": {"epochs": []}}, "config key 'capture.epochs' = [] is not allowed: the list must not be empty"),
        ({"capture": {"epochs": [-1]}}, "config key 'capture.epochs[0]' = -1 is not allowed: it must be >= 0"),
        ({"model": {"hidden": []}}, "config key 'model.hidden' = [] is not allowed: the list must not be empty"),
        ({"colour": "red"}, "config key 'colour' is unknown; allowed here: run_name, dataset"),
        ({"projection": {"methods": ["pca", "tsnee"]}}, "config key 'projection.methods[1]' = 'tsnee' is not allowed: choose one of pca, tsne, umap"),
    ],
)  # fmt: skip
def test_schema_errors_are_one_line(change, expected):
    config = defaults()
    for key, value in change.items():
        config[key] = (
            {**config[key], **value} if isinstance(value, dict) and key in config else value
        )
    message = lsconfig.schema_error(config, SCHEMA)
    assert message.startswith(expected), message
    assert "\n" not in message


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"capture": {"layers": ["a9"]}}, "config key 'capture.layers' names 'a9', which a model with 4 hidden layers does not have; choose from input, z1"),
        ({"capture": {"epochs": [0, 12]}}, "config key 'capture.epochs' = 12 is beyond the trained range 0..10 (train.epochs)"),
        ({"capture": {"n": 10001}}, "config key 'capture.n' = 10001 is larger than the mnist test split (10000 images)"),
        ({"dataset": "digits", "capture": {"n": 600}}, "config key 'capture.n' = 600 is larger than the digits test split (540 images)"),
        ({"capture": {"n": 100}}, "config key 'projection.tsne.perplexity' = 40 is too large for a probe set of 100 points; use at most 33 or a larger capture.n"),
    ],
)  # fmt: skip
def test_semantic_errors(change, expected):
    config = defaults()
    for key, value in change.items():
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
    assert lsconfig.schema_error(config, SCHEMA) is None
    errors = lsconfig.semantic_errors(config)
    assert errors and errors[0].startswith(expected), errors


def test_command_line_strings_are_parsed_by_the_schema():
    # What Snakemake makes of --config train="{epochs: 2}" capture="{epochs: [0, last], n: all}"
    given = {
        "train": {"epochs": "2", "lr": "1e-3"},
        "capture": {"epochs": ["0", "last"], "n": "all"},
    }
    config = lsconfig.coerce_strings(given, SCHEMA)
    assert config == {
        "train": {"epochs": 2, "lr": 0.001},
        "capture": {"epochs": [0, "last"], "n": "all"},
    }
    assert lsconfig.coerce_strings({"run_name": "123"}, SCHEMA) == {"run_name": "123"}


def test_last_and_all_epochs_resolve():
    config = defaults()
    assert lsconfig.captured_epochs(config) == [0, 1, 10]
    config["capture"]["epochs"] = "all"
    assert lsconfig.captured_epochs(config) == list(range(11))
    config["capture"]["epochs"] = [10, "last", 3]
    assert lsconfig.captured_epochs(config) == [3, 10]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "arg, expected",
    [
        ("train={batch_size: 0}", "LayerScope config error: config key 'train.batch_size' = 0 is not allowed"),
        ("capture={layers: [z1, a7]}", "LayerScope config error: config key 'capture.layers' names 'a7'"),
        ("seed=abc", "LayerScope config error: config key 'seed' = 'abc' is not allowed: it must be of type integer"),
    ],
)  # fmt: skip
def test_snakemake_stops_before_any_job_with_one_line(tiny_workdir, arg, expected):
    config = str(tiny_workdir / "tiny.yaml")
    proc = snakemake(tiny_workdir, "-n", "--configfile", config, "--config", arg, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1
    errors = [line for line in output.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith(expected), output
    assert "Traceback" not in output
    assert not (tiny_workdir / "results").exists()
