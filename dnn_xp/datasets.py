"""Data sets in the library's layout: ``X`` is ``(n_x, m)`` float64, ``Y`` is ``(1, m)`` float64.

Generated teaching sets (:func:`planar_flower`, :func:`moons`, :func:`circles`,
:func:`spirals`) need no download; :func:`digits` (10 classes, ids in ``Y``) and
:func:`load_football` read files that scikit-learn and the course ship;
:func:`load_cat` reads the course's HDF5 files (:func:`load_cat_images`: their arrays as
stored) and :func:`load_npz` / :func:`load_csv` read a user's file, where examples are rows. :func:`open_dask`
opens a data set too large for one machine as a lazy dask array (examples as columns).
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


def moons(n_samples=100, *, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles, drawn exactly as scikit-learn's ``make_moons``.

    Same arguments and the same draws: with ``random_state=None`` the global NumPy
    generator is used, so ``np.random.seed(3); moons(n_samples=300, noise=.2)`` is the
    course's data. ``n_samples`` may be a pair ``(upper moon, lower moon)``. Class 0
    lies on ``(cos t, sin t)`` and class 1 on ``(1 - cos t, 0.5 - sin t)``, ``t`` in
    ``[0, pi]``. Returns ``X: (2, m)`` and ``Y: (1, m)`` float64 (columns are examples).
    """
    n_out, n_in = _two_counts(n_samples)
    rng = _sklearn_generator(random_state)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    return _sklearn_finish(X, n_out, n_in, shuffle, noise, rng)


def circles(n_samples=100, *, shuffle=True, noise=None, random_state=None, factor=0.8):
    """A large circle holding a smaller one, drawn exactly as scikit-learn's ``make_circles``.

    ``factor`` is the inner radius over the outer one, in ``[0, 1)``; the rest as
    :func:`moons` (``np.random.seed(1); circles(n_samples=300, noise=.05)`` is the
    course's training set). Class 0 is the outer circle. Returns ``X: (2, m)``, ``Y: (1, m)``.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor < 1:
        raise ValueError(f"factor is the inner radius over the outer one, in [0, 1); got {factor!r}")
    n_out, n_in = _two_counts(n_samples)
    rng = _sklearn_generator(random_state)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.append(np.cos(t_out), np.cos(t_in) * factor),
                   np.append(np.sin(t_out), np.sin(t_in) * factor)]).T
    return _sklearn_finish(X, n_out, n_in, shuffle, noise, rng)


def _two_counts(n_samples) -> tuple[int, int]:
    if isinstance(n_samples, (tuple, list)) and len(n_samples) == 2:
        counts = tuple(n_samples)
    elif isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool):
        counts = (n_samples // 2, n_samples - n_samples // 2)
    else:
        raise ValueError(f"n_samples must be an int or a pair (class 0, class 1); got {n_samples!r}")
    if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in counts) or sum(counts) < 1:
        raise ValueError(f"n_samples must count at least one example, none negative; got {n_samples!r}")
    return int(counts[0]), int(counts[1])


def _sklearn_generator(random_state) -> np.random.RandomState:
    """scikit-learn's ``check_random_state``: None is NumPy's global generator, an int seeds a new one."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return host_rng(int(random_state))
    raise ValueError(f"random_state must be None, an int or a numpy.random.RandomState; got {random_state!r}")


def _sklearn_finish(X, n_out: int, n_in: int, shuffle: bool, noise, rng):
    """scikit-learn's last steps: shuffle the rows (an arange shuffled in place), then add noise."""
    y = np.hstack([np.zeros(n_out), np.ones(n_in)])
    if shuffle:
        order = np.arange(X.shape[0])
        rng.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X.T, y.reshape(1, -1)


def spirals(n_per_class=100, classes=3, noise=0.2, seed=0):
    """``classes`` interleaved spiral arms (CS231n's recipe): ``X: (2, m)``, class ids ``Y: (1, m)``.

    Arm ``j`` has radius ``linspace(0, 1, n)`` and angle ``linspace(4j, 4(j+1), n)``
    plus ``noise * randn(n)``, drawn arm by arm from ``RandomState(seed)``; arm 0 first.
    """
    for value, name in ((n_per_class, "n_per_class"), (classes, "classes")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    rng = host_rng(seed)
    X = np.zeros((n_per_class * classes, 2))
    y = np.zeros(n_per_class * classes)
    for j in range(classes):
        rows = slice(n_per_class * j, n_per_class * (j + 1))
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(j * 4.0, (j + 1) * 4.0, n_per_class) + rng.randn(n_per_class) * noise
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = j
    return X.T, y.reshape(1, -1)


def digits():
    """scikit-learn's bundled 8x8 digits: ``X: (64, 1797)`` in ``[0, 1]`` (pixels / 16), ids ``Y: (1, 1797)``.

    Needs scikit-learn (``pip install 'dnn_xp[datasets]'``); it reads the copy shipped
    inside scikit-learn, with no download.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("digits() reads the copy bundled with scikit-learn, which is not installed; "
                          "pip install 'dnn_xp[datasets]' (or scikit-learn)") from None
    data = load_digits()
    return (np.asarray(data.data, dtype=np.float64) / 16.0).T, np.asarray(data.target, dtype=np.float64).reshape(1, -1)


class FootballData(NamedTuple):
    """The course's regularization set: ``train_x: (2, 211)``, ``train_y: (1, 211)``, ``val_x: (2, 200)``, ``val_y``."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray


def load_football(path) -> FootballData:
    """Read the course's ``data.mat`` (keys ``X, y, Xval, yval``, examples as rows) with ``scipy.io.loadmat``.

    Needs SciPy (``pip install 'dnn_xp[datasets]'``). Labels become float64 ``(1, m)``.
    """
    path = _existing_file(path, "football data file")
    try:
        from scipy.io import loadmat
    except ImportError:
        raise ImportError("load_football reads a MATLAB file with SciPy, which is not installed; "
                          "pip install 'dnn_xp[datasets]' (or scipy)") from None
    try:
        data = loadmat(path)
    except (ValueError, OSError, TypeError, IndexError, NotImplementedError) as exc:  # IndexError: a short file
        raise ValueError(f"{str(path)!r} is not a readable MATLAB .mat file ({exc})") from None
    missing = [k for k in ("X", "y", "Xval", "yval") if k not in data]
    if missing:
        raise ValueError(f"{str(path)!r} lacks the arrays {missing}; the course's data.mat has X, y, Xval, yval")
    train_x, train_y = _columns(data["X"], data["y"], path, 2)
    val_x, val_y = _columns(data["Xval"], data["yval"], path, 2)
    return FootballData(train_x, train_y, val_x, val_y)


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
    folder = _cat_folder(data_dir)
    train_x, train_y, classes = _read_cat_split(folder / _CAT_FILES["train"], "train")
    test_x, test_y, _ = _read_cat_split(folder / _CAT_FILES["test"], "test")
    return CatData(train_x, train_y, test_x, test_y, classes)


class CatImages(NamedTuple):
    """Cat vs non-cat as the course's loader returns it: the images unflattened.

    ``train_x_orig: (209, 64, 64, 3)`` and ``test_x_orig: (50, 64, 64, 3)`` uint8, labels
    ``train_y: (1, 209)`` and ``test_y: (1, 50)`` as stored (int64), and ``classes``, the
    test file's ``list_classes``: NumPy bytes ``[b'non-cat', b'cat']``.
    """

    train_x_orig: np.ndarray
    train_y: np.ndarray
    test_x_orig: np.ndarray
    test_y: np.ndarray
    classes: np.ndarray


def load_cat_images(data_dir) -> CatImages:
    """Read the two HDF5 files from ``data_dir`` without flattening or scaling (the course's ``load_data``)."""
    folder = _cat_folder(data_dir)
    train_x, train_y, _ = _read_cat_file(folder / _CAT_FILES["train"], "train")
    test_x, test_y, classes = _read_cat_file(folder / _CAT_FILES["test"], "test")
    if classes is None:
        raise ValueError(f"{str(folder / _CAT_FILES['test'])!r} has no 'list_classes'; "
                         f"the course's file has [b'non-cat', b'cat']: download it again")
    return CatImages(train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes)


def _cat_folder(data_dir) -> Path:
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data_dir {str(folder)!r} is not a folder; point it at the folder "
                                f"holding {' and '.join(_CAT_FILES.values())}")
    return folder


def _read_cat_split(path: Path, split: str):
    """One split flattened: ``X: (12288, m)`` in ``[0, 1]``, ``Y: (1, m)`` float64, the class names."""
    images, labels, classes = _read_cat_file(path, split)
    X = images.reshape(images.shape[0], -1).T / 255.0
    names = ["non-cat", "cat"] if classes is None else _class_names(classes, path)
    return X, labels.reshape(1, -1).astype(np.float64), names


def _read_cat_file(path: Path, split: str):
    """One split as stored: images ``(m, 64, 64, 3)``, labels ``(m,)``, ``list_classes`` (None if absent)."""
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
            classes = _hdf5_array(f, "list_classes", "SUO", path) if "list_classes" in f else None
    except OSError as exc:  # h5py's error for a truncated or damaged file
        raise ValueError(f"{str(path)!r} is a damaged HDF5 file ({exc}); download it again") from None
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{str(path)!r}: expected images (m, 64, 64, 3) and labels (m,), "
                         f"got {images.shape} and {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{str(path)!r}: labels must be 0 or 1")
    return images, labels, classes


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


def open_dask(path, axis: int = 1):
    """A folder of ``.npy`` shards, or a zarr store, as one dask array: nothing is read on the client.

    Shards are taken in file-name order and joined along ``axis`` (1: each shard
    is ``(n_x, m_i)``, examples as columns, the library's layout; 0 for shards of
    rows). Each shard is one chunk, read by the worker that needs it with
    ``np.load``, so on a cluster the folder must be reachable from every worker
    (a shared file system); only the shards' headers are read here. A zarr store
    (a folder with ``.zarray`` or ``zarr.json``, or named ``*.zarr``) opens with
    ``dask.array.from_zarr`` and keeps its chunks. Needs ``dnn_xp[dask]``.
    """
    import dask
    import dask.array as da

    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"open_dask needs a folder of .npy shards or a zarr store; {str(path)!r} is not a folder")
    if axis not in (0, 1):
        raise ValueError(f"axis must be 1 (shards of columns, (n_x, m_i)) or 0 (shards of rows); got axis={axis!r}")
    if folder.suffix == ".zarr" or any((folder / name).exists() for name in (".zarray", "zarr.json")):
        return da.from_zarr(str(folder))
    shards = sorted(folder.glob("*.npy"))
    if not shards:
        raise ValueError(f"{str(path)!r} holds no .npy files and is no zarr store; save shards with np.save")
    blocks, first = [], None
    for shard in shards:
        header = np.load(shard, mmap_mode="r")  # the header only: the data stay on disk
        shape, dtype = header.shape, header.dtype
        del header
        if len(shape) != 2:
            raise ValueError(f"shard {shard.name!r} has shape {shape}; every shard must be 2-D")
        if first is None:
            first = (shape[1 - axis], dtype)
        elif (shape[1 - axis], dtype) != first:
            raise ValueError(f"shard {shard.name!r} has shape {shape} and dtype {dtype}, unlike the first shard "
                             f"({first[0]} along axis {1 - axis}, {first[1]}); shards must match")
        load = dask.delayed(np.load, pure=True)(str(shard))
        blocks.append(da.from_delayed(load, shape=shape, dtype=dtype))
    return blocks[0] if len(blocks) == 1 else da.concatenate(blocks, axis=axis)
