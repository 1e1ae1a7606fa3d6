"""Loading each dataset from files in its own torchvision layout, and the errors for bad data."""

import numpy as np
import pytest
from conftest import synthetic_images, write_fake_dataset

from layerscope.datasets import DATASETS, DataError, load_split, raw_paths
from layerscope.idx import write_idx


@pytest.mark.parametrize(
    "name, folder",
    [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")],
)
def test_idx_datasets_load_from_their_own_folder(tmp_path, name, folder):
    write_fake_dataset(tmp_path, folder, n_train=50, n_test=20)
    train = load_split(name, tmp_path, "train", download=False)
    test = load_split(name, tmp_path, "test", download=False)
    expected_images, expected_labels = synthetic_images(50, seed=1)
    np.testing.assert_array_equal(train.images, expected_images)
    np.testing.assert_array_equal(train.labels, expected_labels)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    assert len(test.labels) == 20
    assert train.source == str(tmp_path / folder / "raw")


def test_class_names_are_the_datasets_own():
    assert DATASETS["fashion_mnist"].class_names[9] == "Ankle boot"
    assert DATASETS["kmnist"].class_names[:3] == ("o", "ki", "su")
    assert DATASETS["mnist"].class_names == tuple("0123456789")


def test_gzipped_files_are_read_when_plain_ones_are_absent(tmp_path):
    write_fake_dataset(tmp_path, "MNIST", n_train=30, n_test=10, gz=True)
    assert raw_paths(DATASETS["mnist"], tmp_path, "test")[0].suffix == ".gz"
    assert len(load_split("mnist", tmp_path, "test", download=False).labels) == 10


def test_missing_files_without_download_name_path_and_key(tmp_path):
    with pytest.raises(DataError, match=r"MNIST/raw/t10k-images-idx3-ubyte.*data_root"):
        load_split("mnist", tmp_path, "test", download=False)


def test_failed_download_says_where_to_put_the_files(tmp_path, monkeypatch):
    import torchvision.datasets

    # A real download attempt, sent to a closed port on this machine: it fails at once.
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataError) as err:
        load_split("mnist", tmp_path, "train", download=True)
    message = str(err.value)
    assert message.startswith("download of MNIST failed")
    assert str(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte") in message
    assert "data_root" in message and "download: false" in message


def test_image_and_label_counts_that_differ(tmp_path):
    write_fake_dataset(tmp_path, "MNIST", n_train=30, n_test=10)
    images, labels = raw_paths(DATASETS["mnist"], tmp_path, "test")
    write_idx(labels, np.zeros(9, dtype=np.uint8))
    with pytest.raises(DataError, match=r"9 labels for 10 images"):
        load_split("mnist", tmp_path, "test", download=False)


def test_corrupt_file_is_reported_not_crashed_on(tmp_path):
    write_fake_dataset(tmp_path, "MNIST", n_train=30, n_test=10)
    images, _ = raw_paths(DATASETS["mnist"], tmp_path, "test")
    images.write_bytes(images.read_bytes()[:500])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: 500 bytes"):
        load_split("mnist", tmp_path, "test", download=False)


def test_wrong_image_shape_for_the_dataset(tmp_path):
    write_fake_dataset(tmp_path, "MNIST", n_train=30, n_test=10)
    images, _ = raw_paths(DATASETS["mnist"], tmp_path, "test")
    write_idx(images, np.zeros((10, 8, 8), dtype=np.uint8))
    with pytest.raises(DataError, match=r"shape \(8, 8\), expected \(28, 28\)"):
        load_split("mnist", tmp_path, "test", download=False)


def test_digits_needs_no_files_and_has_its_documented_split():
    train = load_split("digits", "/nonexistent", "train")
    test = load_split("digits", "/nonexistent", "test")
    sizes = DATASETS["digits"].split_sizes
    assert (len(train.labels), len(test.labels)) == (sizes["train"], sizes["test"])
    assert train.images.shape[1:] == (8, 8) and train.images.max() == 16
    # Stratified: every class is in the test split in proportion.
    counts = np.bincount(test.labels, minlength=10)
    assert counts.min() >= 50
    # Fixed: the split does not depend on any run's seed.
    np.testing.assert_array_equal(load_split("digits", "", "test").images, test.images)


def test_unknown_dataset_and_split():
    with pytest.raises(DataError, match="unknown dataset 'cifar'"):
        load_split("cifar", ".", "train")
    with pytest.raises(DataError, match="unknown split 'val'"):
        load_split("mnist", ".", "val")
