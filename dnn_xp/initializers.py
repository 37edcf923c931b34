"""Weight initialization schemes, drawn on the host from one seeded generator.

Weights are drawn layer by layer (``W1`` first) from
``numpy.random.RandomState(seed)``, exactly as the course does, so a seed gives
the same numbers on every backend; biases are zero. Arrays are float64 NumPy.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from .backend import host_rng

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
    """``layer_dims`` as a list of at least two positive ints, or a ValueError saying why."""
    try:
        dims = [int(n) for n in layer_dims]
    except (TypeError, ValueError):
        raise TypeError(f"layer_dims must be a sequence of positive integers; got {layer_dims!r}") from None
    if len(dims) < 2:
        raise ValueError(f"layer_dims needs at least two sizes, [n_x, ..., n_y]; got {layer_dims!r}")
    if any(n <= 0 or n != d for n, d in zip(dims, layer_dims)):
        raise ValueError(f"layer_dims must be positive integers; got {list(layer_dims)!r}")
    return dims


def _scale_function(scheme):
    if isinstance(scheme, Real) and not isinstance(scheme, bool):
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
        W = np.zeros((n, n_prev)) if scale is None else scale(rng.randn(n, n_prev), n_prev, n)
        layers.append((W, np.zeros((n, 1))))
    return layers
