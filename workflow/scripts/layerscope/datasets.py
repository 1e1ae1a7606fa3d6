"""The datasets LayerScope knows: where their files live, how to load a split, their classes.

``mnist``, ``fashion_mnist`` and ``kmnist`` are read from IDX files in torchvision's layout
(``<data_root>/<Folder>/raw/<name>-idx?-ubyte``, plain or ``.gz``); torchvision is used only
to download them (it verifies their checksums). ``digits`` is scikit-learn's bundled 8x8
digits: no download at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layerscope.errors import LayerScopeError
from layerscope.idx import IDXError, read_idx

SPLITS = ("train", "test")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about a dataset before loading it."""

    name: str
    title: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int]
    pixel_max: int
    split_sizes: dict
    folder: str | None = None  # torchvision's folder under data_root; None: bundled
    torchvision_class: str | None = None


DATASETS = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST",
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(28, 28),
        pixel_max=255,
        split_sizes={"train": 60000, "test": 10000},
        folder="MNIST",
        torchvision_class="MNIST",
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        title="Fashion-MNIST",
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),  # fmt: skip
        image_shape=(28, 28),
        pixel_max=255,
        split_sizes={"train": 60000, "test": 10000},
        folder="FashionMNIST",
        torchvision_class="FashionMNIST",
    ),
    "kmnist": DatasetInfo(
        name="kmnist",
        title="Kuzushiji-MNIST",
        class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        image_shape=(28, 28),
        pixel_max=255,
        split_sizes={"train": 60000, "test": 10000},
        folder="KMNIST",
        torchvision_class="KMNIST",
    ),
    "digits": DatasetInfo(
        name="digits",
        title="scikit-learn digits (8x8)",
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(8, 8),
        pixel_max=16,
        split_sizes={"train": 1257, "test": 540},
    ),
}


class DataError(LayerScopeError, RuntimeError):
    """The data cannot be found, downloaded or read; the message says what to do."""


@dataclass
class Split:
    """One split in memory: ``images`` is ``(n, h, w)`` uint8, ``labels`` ``(n,)`` int64."""

    images: np.ndarray
    labels: np.ndarray
    info: DatasetInfo
    split: str
    source: str


def raw_paths(info: DatasetInfo, root: str | os.PathLike, split: str) -> tuple[Path, Path]:
    """Where the split's image and label files are (an existing ``.gz`` is used if plain is not)."""
    raw = Path(root) / info.folder / "raw"
    paths = []
    for name in IDX_FILES[split]:
        plain = raw / name
        gz = raw / f"{name}.gz"
        paths.append(gz if not plain.exists() and gz.exists() else plain)
    return paths[0], paths[1]


def _download(info: DatasetInfo, root: Path, missing: list[Path]) -> None:
    files = "\n  ".join(str(raw_paths(info, root, s)[i]) for s in SPLITS for i in (0, 1))
    hint = (
        f"{info.title} files not found: {', '.join(str(p) for p in missing)}. "
        f"Put the four IDX files in torchvision's layout:\n  {files}\n"
        "then point the config key data_root at the folder above "
        f"{info.folder}/ (e.g. --config data_root=../shared/data)"
    )
    if info.torchvision_class is None:
        raise DataError(hint)
    import torchvision.datasets  # lazy: only a download needs torch

    cls = getattr(torchvision.datasets, info.torchvision_class)
    try:
        for split in SPLITS:
            cls(root=str(root), train=split == "train", download=True)
    except Exception as err:  # any network or checksum failure ends the same way for the user
        raise DataError(
            f"download of {info.title} failed ({type(err).__name__}: {err}). "
            + hint
            + ", or set download: false to never try"
        ) from None


def load_split(name: str, root: str | os.PathLike, split: str, download: bool = True) -> Split:
    """Load one whole split into memory.

    Parameters
    ----------
    name : one of :data:`DATASETS`.
    root : the ``data_root`` folder holding torchvision's dataset folders.
    split : ``"train"`` or ``"test"``.
    download : let torchvision download missing files (verified by its checksums).
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose train or test")
    info = DATASETS[name]
    if info.folder is None:
        return _load_digits(info, split)
    root = Path(root)
    paths = raw_paths(info, root, split)
    missing = [p for p in paths if not p.exists()]
    if missing:
        if not download:
            raise DataError(
                f"{info.title} files not found: {', '.join(map(str, missing))}; put them there "
                f"or set data_root to the folder holding {info.folder}/raw (download is off)"
            )
        _download(info, root, missing)
        paths = raw_paths(info, root, split)
    try:
        images, labels = read_idx(paths[0]), read_idx(paths[1])
    except IDXError as err:
        raise DataError(str(err)) from None
    _check(info, split, images, labels, paths)
    return Split(images, labels.astype(np.int64), info, split, source=str(paths[0].parent))


def _check(info: DatasetInfo, split: str, images, labels, paths) -> None:
    if images.ndim != 3 or images.shape[1:] != info.image_shape:
        raise DataError(
            f"{paths[0]}: images of shape {images.shape[1:]}, expected {info.image_shape} "
            f"for {info.title}; is data_root pointing at the right dataset?"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{paths[1]}: {len(labels)} labels for {len(images)} images in {paths[0]}; "
            "the two files do not belong together: replace them with an intact pair"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= len(info.class_names)):
        raise DataError(
            f"{paths[1]}: labels range {labels.min()}..{labels.max()}, expected "
            f"0..{len(info.class_names) - 1}; replace the file with an intact copy"
        )


def _load_digits(info: DatasetInfo, split: str) -> Split:
    # A fixed, stratified split: the demo's data must not change with the workflow's seed.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    train_idx, test_idx = train_test_split(
        index,
        test_size=DIGITS_TEST_FRACTION,
        stratify=digits.target,
        random_state=DIGITS_SPLIT_SEED,
    )
    chosen = np.sort(train_idx if split == "train" else test_idx)
    images = digits.images[chosen].astype(np.uint8)
    return Split(images, digits.target[chosen].astype(np.int64), info, split, "sklearn")
