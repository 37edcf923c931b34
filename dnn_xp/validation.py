"""Checks at the API boundary, with errors that name the argument and the fix.

These run once per call into the library (never inside the training loop).
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import array_api_compat
import numpy as np

SEED_LIMIT = 2**32  # numpy.random.RandomState takes seeds in [0, 2**32)


def host_array(A, name: str):
    """``A`` as a NumPy array of real numbers, or unchanged when it belongs to an array library.

    Lists, ``numpy.matrix`` and pandas objects are converted; a masked array is
    accepted only when nothing is masked (a masked entry has no value to train on).
    Complex numbers are refused: dropping the imaginary part would be a silent change.
    """
    if np.ma.isMaskedArray(A):
        masked = int(np.ma.getmaskarray(A).sum())
        if masked:
            raise ValueError(f"{name} is a masked array with {masked} masked entries; fill them "
                             f"({name}.filled(value)) or drop those examples first")
        A = np.ma.getdata(A)
    elif type(A).__module__.split(".")[0] == "pandas" and hasattr(A, "to_numpy"):
        A = _pandas_values(A, name)
    elif not isinstance(A, np.ndarray) and array_api_compat.is_array_api_obj(A):
        return A  # an array of some library: Backend.asarray accepts or refuses it by name
    try:
        A = np.asarray(A)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} is not a rectangular array of numbers ({exc})") from None
    check_real_dtype(A.dtype, name)
    return A


def _pandas_values(frame, name: str) -> np.ndarray:
    """A DataFrame's or Series' values; missing values (``pd.NA``, ``None``) become NaN."""
    values = frame.to_numpy()
    if values.dtype.kind != "O":
        return values
    try:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TypeError(f"{name} holds values that are not numbers (dtype object); convert or drop "
                        f"those columns first") from None


def check_real_dtype(dtype, name: str, xp=None) -> None:
    """Refuse complex, string and object dtypes (NumPy's, or ``xp``'s for a backend array)."""
    if xp is not None:
        if xp.isdtype(dtype, "complex floating"):
            raise TypeError(f"{name} is complex ({dtype}); pass real numbers (its .real part, "
                            f"if the imaginary part is meant to be zero)")
        if not xp.isdtype(dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"{name} must hold numbers; got dtype {dtype}")
        return
    kind = np.dtype(dtype).kind
    if kind == "c":
        raise TypeError(f"{name} is complex ({dtype}); pass real numbers (its .real part, "
                        f"if the imaginary part is meant to be zero)")
    if kind not in "biuf":
        hint = ("encode the classes as 0 and 1 first, e.g. Y = (labels == 'dog').astype(float)" if name == "Y"
                else "convert them to numbers first")
        raise TypeError(f"{name} must hold numbers; got dtype {dtype}: {hint}")


def check_matrix(A, name: str, rows: int | None = None, xp=None):
    """``A`` must be a non-empty 2-D ``(rows, m)`` array of finite numbers."""
    shape = getattr(A, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array; got {type(A).__name__}")
    if len(shape) != 2:
        hint = " (reshape it to (1, m) or (n_x, m))" if len(shape) == 1 else ""
        raise ValueError(f"{name} must be 2-D with examples as columns, (features, m); got shape {tuple(shape)}{hint}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(shape)}); it needs at least one example")
    if rows is not None and shape[0] != rows:
        raise ValueError(
            f"{name} has {shape[0]} rows but the network expects {rows} (layer_dims); "
            f"examples must be columns: pass an array of shape ({rows}, m)"
        )
    if xp is not None:
        check_finite(A, name, xp)


def check_finite(A, name: str, xp, fix: str = "clean or impute those values first") -> None:
    """``A`` must hold no NaN or Inf; the error names ``A`` and says ``fix``."""
    if not all_finite(A, xp):
        raise ValueError(f"{name} contains NaN or Inf; {fix}")


def all_finite(A, xp) -> bool:
    """Whether every entry of ``A`` is finite, read back to the host as one bool."""
    return bool(array_finite_flag(A, xp))


def array_finite_flag(A, xp):
    """A 0-d bool array: whether every entry of ``A`` is finite.

    ``max`` and ``min`` propagate NaN and reach +-Inf (the standard requires it), so
    two reductions check every entry without allocating an array the size of ``A``.
    """
    return xp.isfinite(xp.max(A)) & xp.isfinite(xp.min(A))


def training_data_flag(X, Y, xp, *, binary: bool):
    """A 0-d bool array: ``X`` is finite and ``Y`` holds 0/1 labels (``binary``) or finite values.

    Pure, so a backend can compile it: one device read checks a training set's
    values; the checks that name what is wrong (:func:`check_finite`,
    :func:`check_labels`) need to run only when it is False.
    """
    labels = binary_labels_flag(Y, xp) if binary else array_finite_flag(Y, xp)
    return array_finite_flag(X, xp) & labels


def binary_labels_flag(Y, xp):
    """A 0-d bool array: whether every entry of ``Y`` is 0 or 1 (such labels are finite too)."""
    return xp.all((Y == 0) | (Y == 1))


def check_labels(Y, m: int, outputs: int, classifies: bool, xp, name: str = "Y"):
    """``Y`` must be ``(outputs, m)``, finite, and 0/1 when the output layer classifies.

    Labels that are all 0 or 1 are finite: one device read checks both; the
    finiteness check runs on its own only to name what is wrong. With ``xp=None``
    only the shape is checked.
    """
    check_matrix(Y, name, rows=outputs)
    if Y.shape[1] != m:
        raise ValueError(f"{name} has {Y.shape[1]} examples (columns) but X has {m}; they must match")
    if xp is None:
        return
    if not classifies:
        check_finite(Y, name, xp)
    elif not bool(binary_labels_flag(Y, xp)):
        check_finite(Y, name, xp)
        raise ValueError(f"{name} must hold labels 0 or 1 for output='sigmoid'; found other values")


def check_positive_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_seed(seed, name: str = "seed") -> int | None:
    """``None`` (fresh entropy) or an integer in ``[0, 2**32)``, as the host generator takes."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"{name} must be an integer (or None); got {seed!r}")
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name} must be between 0 and 2**32 - 1; got {seed!r}")
    return int(seed)


def check_fits_in_memory(count: int, itemsize: int, what: str) -> None:
    """Refuse ``count`` numbers of ``itemsize`` bytes when they exceed this machine's memory."""
    needed = count * itemsize
    available = physical_memory()
    if available is not None and needed > available:
        raise ValueError(f"{what} would need {count:,} numbers, {format_bytes(needed)}, more than this "
                         f"machine's memory ({format_bytes(available)}); use smaller sizes")


def physical_memory() -> int | None:
    """Bytes of RAM (POSIX), or None where the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(count: int) -> str:
    """``count`` bytes in decimal units: ``"24.0 TB"``."""
    units = ("bytes", "KB", "MB", "GB", "TB", "PB", "EB")
    value, unit = float(count), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{count} bytes" if unit == 0 else f"{value:.1f} {units[unit]}"
def check_class_labels(Y, m: int, classes: int, xp, name: str = "Y"):
    """Softmax labels: class ids ``(1, m)`` in ``0 .. classes-1``, or one-hot ``(classes, m)``."""
    if Y.shape[0] not in (1, classes):
        raise ValueError(f"{name} must be class ids of shape (1, m) or one-hot of shape ({classes}, m) for "
                         f"output='softmax' over {classes} classes; got shape {tuple(Y.shape)}")
    check_matrix(Y, name, xp=xp)
    if Y.shape[1] != m:
        raise ValueError(f"{name} has {Y.shape[1]} examples (columns) but X has {m}; they must match")
    if Y.shape[0] == 1:
        if not bool(xp.all((Y >= 0) & (Y <= classes - 1) & (Y == xp.floor(Y)))):
            raise ValueError(f"{name} must hold class ids 0 .. {classes - 1} (whole numbers); found other values")
    elif not (bool(binary_labels_flag(Y, xp)) and bool(xp.all(xp.sum(Y, axis=0) == 1))):
        raise ValueError(f"{name} of shape {tuple(Y.shape)} must be one-hot: 0/1 with a single 1 per column")
