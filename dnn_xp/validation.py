"""Checks at the API boundary, with errors that name the argument and the fix.

These run once per call into the library (never inside the training loop).
"""

from __future__ import annotations

from numbers import Integral, Real


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
    if xp is not None and not _all_finite(A, xp):
        raise ValueError(f"{name} contains NaN or Inf; clean or impute those values first")


def _all_finite(A, xp) -> bool:
    # max and min propagate NaN and reach +-Inf (the standard requires it), so two
    # reductions check every entry without allocating an array the size of A.
    return bool(xp.isfinite(xp.max(A))) and bool(xp.isfinite(xp.min(A)))


def check_labels(Y, m: int, outputs: int, classifies: bool, xp, name: str = "Y"):
    """``Y`` must be ``(outputs, m)``, finite, and 0/1 when the output layer classifies."""
    check_matrix(Y, name, rows=outputs, xp=xp)
    if Y.shape[1] != m:
        raise ValueError(f"{name} has {Y.shape[1]} examples (columns) but X has {m}; they must match")
    if classifies and not bool(xp.all((Y == 0) | (Y == 1))):
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
    elif not (bool(xp.all((Y == 0) | (Y == 1))) and bool(xp.all(xp.sum(Y, axis=0) == 1))):
        raise ValueError(f"{name} of shape {tuple(Y.shape)} must be one-hot: 0/1 with a single 1 per column")
