"""The Parquet schemas: written by LayerScope, read back by pandas and pyarrow, checked on read."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from layerscope import tables
from layerscope.tables import TableError

N, WIDTH = 6, 5


def write_example(path, activation=None):
    activation = (
        np.arange(N * WIDTH, dtype=np.float32).reshape(N, WIDTH) / 7
        if activation is None
        else activation
    )
    tables.write_activations(
        path, sample=np.arange(10, 10 + N), label=np.arange(N) % 3, prediction=np.zeros(N),
        activation=activation, meta={"epoch": 3, "layer": "a1"},
    )  # fmt: skip
    return activation


def test_activation_schema_as_documented(tmp_path):
    write_example(tmp_path / "a1.parquet")
    schema = pq.read_schema(tmp_path / "a1.parquet")
    assert schema.field("sample").type == pa.int32()
    assert schema.field("label").type == pa.int16()
    assert schema.field("prediction").type == pa.int16()
    assert schema.field("activation").type == pa.list_(pa.float32(), WIDTH)
    meta = tables.read_meta(tmp_path / "a1.parquet")
    assert meta == {"epoch": 3, "layer": "a1", "kind": "activations", "schema_version": 1}


def test_activations_read_back_with_pandas_pyarrow_and_layerscope(tmp_path):
    expected = write_example(tmp_path / "a1.parquet")
    frame = pd.read_parquet(tmp_path / "a1.parquet")
    assert list(frame.columns) == ["sample", "label", "prediction", "activation"]
    assert frame["sample"].tolist() == list(range(10, 10 + N))
    np.testing.assert_array_equal(np.stack(frame["activation"].to_numpy()), expected)
    table = pq.read_table(tmp_path / "a1.parquet")
    np.testing.assert_array_equal(
        table.column("activation").combine_chunks().flatten().to_numpy().reshape(N, WIDTH),
        expected,
    )
    back = tables.read_activations(tmp_path / "a1.parquet")
    np.testing.assert_array_equal(back.activation, expected)
    assert back.activation.dtype == np.float32 and back.activation.flags.writeable
    np.testing.assert_array_equal(back.label, np.arange(N) % 3)


def test_dataset_and_projection_round_trip(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (4, 3, 3), dtype=np.uint8)
    tables.write_dataset(
        tmp_path / "d.parquet", np.arange(4), [1, 2, 3, 4], pixels, {"split": "test"}
    )
    d = tables.read_dataset(tmp_path / "d.parquet")
    np.testing.assert_array_equal(d.pixels, pixels.reshape(4, 9))
    xy = np.array([[0.5, -1], [2, 3]], dtype=np.float32)
    tables.write_projection(tmp_path / "p.parquet", [0, 1], [5, 6], [5, 5], xy, {"method": "pca"})
    p = tables.read_projection(tmp_path / "p.parquet")
    np.testing.assert_array_equal(p.xy, xy)
    assert pd.read_parquet(tmp_path / "p.parquet").columns.tolist() == [
        "sample", "label", "prediction", "x", "y",
    ]  # fmt: skip


def test_nan_and_inf_values_are_refused_with_the_row(tmp_path):
    bad = np.ones((N, WIDTH), dtype=np.float32)
    bad[4, 2] = np.nan
    bad[5, 0] = np.inf
    write_example(tmp_path / "bad.parquet", bad)
    with pytest.raises(
        TableError,
        match=r"bad.parquet: column 'activation' holds 2 NaN/inf values \(first in row 4\)",
    ):
        tables.read_activations(tmp_path / "bad.parquet")


def test_wrong_schema_and_foreign_files_are_named(tmp_path):
    write_example(tmp_path / "a.parquet")
    with pytest.raises(TableError, match="holds a 'activations' table, expected 'projection'"):
        tables.read_projection(tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": [1.0]}), tmp_path / "foreign.parquet")
    with pytest.raises(
        TableError, match="foreign.parquet: Parquet file without LayerScope metadata"
    ):
        tables.read_activations(tmp_path / "foreign.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(TableError, match="junk.parquet: not a readable Parquet file"):
        tables.read_activations(tmp_path / "junk.parquet")
    # Right metadata, wrong column type: as if written by a different version.
    table = pa.table({"sample": pa.array([0], pa.int32()), "label": pa.array([0], pa.int16()),
                      "prediction": pa.array([0], pa.int16()),
                      "activation": pa.array([[1.0]], pa.list_(pa.float64(), 1))})  # fmt: skip
    meta = {b"layerscope": b'{"kind": "activations", "schema_version": 1}'}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "f64.parquet")
    with pytest.raises(TableError, match="column 'activation' has type double, expected float"):
        tables.read_activations(tmp_path / "f64.parquet")
    with pytest.raises(TableError, match="file not found"):
        tables.read_activations(tmp_path / "missing.parquet")


def test_writes_are_atomic(tmp_path, monkeypatch):
    write_example(tmp_path / "a.parquet")
    before = (tmp_path / "a.parquet").read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        write_example(tmp_path / "a.parquet", np.zeros((N, WIDTH), dtype=np.float32))
    assert (tmp_path / "a.parquet").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.parquet"]


def test_identical_input_gives_byte_identical_files(tmp_path):
    write_example(tmp_path / "one.parquet")
    write_example(tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
