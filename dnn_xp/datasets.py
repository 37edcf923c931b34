"""Data sets in the library's layout: ``X`` is ``(n_x, m)`` float64, ``Y`` is ``(1, m)`` float64."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .backend import host_rng

IMAGE_SHAPE = (64, 64, 3)


def planar_flower(seed=1, m=400, petals=4):
    """The course's two-class "flower": ``X: (2, m)``, ``Y: (1, m)``, class 0's points first.

    Reproduces the course's recipe number for number (legacy generator, ``seed=1``).
    """
    rng = host_rng(seed)
    n = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1))
    for j in range(2):
        rows = slice(n * j, n * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.randn(n) * 0.2
        r = petals * np.sin(4 * t) + rng.randn(n) * 0.2
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[rows] = j
    return X.T, Y.T


class CatData(NamedTuple):
    """Cat vs non-cat: ``train_x: (12288, 209)``, ``train_y: (1, 209)``, test likewise, class names."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: list[str]


_CAT_FILES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}


def load_cat(data_dir) -> CatData:
    """Read ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` from ``data_dir``.

    Each image is flattened in C order to a column and divided by 255, so
    ``X[:, i]`` is image ``i``; labels become ``(1, m)``.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data_dir {str(folder)!r} is not a folder; point it at the folder "
                                f"holding {' and '.join(_CAT_FILES.values())}")
    train_x, train_y, classes = _read_cat_split(folder / _CAT_FILES["train"], "train")
    test_x, test_y, _ = _read_cat_split(folder / _CAT_FILES["test"], "test")
    return CatData(train_x, train_y, test_x, test_y, classes)


def _read_cat_split(path: Path, split: str):
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"cat data file {str(path)!r} is missing; download the course's "
                                f"{path.name} into that folder")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{str(path)!r} is not an HDF5 file (a Git LFS pointer or a broken download?)")
    with h5py.File(path, "r") as f:
        names = {f"{split}_set_x", f"{split}_set_y"}
        if not names <= set(f.keys()):
            raise ValueError(f"{str(path)!r} lacks the arrays {sorted(names - set(f.keys()))}; "
                             f"it has {sorted(f.keys())}")
        images = np.asarray(f[f"{split}_set_x"])
        labels = np.asarray(f[f"{split}_set_y"]).reshape(-1)
        classes = [c.decode() for c in np.asarray(f["list_classes"])] if "list_classes" in f else ["non-cat", "cat"]
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{str(path)!r}: expected images (m, 64, 64, 3) and labels (m,), "
                         f"got {images.shape} and {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{str(path)!r}: labels must be 0 or 1")
    X = images.reshape(images.shape[0], -1).T / 255.0
    return X, labels.reshape(1, -1).astype(np.float64), classes
