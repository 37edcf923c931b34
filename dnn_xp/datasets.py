"""Data sets in the library's layout: ``X`` is ``(n_x, m)`` float64, ``Y`` is ``(1, m)`` float64.

Generated teaching sets (:func:`planar_flower`, :func:`moons`, :func:`circles`)
need no download; :func:`load_cat` reads the course's HDF5 files and
:func:`load_npz` / :func:`load_csv` read a user's file, where examples are rows.
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .backend import host_rng
from .saving import is_zip, read_arrays
from .validation import check_fits_in_memory

IMAGE_SHAPE = (64, 64, 3)


def planar_flower(seed=1, m=400, petals=4):
    """The course's two-class "flower": ``X: (2, m)``, ``Y: (1, m)``, class 0's points first.

    Reproduces the course's recipe number for number (legacy generator, ``seed=1``).
    For odd ``m`` class 1 has the extra point; ``m`` must be at least 2.
    """
    m = _example_count(m)
    rng = host_rng(seed)
    sizes = (m // 2, m - m // 2)
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1))
    for j, n in enumerate(sizes):
        rows = slice(sizes[0] * j, sizes[0] * j + n)
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.randn(n) * 0.2
        r = petals * np.sin(4 * t) + rng.randn(n) * 0.2
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[rows] = j
    return X.T, Y.T


def _example_count(m) -> int:
    """``m`` for a two-class generator: an integer of at least 2 (one example of each class)."""
    if isinstance(m, bool) or not isinstance(m, Integral):
        raise TypeError(f"m must be an integer number of examples; got {m!r}")
    if m < 2:
        raise ValueError(f"m must be at least 2, one example of each class; got m={m!r}")
    return int(m)


def moons(m=400, noise=0.2, seed=1):
    """Two interleaving half circles: ``X: (2, m)``, ``Y: (1, m)``, class 0 (upper moon) first.

    Class 0 lies on ``(cos t, sin t)`` and class 1 on ``(1 - cos t, 0.5 - sin t)``
    for ``t`` evenly spaced in ``[0, pi]``, plus Gaussian noise of standard deviation ``noise``.
    """
    m = _example_count(m)
    rng = host_rng(seed)
    n0 = m // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, m - n0)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    X += noise * rng.randn(m, 2)
    return X.T, _two_classes(n0, m)


def circles(m=400, noise=0.1, factor=0.5, seed=1):
    """Two concentric circles: ``X: (2, m)``, ``Y: (1, m)``; class 0 (radius 1) first.

    Class 1 has radius ``factor``; points are evenly spaced in angle, plus
    Gaussian noise of standard deviation ``noise``.
    """
    if not 0 < factor < 1:
        raise ValueError(f"factor is the inner radius over the outer one, between 0 and 1; got {factor!r}")
    m = _example_count(m)
    rng = host_rng(seed)
    n0 = m // 2
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, m - n0, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]])
    X += noise * rng.randn(m, 2)
    return X.T, _two_classes(n0, m)


def _two_classes(n0: int, m: int) -> np.ndarray:
    return (np.arange(m) >= n0).astype(np.float64).reshape(1, m)


def load_npz(path, n_features=None):
    """A user's ``.npz`` with ``X: (m, n_x)`` and, optionally, labels ``Y: (m,)`` or ``(m, k)``.

    Returns ``(X: (n_x, m), Y: (k, m) or None)`` as float64 (``k = 1`` for ``(m,)``); examples are rows in
    the file and columns in the result. ``n_features``, when given, is checked.
    """
    path = _existing_file(path, "data file")
    if not is_zip(path):
        raise ValueError(f"{str(path)!r} is not an .npz file (a zip archive of arrays, as numpy.savez writes)")
    try:
        data = read_arrays(path)  # each array's header is checked before it is allocated
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{str(path)!r} is not a usable .npz data file: {exc}") from None
    if "X" not in data:
        raise ValueError(f"{str(path)!r} is not a usable .npz data file: it has no array named 'X' "
                         f"(it has {', '.join(data) or 'none'})")
    X, Y = data["X"], data.get("Y")
    return _columns(X, Y, path, n_features)


def load_csv(path, n_features=None):
    """A user's ``.csv``: one example per row, features then the label in the last column.

    A first row counts as a header only when none of its fields is a number; a
    UTF-8 byte-order mark is skipped. Returns ``(X: (n_x, m), Y: (1, m) or None)``
    as float64: when ``n_features`` is given and the rows have exactly that many
    values, there is no label column. An empty field is reported as a missing value.
    """
    path = _existing_file(path, "data file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [(number, row) for number, row in enumerate(csv.reader(handle), start=1) if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{str(path)!r} is not a readable CSV text file ({exc})") from None
    if rows and not any(_is_number(value) for value in rows[0][1]):
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{str(path)!r} has no data rows")
    width = len(rows[0][1])
    table = np.empty((len(rows), width))
    for k, (number, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"{str(path)!r} line {number} has {len(row)} values, the first row {width}")
        for column, value in enumerate(row, start=1):
            if not _is_number(value):
                problem = "is empty (a missing value)" if not value.strip() else f"holds {value!r}, not a number"
                raise ValueError(f"{str(path)!r} line {number}, column {column} {problem}; "
                                 f"fill in or remove missing values first")
        table[k] = [float(value) for value in row]
    if n_features is not None and width not in (n_features, n_features + 1):
        raise ValueError(f"{str(path)!r} has {width} columns, but {n_features} features are expected: "
                         f"{n_features} columns (no labels) or {n_features + 1} (features, then the label)")
    labeled = n_features is None or width != n_features
    if labeled and width < 2:
        raise ValueError(f"{str(path)!r} has one column; it needs features and then the label column")
    return _columns(table[:, :-1] if labeled else table, table[:, -1] if labeled else None, path, n_features)


def _existing_file(path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _columns(X, Y, path: Path, n_features):
    """Rows-as-examples arrays from a file, checked and turned into ``(n_x, m)`` and ``(k, m)``.

    ``Y`` is ``(m,)`` or ``(m, k)`` in the file: one label, or one per output unit.
    """
    X = np.asarray(X)
    for name, A in (("X", X), ("Y", Y)):
        if A is not None and np.asarray(A).dtype.kind not in "biuf":
            raise ValueError(f"{str(path)!r}: {name} must hold numbers; got dtype {np.asarray(A).dtype}"
                             f"{_text_hint(name, np.asarray(A))}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{str(path)!r}: X must be 2-D with one example per row, (m, n_x); "
                         f"got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        flipped = X.shape[0] == n_features
        raise ValueError(f"{str(path)!r} has {X.shape[1]} features per example but {n_features} are expected"
                         + (_TRANSPOSED.format(shape=X.shape) if flipped else ""))
    X = X.astype(np.float64).T
    _check_finite(X, "X", path)
    if Y is None:
        return X, None
    Y = np.asarray(Y, dtype=np.float64)
    m = X.shape[1]
    if Y.ndim not in (1, 2) or Y.shape[0] != m:
        if Y.ndim in (1, 2) and Y.shape[-1] == X.shape[0]:
            hint = _TRANSPOSED.format(shape=X.T.shape)
        elif Y.ndim == 2 and Y.shape[1] == m:
            hint = f"; Y of shape {Y.shape} looks transposed: save Y.T, one row per example"
        else:
            hint = ""
        raise ValueError(f"{str(path)!r}: Y must hold one label per example, shape ({m},) or ({m}, k); "
                         f"got shape {Y.shape}{hint}")
    Y = Y.reshape(m, -1).T
    _check_finite(Y, "Y", path)
    return X, Y


_TRANSPOSED = ("; X of shape {shape} looks transposed (examples as columns, the library's layout): "
               "the file keeps one example per row, X: (m, n_x) and Y: (m,), so save X.T and Y.T")


def _text_hint(name: str, A: np.ndarray) -> str:
    if A.dtype.kind not in "USO":
        return ""
    sample = ", ".join(repr(str(v)) for v in np.unique(A.ravel())[:3])
    if name == "Y":
        return f" (text labels such as {sample}); encode the classes as 0 and 1 first"
    return f" (text such as {sample}); convert the features to numbers first"


def _check_finite(A, name: str, path: Path) -> None:
    bad = ~np.isfinite(A)
    if bad.any():
        example = int(np.argwhere(bad)[0][1])
        raise ValueError(f"{str(path)!r}: {name} has {int(bad.sum())} NaN or infinite values "
                         f"(first in example {example}, counting from 0); clean or impute them first")


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
    try:
        with h5py.File(path, "r") as f:
            names = {f"{split}_set_x", f"{split}_set_y"}
            if not names <= set(f.keys()):
                raise ValueError(f"{str(path)!r} lacks the arrays {sorted(names - set(f.keys()))}; "
                                 f"it has {sorted(f.keys())}")
            images = _hdf5_array(f, f"{split}_set_x", "uif", path)
            labels = _hdf5_array(f, f"{split}_set_y", "buif", path).reshape(-1)
            classes = _class_names(_hdf5_array(f, "list_classes", "SUO", path), path) if "list_classes" in f \
                else ["non-cat", "cat"]
    except OSError as exc:  # h5py's error for a truncated or damaged file
        raise ValueError(f"{str(path)!r} is a damaged HDF5 file ({exc}); download it again") from None
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{str(path)!r}: expected images (m, 64, 64, 3) and labels (m,), "
                         f"got {images.shape} and {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{str(path)!r}: labels must be 0 or 1")
    X = images.reshape(images.shape[0], -1).T / 255.0
    return X, labels.reshape(1, -1).astype(np.float64), classes


def _hdf5_array(f, name: str, kinds: str, path: Path) -> np.ndarray:
    """Dataset ``name`` of the open HDF5 file ``f``, read only if its dtype kind is one of ``kinds``."""
    import h5py

    dataset = f[name]
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"{str(path)!r}: {name!r} is a group, not an array")
    if dataset.dtype.kind not in kinds:
        wanted = "text" if "S" in kinds else "numbers"
        raise ValueError(f"{str(path)!r}: {name!r} holds {dataset.dtype} values, not {wanted}; "
                         f"this is not the course's file, download it again")
    check_fits_in_memory(dataset.size, dataset.dtype.itemsize, f"{str(path)!r}: {name!r} of shape {dataset.shape}")
    return np.asarray(dataset)


def _class_names(values: np.ndarray, path: Path) -> list[str]:
    names = [value.decode() if isinstance(value, bytes) else value for value in values.reshape(-1)]
    if not all(isinstance(name, str) for name in names):
        raise ValueError(f"{str(path)!r}: 'list_classes' must hold class names (text)")
    return names
