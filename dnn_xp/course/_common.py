"""What every assignment module shares: parameter dictionaries on a backend, and the course's
own formulas for the sigmoid and the cross-entropy terms, computed without NumPy's warnings.

The course writes ``1 / (1 + np.exp(-z))`` and ``np.multiply(-np.log(a), y)``; where those
overflow, take ``log(0)`` or multiply ``inf`` by 0, NumPy warns and returns ``0``, ``inf`` or
``nan``. The functions here return those same values (so the course's ``inf`` costs and its
NaN-ignoring sums reproduce) without evaluating the operations that warn.
"""

from __future__ import annotations

import math

from array_api_compat import array_namespace, device

from ..backend import backend_of, resolve_backend
from ..validation import check_finite, check_labels, check_matrix


def place(host, like=None, backend=None, device=None):
    """A dict of host (NumPy) arrays moved to a backend, as a new dict with the same keys.

    With ``like`` (an array): onto its backend and device, in its dtype when it is floating;
    otherwise onto the named backend (None: ``$DNN_XP_BACKEND`` or NumPy) and device, in
    float64, the course's dtype (float32 on a device without float64; torch's default
    float32 would not match the float64 data a learner converts).
    """
    if like is None:
        target = resolve_backend(backend, device)
        dtype = target.dtype(target.default_float)
    else:
        target = backend_of(like)
        dtype = like.dtype if target.xp.isdtype(like.dtype, "real floating") else None
    return {name: target.asarray(value, dtype) for name, value in host.items()}


def parameters_dict(layers):
    """Host ``[(W1, b1), ...]`` as the course's ``{"W1": W1, "b1": b1, ...}``."""
    params = {}
    for l, (W, b) in enumerate(layers, start=1):
        params[f"W{l}"], params[f"b{l}"] = W, b
    return params


def layers_of(parameters, prefix=""):
    """The course's ``{"W1": W1, "b1": b1, ...}`` as ``[(W1, b1), ...]`` (``prefix="d"``: gradients)."""
    L = sum(1 for key in parameters if key.startswith(f"{prefix}W"))
    return [(parameters[f"{prefix}W{l}"], parameters[f"{prefix}b{l}"]) for l in range(1, L + 1)]


def default_dtype(xp, x, kind="real floating"):
    """The namespace's default dtype of ``kind`` on the device of ``x``."""
    return xp.__array_namespace_info__().default_dtypes(device=device(x))[kind]


def sigmoid(xp, Z):
    """The course's ``1 / (1 + exp(-Z))``, same shape as ``Z``.

    Where ``exp(-Z)`` would overflow the course gets exactly 0; so does this, without
    evaluating the overflow. Integer input is first cast to the default float dtype.
    """
    if not xp.isdtype(Z.dtype, "real floating"):
        Z = xp.astype(Z, default_dtype(xp, Z))
    info = xp.finfo(Z.dtype)
    overflows = Z < -math.log(info.max) * (1 - info.eps)
    zero = xp.zeros_like(Z)
    return xp.where(overflows, zero, 1 / (1 + xp.exp(-xp.where(overflows, zero, Z))))


def neg_log(xp, A):
    """``-log(A)``, ``+inf`` where ``A == 0``, as NumPy gives it (without its divide warning)."""
    zero = A == 0
    return xp.where(zero, xp.full_like(A, math.inf), -xp.log(xp.where(zero, xp.ones_like(A), A)))


def times(xp, a, b):
    """``a * b``, NaN where an infinite ``a`` meets ``b == 0``, as NumPy gives it (without its warning)."""
    inf_times_zero = xp.isinf(a) & (b == 0)
    return xp.where(inf_times_zero, xp.full_like(a, math.nan), a * xp.where(inf_times_zero, xp.ones_like(b), b))


def cross_entropy_terms(xp, A, Y):
    """The course's ``logprobs = -log(A) * Y + -log(1 - A) * (1 - Y)``: ``(1, m)``."""
    return times(xp, neg_log(xp, A), Y) + times(xp, neg_log(xp, 1 - A), 1 - Y)


def nansum(xp, a):
    """``np.nansum``: the sum with NaNs counted as 0 (a 0-d array)."""
    return xp.sum(xp.where(xp.isnan(a), xp.zeros_like(a), a))


def as_0d(xp, value):
    """``value`` as a 0-d array of its namespace, as the course's ``np.squeeze(cost)`` gives it.

    NumPy's reductions return ``numpy.float64`` scalars; ``xp.asarray`` makes them arrays
    and returns other libraries' 0-d arrays as they are.
    """
    return xp.asarray(value)


def check_data(X, Y, n_x=None, n_y=1, names=("X", "Y"), expects="the model"):
    """A model's data checks, as :class:`dnn_xp.Network` makes them: ``X: (n_x, m)`` finite, ``Y: (n_y, m)`` of 0/1.

    ``n_x`` None takes any number of rows (the model is sized from ``X``); ``n_y`` None
    takes any number of label rows. A failed check is a ValueError (TypeError for a
    non-array) naming the argument and the fix; ``expects`` says where ``n_x`` comes from.
    """
    X_name, Y_name = names
    check_matrix(X, X_name)
    if n_x is not None and X.shape[0] != n_x:
        raise ValueError(f"{X_name} has {X.shape[0]} rows but {expects} expects {n_x} features; examples "
                         f"must be columns: pass an array of shape ({n_x}, m)")
    check_matrix(Y, Y_name)
    xp = array_namespace(X, Y)
    check_finite(X, X_name, xp)
    check_labels(Y, X.shape[1], Y.shape[0] if n_y is None else n_y, True, xp, name=Y_name)
