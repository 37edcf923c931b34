"""Weight initialization schemes, drawn on the host from one seeded generator.

Weights are drawn layer by layer (``W1`` first) from
``numpy.random.RandomState(seed)``, exactly as the course does, so a seed gives
the same numbers on every backend; biases are zero. Arrays are float64 NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np

from .backend import host_rng
from .validation import check_fits_in_memory

# Each scheme scales a standard-normal draw ``G`` of shape ``(n, n_prev)``, written
# as the course writes it (``/ sqrt`` for "lecun") so the numbers match bit for bit.
SCHEMES = {
    "zeros": None,
    "small": lambda G, n_prev, n: G * 0.01,
    "lecun": lambda G, n_prev, n: G / np.sqrt(n_prev),
    "he": lambda G, n_prev, n: G * np.sqrt(2.0 / n_prev),
    "glorot": lambda G, n_prev, n: G * np.sqrt(2.0 / (n_prev + n)),
}


def check_layer_dims(layer_dims) -> list[int]:
    """``layer_dims`` as a list of at least two positive ints, or an error saying why.

    Sizes whose weights would not fit in this machine's memory are refused here,
    before anything is allocated.
    """
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Iterable):
        raise TypeError(f"layer_dims must be a sequence of positive integers; got {layer_dims!r}")
    layer_dims = list(layer_dims)
    if any(n is None or not isinstance(n, (Real, str)) for n in layer_dims):
        raise TypeError(f"layer_dims must be a sequence of positive integers; got {layer_dims!r}")
    if len(layer_dims) < 2:
        raise ValueError(f"layer_dims needs at least two sizes, [n_x, ..., n_y]; got {layer_dims!r}")
    if any(isinstance(n, (bool, str)) or not _is_whole(n) or n <= 0 for n in layer_dims):
        raise ValueError(f"layer_dims must be positive integers; got {layer_dims!r}")
    dims = [int(n) for n in layer_dims]
    count = sum(n * n_prev + n for n_prev, n in zip(dims[:-1], dims[1:]))
    check_fits_in_memory(count, 8, f"layer_dims {dims}")
    return dims


def _is_whole(n) -> bool:
    return isinstance(n, Integral) or (math.isfinite(n) and float(n).is_integer())


def _scale_function(scheme):
    if isinstance(scheme, Real) and not isinstance(scheme, bool):
        if not math.isfinite(scheme):
            raise ValueError(f"init={scheme!r} would make every weight NaN or Inf; give a finite scale "
                             f"such as 0.01, or one of {', '.join(SCHEMES)}")
        return lambda G, n_prev, n: G * float(scheme)
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"unknown init={scheme!r}; choose one of {', '.join(SCHEMES)} or a number")
    return SCHEMES[scheme]


def initial_layers(layer_dims, scheme="he", seed=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(W1, b1), ..., (WL, bL)]`` with ``W_l: (n_l, n_{l-1})`` and ``b_l: (n_l, 1)``.

    ``scheme`` is a name from :data:`SCHEMES` or a number that multiplies ``randn``.
    """
    dims = check_layer_dims(layer_dims)
    scale = _scale_function(scheme)
    rng = host_rng(seed)
    layers = []
    for n_prev, n in zip(dims[:-1], dims[1:]):
        if scale is None:
            W = np.zeros((n, n_prev))
        else:
            with np.errstate(over="ignore"):
                W = scale(rng.randn(n, n_prev), n_prev, n)
            if not np.isfinite(W).all():
                raise ValueError(f"init={scheme!r} is too large: weights of layer {len(layers) + 1} "
                                 f"overflow to Inf; give a smaller scale")
        layers.append((W, np.zeros((n, 1))))
    return layers
