"""The Parquet tables every stage reads and writes; the only module that knows their schemas.

Three kinds of table, each a Parquet file whose Arrow schema metadata holds one JSON object
under the key ``layerscope`` (the table's ``kind``, schema version and provenance):

``dataset``      one split of a dataset: ``sample`` (int32), ``label`` (int16),
                 ``pixels`` (fixed-size binary, one flattened uint8 image per row; read
                 10x faster than a list column, which matters for 60,000 images per job).
``activations``  one layer at one epoch over the probe set: ``sample``, ``label``,
                 ``prediction`` (int16), ``activation`` (fixed-size list of float32).
``projection``   a 2-D embedding of an activation table: ``sample``, ``label``,
                 ``prediction``, ``x``, ``y`` (float32).

Readers check the columns, their types and (for floats) that every value is finite, and raise
:class:`TableError` naming the file and what to do, instead of failing deep inside a library.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from layerscope.errors import LayerScopeError
from layerscope.files import atomic_path

SCHEMA_VERSION = 1
META_KEY = b"layerscope"

_ID_FIELDS = [("sample", pa.int32()), ("label", pa.int16())]
_PRED_FIELD = [("prediction", pa.int16())]


class TableError(LayerScopeError, ValueError):
    """A table on disk is missing, unreadable or not of the expected schema."""


@dataclass
class DatasetTable:
    """One split of a dataset, images flattened row-wise (``pixels`` is ``(n, h*w)`` uint8)."""

    sample: np.ndarray
    label: np.ndarray
    pixels: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.meta["image_shape"])

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])


@dataclass
class ActivationTable:
    """One layer's activations at one epoch: ``activation`` is ``(n, width)`` float32."""

    sample: np.ndarray
    label: np.ndarray
    prediction: np.ndarray
    activation: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProjectionTable:
    """A 2-D embedding: ``xy`` is ``(n, 2)`` float32, rows in the activation table's order."""

    sample: np.ndarray
    label: np.ndarray
    prediction: np.ndarray
    xy: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


# -- writing -------------------------------------------------------------------------------


def _fixed_list(matrix: np.ndarray, value_type: pa.DataType) -> pa.FixedSizeListArray:
    matrix = np.ascontiguousarray(matrix)
    flat = pa.array(matrix.reshape(-1), type=value_type)
    return pa.FixedSizeListArray.from_arrays(flat, matrix.shape[1])


def _write(path: str | os.PathLike, columns: dict[str, pa.Array], kind: str, meta: dict) -> None:
    meta = {**meta, "kind": kind, "schema_version": SCHEMA_VERSION}
    table = pa.table(columns).replace_schema_metadata(
        {META_KEY: json.dumps(meta, sort_keys=True).encode()}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _ids(sample, label, prediction=None) -> dict[str, pa.Array]:
    cols = {
        "sample": pa.array(np.asarray(sample, dtype=np.int32)),
        "label": pa.array(np.asarray(label, dtype=np.int16)),
    }
    if prediction is not None:
        cols["prediction"] = pa.array(np.asarray(prediction, dtype=np.int16))
    return cols


def write_dataset(path, sample, label, pixels: np.ndarray, meta: dict) -> None:
    """Write one split; ``pixels`` is ``(n, h, w)`` or ``(n, h*w)`` uint8."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(len(pixels), -1)
    binary = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(pixels.shape[1]), len(pixels), [None, pa.py_buffer(pixels.tobytes())]
    )
    cols = _ids(sample, label) | {"pixels": binary}
    _write(path, cols, "dataset", meta)


def write_activations(path, sample, label, prediction, activation: np.ndarray, meta: dict) -> None:
    """Write one layer's activations; ``activation`` is ``(n, width)``, stored as float32."""
    activation = np.asarray(activation, dtype=np.float32)
    cols = _ids(sample, label, prediction) | {"activation": _fixed_list(activation, pa.float32())}
    _write(path, cols, "activations", meta)


def write_projection(path, sample, label, prediction, xy: np.ndarray, meta: dict) -> None:
    """Write a 2-D embedding; ``xy`` is ``(n, 2)``, stored as two float32 columns."""
    xy = np.asarray(xy, dtype=np.float32)
    cols = _ids(sample, label, prediction) | {
        "x": pa.array(xy[:, 0]),
        "y": pa.array(xy[:, 1]),
    }
    _write(path, cols, "projection", meta)


# -- reading -------------------------------------------------------------------------------

_EXPECTED = {
    "dataset": dict(_ID_FIELDS, pixels="fixed_size_binary"),
    "activations": dict(_ID_FIELDS + _PRED_FIELD, activation=pa.float32()),
    "projection": dict(_ID_FIELDS + _PRED_FIELD, x=pa.float32(), y=pa.float32()),
}
_PRODUCER = {
    "dataset": "the prepare_dataset rule",
    "activations": "the capture_activations rule",
    "projection": "the project_layer rule",
}


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Read only a table's ``layerscope`` metadata (cheap: the footer alone)."""
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise TableError(f"{path}: file not found; run the workflow to create it") from None
    except (pa.ArrowInvalid, OSError) as err:
        raise TableError(
            f"{path}: not a readable Parquet file ({err}); delete it and rerun the workflow"
        ) from None
    raw = (schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise TableError(
            f"{path}: Parquet file without LayerScope metadata; it was not written by this "
            "workflow: delete it and rerun"
        )
    return json.loads(raw)


def _read(path: str | os.PathLike, kind: str) -> tuple[pa.Table, dict[str, Any]]:
    path = Path(path)
    meta = read_meta(path)
    fix = f"delete it and rerun {_PRODUCER[kind]}"
    if meta.get("kind") != kind:
        raise TableError(f"{path}: holds a {meta.get('kind')!r} table, expected {kind!r}; {fix}")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise TableError(
            f"{path}: schema version {meta.get('schema_version')}, this LayerScope reads "
            f"version {SCHEMA_VERSION}; {fix}"
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise TableError(f"{path}: unreadable Parquet data ({err}); {fix}") from None
    for name, value_type in _EXPECTED[kind].items():
        if name not in table.column_names:
            raise TableError(f"{path}: column {name!r} is missing; {fix}")
        col_type = table.schema.field(name).type
        if pa.types.is_fixed_size_list(col_type):
            col_type = col_type.value_type
        elif pa.types.is_fixed_size_binary(col_type):
            col_type = "fixed_size_binary"
        if col_type != value_type:
            raise TableError(
                f"{path}: column {name!r} has type {col_type}, expected {value_type}; {fix}"
            )
    return table, meta


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def _matrix(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name).combine_chunks()
    if pa.types.is_fixed_size_binary(col.type):
        width = col.type.byte_width
        flat = np.frombuffer(col.buffers()[1], dtype=np.uint8)
        return flat[col.offset * width : (col.offset + len(col)) * width].reshape(-1, width).copy()
    width = col.type.list_size
    return col.flatten().to_numpy(zero_copy_only=False, writable=True).reshape(len(col), width)


def _check_finite(path, name: str, values: np.ndarray, kind: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise TableError(
            f"{path}: column {name!r} holds {int(bad.sum())} NaN/inf values (first in row "
            f"{int(rows[0])}); delete it and rerun {_PRODUCER[kind]}"
        )


def read_dataset(path: str | os.PathLike) -> DatasetTable:
    """Read one split written by :func:`write_dataset`."""
    table, meta = _read(path, "dataset")
    return DatasetTable(
        sample=_column(table, "sample"),
        label=_column(table, "label"),
        pixels=_matrix(table, "pixels"),
        meta=meta,
    )


def read_activations(path: str | os.PathLike) -> ActivationTable:
    """Read one activation table, checking that every value is finite."""
    table, meta = _read(path, "activations")
    activation = _matrix(table, "activation")
    _check_finite(path, "activation", activation, "activations")
    return ActivationTable(
        sample=_column(table, "sample"),
        label=_column(table, "label"),
        prediction=_column(table, "prediction"),
        activation=activation,
        meta=meta,
    )


def read_projection(path: str | os.PathLike) -> ProjectionTable:
    """Read one 2-D projection, checking that every coordinate is finite."""
    table, meta = _read(path, "projection")
    xy = np.column_stack([_column(table, "x"), _column(table, "y")])
    _check_finite(path, "x/y", xy, "projection")
    return ProjectionTable(
        sample=_column(table, "sample"),
        label=_column(table, "label"),
        prediction=_column(table, "prediction"),
        xy=xy,
        meta=meta,
    )


def rows_by_sample(
    values: np.ndarray, sample: np.ndarray, wanted: np.ndarray, source
) -> np.ndarray:
    """The rows of ``values`` (keyed by ``sample``) in the order of the ids ``wanted``."""
    order = np.argsort(sample, kind="stable")
    at = np.searchsorted(sample, wanted, sorter=order).clip(max=len(sample) - 1)
    found = order[at]
    missing = sample[found] != wanted
    if missing.any():
        raise TableError(
            f"{source}: has no row for sample {int(wanted[missing][0])}; its probe set differs "
            "from this one: delete it and rerun"
        )
    return values[found]


# -- small summary tables ------------------------------------------------------------------

FRAME_COLUMNS = {
    "training": [
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "seconds",
        "samples_per_second",
    ],
    # One row per score: method is pca, tsne, umap or "representation" (full dimension).
    "metrics": [
        "method",
        "epoch",
        "layer",
        "depth",
        "n",
        "k",
        "knn_accuracy",
        "trustworthiness",
        "silhouette",
        "neighborhood_hit",
        "linear_probe_accuracy",
        "fit_seconds",
        "metric_seconds",
    ],
}


def write_frame(path: str | os.PathLike, frame, kind: str, meta: dict | None = None) -> None:
    """Write a summary table (a pandas DataFrame) of a known ``kind`` (see FRAME_COLUMNS)."""
    missing = [c for c in FRAME_COLUMNS[kind] if c not in frame.columns]
    if missing:
        raise ValueError(f"a {kind!r} table needs the columns {missing}")
    columns = {name: pa.array(frame[name].to_numpy()) for name in frame.columns}
    _write(path, columns, kind, meta or {})


def read_frame(path: str | os.PathLike, kind: str):
    """Read a summary table written by :func:`write_frame` as a pandas DataFrame."""
    path = Path(path)
    meta = read_meta(path)
    if meta.get("kind") != kind:
        raise TableError(f"{path}: holds a {meta.get('kind')!r} table, expected {kind!r}")
    frame = pq.read_table(path).to_pandas()
    missing = [c for c in FRAME_COLUMNS[kind] if c not in frame.columns]
    if missing:
        raise TableError(f"{path}: columns {missing} are missing; delete it and rerun")
    frame.attrs["meta"] = meta
    return frame
