"""The course's second part gives its learners one fixed network in ``*_utils.py``:
``LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID``. This module is that code, written
once for the four assignments that use it (any number of ReLU layers works the same way).

Caches are the course's flat tuples ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``, with
each hidden layer's dropout mask after its ``Z`` when dropout is on:
``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``. Shapes: ``X: (n_0, m)``,
``Z_l, A_l, D_l: (n_l, m)``, ``W_l: (n_l, n_{l-1})``, ``b_l: (n_l, 1)``.
"""

from __future__ import annotations

import functools

import numpy as np
from array_api_compat import array_namespace

from .. import core
from ..activations import ACTIVATIONS
from ..backend import backend_of, host_rng
from ..initializers import initial_layers
from ..regularization import draw_masks
from ._common import cross_entropy_terms, default_dtype, layers_of, nansum, parameters_dict, place
from ._common import sigmoid as course_sigmoid

_RELU = ACTIVATIONS["relu"]
DROPOUT_SEED = 1  # the course reseeds with it at the start of every forward pass with dropout


def sigmoid(x):
    """``1 / (1 + exp(-x))``, same shape as ``x``."""
    return course_sigmoid(array_namespace(x), x)


def relu(x):
    """``max(0, x)``, same shape as ``x``."""
    return _RELU.forward(array_namespace(x), x)


@functools.lru_cache(maxsize=16)
def course_masks(sizes: tuple, m: int, keep_prob: float) -> tuple:
    """The masks ``D_l: (n_l, m)`` of every forward pass with dropout: drawn once, read-only host arrays.

    The course reseeds with :data:`DROPOUT_SEED` at the start of each pass, so
    each pass draws these same masks; drawing them again (a new generator, then
    ``rand`` per layer) was most of a dropout iteration's time.
    """
    drawn = draw_masks(host_rng(DROPOUT_SEED), list(sizes), m, [keep_prob] * len(sizes))
    masks = tuple(np.ones((n, m)) if D is None else D for n, D in zip(sizes, drawn))
    for D in masks:
        D.setflags(write=False)
    return masks


def initial_parameters(layers_dims, scheme, like=None, backend=None, device=None):
    """The course's ``W_l = randn(n_l, n_{l-1}) * scale`` after ``np.random.seed(3)``; zero biases.

    ``scheme`` as :func:`dnn_xp.initializers.initial_layers` takes it ("zeros", "he", "lecun"
    or a number); placed like ``like`` or on the named backend.
    """
    return place(parameters_dict(initial_layers(layers_dims, scheme, 3)), like, backend, device)


def forward(X, parameters, keep_prob=None):
    """``A_L: (1, m)`` and the course's cache; hidden layers use inverted dropout when ``keep_prob`` is given.

    With dropout the masks ``D_l = rand(n_l, m) < keep_prob`` come from the host generator
    seeded with 1 at the start of the call (so every call draws the same masks), then
    ``A_l = A_l * D_l / keep_prob``.
    """
    xp = array_namespace(X, *parameters.values())
    layers = layers_of(parameters)
    masks = [None] * (len(layers) - 1)
    if keep_prob is not None:
        target = backend_of(X)
        masks = [target.asarray(D, layers[0][0].dtype, name="mask")
                 for D in course_masks(tuple(W.shape[0] for W, _ in layers[:-1]), X.shape[1], keep_prob)]
    Z_L, core_cache = core.forward(layers, X, _RELU, xp, None if keep_prob is None else [(D, keep_prob) for D in masks])
    A_L = course_sigmoid(xp, Z_L)
    cache = []
    for l, (W, b) in enumerate(layers):
        Z = core_cache[l][1]
        A = core_cache[l + 1][0] if l + 1 < len(layers) else A_L
        cache += [Z, A, W, b] if l + 1 == len(layers) or keep_prob is None else [Z, masks[l], A, W, b]
    return A_L, tuple(cache)


def _layers(cache, dropout):
    """``[(Z, D, A, W, b) for each layer]`` from a flat cache; ``D`` is None where there is none."""
    layers, i = [], 0
    while i < len(cache):
        if dropout and i + 4 < len(cache):
            layers.append(tuple(cache[i:i + 5]))
            i += 5
        else:
            Z, A, W, b = cache[i:i + 4]
            layers.append((Z, None, A, W, b))
            i += 4
    return layers


def backward(X, Y, cache, *, scale_first, lambd=0.0, keep_prob=None):
    """The course's gradients dictionary, output layer first.

    ``scale_first`` is how the initialization and optimization assignments write it:
    ``dz3 = (1/m)(a3 - Y)``, ``dW3 = dz3 @ a2.T``, keys ``dz3, dW3, db3, da2, ...``. Otherwise
    (regularization, gradient checking) ``dZ3 = A3 - Y``, ``dW3 = (1/m)(dZ3 @ A2.T)``, keys
    ``dZ3, dW3, db3, dA2, ...``; then ``lambd`` adds ``(lambd/m) W`` to each ``dW`` and
    ``keep_prob`` (a cache with masks) applies them: ``dA = dA * D / keep_prob``.
    """
    xp = array_namespace(X, Y, *cache)
    m = X.shape[1]
    layers = _layers(cache, dropout=keep_prob is not None)
    z, a = ("dz", "da") if scale_first else ("dZ", "dA")
    L = len(layers)
    dZ = (1.0 / m) * (layers[-1][2] - Y) if scale_first else layers[-1][2] - Y
    grads = {}
    for l in range(L, 0, -1):
        W = layers[l - 1][3]
        A_prev = layers[l - 2][2] if l > 1 else X
        grads[f"{z}{l}"] = dZ
        if scale_first:
            grads[f"dW{l}"] = dZ @ A_prev.T
            grads[f"db{l}"] = xp.sum(dZ, axis=1, keepdims=True)
        else:
            dW = (1.0 / m) * (dZ @ A_prev.T)
            grads[f"dW{l}"] = dW + (lambd / m) * W if lambd else dW
            grads[f"db{l}"] = (1.0 / m) * xp.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            Z_prev, D_prev = layers[l - 2][0], layers[l - 2][1]
            dA = W.T @ dZ
            if D_prev is not None:
                dA = dA * D_prev
                dA = dA / keep_prob
            grads[f"{a}{l - 1}"] = dA
            dZ = _RELU.backward(xp, dA, Z_prev, A_prev)
    return grads


def forward_propagation(X, parameters):
    """``A3: (1, m)`` and the cache ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``."""
    return forward(X, parameters)


def backward_propagation_scaled_first(X, Y, cache):
    """The initialization and optimization assignments' gradients, from ``dz3 = (1/m)(a3 - Y)``.

    Keys ``dz3, dW3, db3, da2, dz2, dW2, db2, da1, dz1, dW1, db1``.
    """
    return backward(X, Y, cache, scale_first=True)


def backward_propagation_scaled_last(X, Y, cache):
    """The regularization and gradient-checking assignments' gradients, ``dW3 = (1/m)(dZ3 @ A2.T)``.

    From ``dZ3 = A3 - Y``; keys ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``.
    """
    return backward(X, Y, cache, scale_first=False)


def nansum_cost(a3, Y):
    """``(1/m) * nansum(-log(a3) Y - log(1 - a3)(1 - Y))``, a 0-d array: ``inf`` where a wrong output saturates."""
    xp = array_namespace(a3, Y)
    return (1.0 / Y.shape[1]) * nansum(xp, cross_entropy_terms(xp, a3, Y))


def predict_dec(parameters, X):
    """``(1, m)`` booleans ``A3 > 0.5`` (what the course's decision-boundary plots use)."""
    return forward(X, parameters)[0] > 0.5


def predict(X, y, parameters):
    """0/1 predictions ``(1, m)`` of the default integer dtype; prints ``Accuracy: ...`` as the course does."""
    xp = array_namespace(X, y)
    above = predict_dec(parameters, X)
    accuracy = xp.mean(xp.astype(above[0, :] == (y[0, :] == 1), default_dtype(xp, X)))
    print("Accuracy: " + str(float(accuracy)))
    return xp.astype(above, default_dtype(xp, X, "integral"))
