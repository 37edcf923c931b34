"""The vectorized training math: pure functions on arrays of any Array API namespace.

Shapes (examples are columns): ``X: (n_0, m)``, ``Y: (1, m)``, ``W_l: (n_l, n_{l-1})``,
``b_l: (n_l, 1)``, ``Z_l, A_l: (n_l, m)``. A network's parameters are a list of
layers ``[(W1, b1), ..., (WL, bL)]``. Every function takes the namespace ``xp``
already resolved by the caller, so nothing here inspects arrays or converts them.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from .activations import Activation
from .losses import OutputLayer

Layers = list[tuple[Any, Any]]


def forward(layers: Layers, X, hidden: Activation, xp, dropout=None):
    """Logits ``Z_L: (n_L, m)`` and the cache ``[(A_{l-1}, Z_l, raw A_{l-1}) for l = 1..L]``.

    Hidden layers apply ``hidden``; the output layer stays linear (the output
    activation is applied by :func:`probabilities` or folded into the cost).
    ``dropout`` (training only) holds, per hidden layer, ``None`` or ``(D, keep_prob)``
    with a 0/1 mask ``D: (n_l, m)``: inverted dropout ``A_l = A_l * D / keep_prob``.
    The cache keeps each activation before dropout too, for the derivative.
    """
    cache = []
    A = raw = X
    for l, (W, b) in enumerate(layers[:-1]):
        Z = xp.matmul(W, A) + b
        cache.append((A, Z, raw))
        A = raw = hidden.forward(xp, Z)
        if dropout is not None and dropout[l] is not None:
            D, keep_prob = dropout[l]
            A = A * D / keep_prob
    W, b = layers[-1]
    Z = xp.matmul(W, A) + b
    cache.append((A, Z, raw))
    return Z, cache


def probabilities(Z, output: OutputLayer, xp):
    """The network's output ``g(Z_L)``, e.g. ``sigmoid(Z_L)``: ``(n_L, m)``."""
    return output.activation(xp, Z)


def cost(Z, Y, output: OutputLayer, xp):
    """The output layer's cost (cross-entropy for sigmoid) from the logits, a 0-d array."""
    return output.cost(xp, Z, Y)


def backward(layers: Layers, cache, Y, hidden: Activation, output: OutputLayer, xp, scale=1.0,
             dropout=None):
    """Gradients ``[(dW1, db1), ..., (dWL, dbL)]`` of the mean cost, times ``scale``.

    Starts from ``dZ_L = scale * (g(Z_L) - Y) / m``; the factor rides along in
    every ``dZ`` (small arrays), so no pass over a ``dW`` is spent on it. With
    ``scale=-learning_rate`` the result is the gradient-descent step itself.
    ``dropout`` is the forward pass's: each ``dA_l`` gets the same ``D / keep_prob``.
    ``dA_0`` (the gradient with respect to ``X``) is never computed.
    """
    Z = cache[-1][1]
    dZ = (output.activation(xp, Z) - Y) * (scale / Y.shape[1])
    grads = [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        A_prev, _, raw_prev = cache[l]
        grads[l] = (xp.matmul(dZ, A_prev.T), xp.sum(dZ, axis=1, keepdims=True))
        if l > 0:
            dA_prev = xp.matmul(layers[l][0].T, dZ)
            if dropout is not None and dropout[l - 1] is not None:
                D, keep_prob = dropout[l - 1]
                dA_prev = dA_prev * D / keep_prob
            dZ = hidden.backward(xp, dA_prev, cache[l - 1][1], raw_prev)
    return grads


def update(layers: Layers, steps, accumulate: Callable = operator.add) -> Layers:
    """Gradient descent: the new layers ``[(W + step_W, b + step_b), ...]``; ``layers`` are left untouched.

    ``steps`` is ``backward(..., scale=-learning_rate)``, i.e. ``-learning_rate * dW``.
    ``accumulate(step, W)`` returns the sum; the result is always the one returned,
    so any Array API library gives the right weights. The backend chooses it
    (:attr:`dnn_xp.backend.Backend.accumulate`): where arrays are mutable it adds
    in place into the step arrays (fresh arrays that only this step holds), so no
    weight-sized array is allocated here; elsewhere it is a plain ``+``.
    """
    return [(accumulate(sW, W), accumulate(sb, b)) for (W, b), (sW, sb) in zip(layers, steps)]


def train_step(layers: Layers, X, Y, learning_rate, hidden, output, xp, accumulate: Callable = operator.add):
    """Forward, backward and update: ``(new_layers, Z_L)``; ``Z_L`` is from before the update.

    ``accumulate`` is passed to :func:`update`.
    """
    Z, cache = forward(layers, X, hidden, xp)
    return update(layers, backward(layers, cache, Y, hidden, output, xp, -learning_rate), accumulate), Z
