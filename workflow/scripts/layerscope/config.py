"""Checking the workflow's config: one line per problem, naming key, value and what is allowed.

The JSON schema (``workflow/schemas/config.schema.yaml``) says what each key may hold;
:func:`schema_error` turns jsonschema's verdict into a sentence a user can act on, and
:func:`semantic_errors` checks what a schema cannot: that layers exist in the configured
model, that captured epochs were trained, that the probe set fits the split. This module
imports neither torch nor Snakemake, so the Snakefile parses fast.
"""

from __future__ import annotations

import difflib
import json

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from layerscope.datasets import DATASETS
from layerscope.errors import LayerScopeError

METHODS = ("pca", "tsne", "umap")  # projection methods, in panel order


class ConfigError(LayerScopeError, ValueError):
    """The config is not valid; the message is one line for the user."""


def layer_names(n_hidden: int) -> list[str]:
    """The captured layers of an MLP with ``n_hidden`` hidden layers, input to output."""
    hidden = [name for i in range(1, n_hidden + 1) for name in (f"z{i}", f"a{i}")]
    return ["input", *hidden, "logits"]


def coerce_strings(value, schema: dict):
    """Undo Snakemake's ``--config`` parsing of nested values, which leaves every one a string.

    ``--config train="{epochs: 2}"`` arrives as ``{"epochs": "2"}``. Each string the schema
    does not accept as it is gets parsed as YAML (``"2"`` -> 2, ``"[0, 1]"`` -> [0, 1]);
    the schema check that follows reports anything still wrong.
    """
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {k: coerce_strings(v, properties.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        branches = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
        items = next((b["items"] for b in branches if "items" in b), {})
        return [coerce_strings(v, items) for v in value]
    if isinstance(value, str) and not Draft202012Validator(schema).is_valid(value):
        for parse in (int, float, yaml.safe_load):
            try:
                return parse(value)
            except (ValueError, yaml.YAMLError):
                continue
    return value


def _show(value) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def _key(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _unknown_key(err: ValidationError) -> str:
    allowed = list(err.schema.get("properties", {}))
    extra = sorted(set(err.instance) - set(allowed))[0]
    key = _key([*err.absolute_path, extra])
    close = difflib.get_close_matches(extra, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"config key {key!r} is unknown; {hint}allowed here: {', '.join(allowed)}"


def _explain(err: ValidationError) -> str:
    """Say what a failed schema keyword allows."""
    schema, v = err.schema, err.validator
    if v == "enum":
        return "choose one of " + ", ".join(map(str, schema["enum"]))
    if v == "type":
        return f"it must be of type {schema['type']}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        return f"it must be {op[v]} {schema[v]}"
    if v == "minItems":
        return "the list must not be empty" if schema[v] == 1 else f"give at least {schema[v]}"
    if v == "uniqueItems":
        return "the list holds a value twice"
    if v == "pattern":
        return f"it must match {schema['pattern']}"
    if v == "minLength":
        return "it must not be empty"
    return err.message


def schema_error(config: dict, schema: dict) -> str | None:
    """The most relevant schema violation of ``config`` as one line, or None if it is valid."""
    errors = list(Draft202012Validator(schema).iter_errors(config))
    if not errors:
        return None
    err = best_match(errors)
    if err.validator == "additionalProperties":
        return _unknown_key(err)
    # For "one of" keys, report against the branch the value was meant for (list or word).
    while err.context:
        err = best_match(err.context)
    key = _key(err.absolute_path)
    desc = _description(schema, err.absolute_path)
    where = f"config key {key!r}" if key else "the config"
    return f"{where} = {_show(err.instance)} is not allowed: {_explain(err)}{desc}"


def _description(schema: dict, path) -> str:
    node = schema
    for part in path:
        if isinstance(part, int):
            return ""
        node = node.get("properties", {}).get(part, {})
    desc = node.get("description")
    return f" ({desc.rstrip('.')})" if desc else ""


def semantic_errors(config: dict) -> list[str]:
    """Problems a schema cannot see, in a config whose defaults are filled in."""
    errors = []
    n_hidden = len(config["model"]["hidden"])
    known = layer_names(n_hidden)
    capture, epochs = config["capture"], config["train"]["epochs"]
    if capture["layers"] != "all":
        for layer in capture["layers"]:
            if layer not in known:
                errors.append(
                    f"config key 'capture.layers' names {layer!r}, which a model with "
                    f"{n_hidden} hidden layers does not have; choose from {', '.join(known)}"
                )
    if capture["epochs"] != "all":
        for epoch in capture["epochs"]:
            if epoch != "last" and epoch > epochs:
                errors.append(
                    f"config key 'capture.epochs' = {epoch} is beyond the trained range "
                    f"0..{epochs} (train.epochs); lower it or raise train.epochs"
                )
    size = DATASETS[config["dataset"]].split_sizes[capture["split"]]
    if capture["n"] != "all" and capture["n"] > size:
        errors.append(
            f"config key 'capture.n' = {capture['n']} is larger than the {config['dataset']} "
            f'{capture["split"]} split ({size} images); use at most {size} or "all"'
        )
    if "projection" in config:
        n = size if capture["n"] == "all" else min(capture["n"], size)
        errors += _projection_errors(config, n)
    return errors


def _projection_errors(config: dict, n: int) -> list[str]:
    errors = []
    projection, methods = config["projection"], config["projection"]["methods"]
    tsne, umap = projection["tsne"], projection["umap"]
    # openTSNE takes 3 x perplexity neighbours; scikit-learn only needs perplexity < n.
    sklearn = tsne.get("backend") == "sklearn" or tsne.get("preset") == "seed_faithful"
    most = n - 1 if sklearn else (n - 1) / 3
    if "tsne" in methods and tsne.get("perplexity", 40) > most:
        errors.append(
            f"config key 'projection.tsne.perplexity' = {tsne.get('perplexity', 40)} is too "
            f"large for a probe set of {n} points; use at most {most:g} or a larger capture.n"
        )
    if "umap" in methods and umap.get("n_neighbors", 15) > n - 1:
        errors.append(
            f"config key 'projection.umap.n_neighbors' = {umap['n_neighbors']} is too large "
            f"for a probe set of {n} points; use at most {n - 1}"
        )
    align = projection["align_to"]
    if align != "last" and align not in captured_epochs(config):
        errors.append(
            f"config key 'projection.align_to' = {align} is not a captured epoch; choose one "
            f'of {captured_epochs(config)} or "last"'
        )
    for method in projection["init_from_previous"]:
        if method not in methods:
            errors.append(
                f"config key 'projection.init_from_previous' names {method!r}, which is not in "
                f"projection.methods {methods}; add it there or remove it here"
            )
    return errors


def captured_layers(config: dict) -> list[str]:
    """The layers to record, in network order."""
    known = layer_names(len(config["model"]["hidden"]))
    wanted = config["capture"]["layers"]
    return known if wanted == "all" else [name for name in known if name in wanted]


def captured_epochs(config: dict) -> list[int]:
    """The epochs to probe, ascending."""
    last = config["train"]["epochs"]
    wanted = config["capture"]["epochs"]
    if wanted == "all":
        return list(range(last + 1))
    return sorted({last if epoch == "last" else epoch for epoch in wanted})


def probe_size(config: dict) -> int:
    """Number of probe samples."""
    n = config["capture"]["n"]
    return DATASETS[config["dataset"]].split_sizes[config["capture"]["split"]] if n == "all" else n


def reference_epoch(config: dict) -> int:
    """The epoch every aligned embedding is aligned to."""
    align = config["projection"]["align_to"]
    return captured_epochs(config)[-1] if align == "last" else align


def projection_methods(config: dict) -> list[str]:
    """The configured projection methods, in panel order (pca, tsne, umap)."""
    return [m for m in METHODS if m in config["projection"]["methods"]]


def method_params(config: dict, method: str, schema: dict) -> dict:
    """The settings to hand to ``projections.project`` for ``method``.

    The schema fills every key with its default, so with a ``preset`` only the keys whose
    value differs from the schema's default override the preset's values.
    """
    section = dict(config["projection"][method])
    preset = section.pop("preset", None)
    if preset is None:
        return section
    spec = schema["properties"]["projection"]["properties"][method]["properties"]
    changed = {k: v for k, v in section.items() if v != spec[k]["default"]}
    return {"preset": preset, **changed}
