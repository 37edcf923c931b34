"""Gradient checking: the back-propagated gradient against central differences, in float64.

The course's test: parameters flattened in the order ``W1, b1, W2, b2, ...`` (each
row-major), ``gradapprox_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)``
and the relative difference ``||grad - gradapprox|| / (||grad|| + ||gradapprox||)``.
Below about 2e-7 the gradient is right. It runs on host NumPy copies (dropout off),
whatever the network's backend, and costs ``2 * (number of parameters)`` forward passes.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import numpy as xp

from .backend import to_numpy
from .core import backward, cost, forward
from .losses import one_hot
from .regularization import add_l2_gradients, check_l2, l2_cost
from .validation import check_positive_number


def gradient_check(net, X, Y, epsilon=1e-7, l2=0.0) -> float:
    """The relative difference between ``net``'s gradient and central differences on ``(X, Y)``.

    ``X: (n_x, m)``, ``Y`` as :meth:`dnn_xp.Network.fit` takes it; the cost includes
    the L2 term when ``l2 > 0``. Activations with kinks (ReLU) give a large
    difference only when a pre-activation lies within ``epsilon`` of the kink.
    """
    epsilon = check_positive_number(epsilon, "epsilon")
    l2 = check_l2(l2)
    X = np.asarray(to_numpy(X), dtype=np.float64)
    Y = np.asarray(to_numpy(Y), dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != net.layer_dims[0] or Y.ndim != 2 or Y.shape[1] != X.shape[1]:
        raise ValueError(f"gradient_check needs X: ({net.layer_dims[0]}, m) and Y with m columns; "
                         f"got shapes {X.shape} and {Y.shape}")
    if net.output.name == "softmax":
        Y = one_hot(xp, Y, net.layer_dims[-1])
    params = {k: np.asarray(to_numpy(v), dtype=np.float64) for k, v in net.parameters.items()}
    layers = [(params[f"W{l}"], params[f"b{l}"]) for l in range(1, len(net.layer_dims))]
    m = X.shape[1]

    def total_cost(candidate):
        value = cost(forward(candidate, X, net.hidden, xp)[0], Y, net.output, xp)
        return float(value + l2_cost(candidate, l2, m, xp)) if l2 else float(value)

    _, cache = forward(layers, X, net.hidden, xp)
    grads = backward(layers, cache, Y, net.hidden, net.output, xp)
    if l2:
        grads = add_l2_gradients(grads, layers, l2, m)
    analytic = np.concatenate([g.ravel() for pair in grads for g in pair])
    flat = [p.copy() for pair in layers for p in pair]
    approx = np.empty_like(analytic)
    k = 0
    for p in flat:
        view = p.reshape(-1)
        for i in range(view.size):
            saved = view[i]
            view[i] = saved + epsilon
            plus = total_cost(_pairs(flat))
            view[i] = saved - epsilon
            minus = total_cost(_pairs(flat))
            view[i] = saved
            approx[k] = (plus - minus) / (2 * epsilon)
            k += 1
    denominator = np.linalg.norm(analytic) + np.linalg.norm(approx)
    return float(np.linalg.norm(analytic - approx) / denominator) if denominator else 0.0


def _pairs(flat):
    return [(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)]
