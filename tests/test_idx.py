"""IDX reading and writing, and the errors a damaged file gets."""

import numpy as np
import pytest

from layerscope.idx import IDXError, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_images_and_labels(tmp_path, suffix):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    write_idx(tmp_path / f"img{suffix}", images)
    write_idx(tmp_path / f"lab{suffix}", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / f"img{suffix}"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"lab{suffix}"), labels)


def test_header_is_the_mnist_layout(tmp_path):
    write_idx(tmp_path / "f", np.zeros((2, 28, 28), dtype=np.uint8))
    raw = (tmp_path / "f").read_bytes()
    # 0x00000803 then three big-endian int32 dimensions, as in train-images-idx3-ubyte.
    assert raw[:4] == bytes([0, 0, 8, 3])
    assert raw[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert len(raw) == 16 + 2 * 28 * 28


def test_big_endian_wider_types_round_trip(tmp_path):
    values = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    write_idx(tmp_path / "i", values)
    out = read_idx(tmp_path / "i")
    assert out.dtype == np.int32 and out.dtype.byteorder in "=<|"
    np.testing.assert_array_equal(out, values)


def test_wrong_magic_names_the_file(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x1f\x8b\x08\x00not idx at all")
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: wrong magic number 1f8b"):
        read_idx(bad)


def test_truncated_file_says_how_much_is_missing(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    write_idx(path, np.ones((10, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXError, match=r"7756 bytes but its header \(10, 28, 28\) implies 7856"):
        read_idx(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(IDXError, match="empty file"):
        read_idx(tmp_path / "empty")
    with pytest.raises(IDXError, match="file not found"):
        read_idx(tmp_path / "nothing")
