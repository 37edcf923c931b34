"""Course 2, week 1: L2 regularization and inverted dropout, as a drop-in module.

``from dnn_xp.course.regularization import *`` gives the assignment's functions and the helpers
its ``reg_utils.py`` gave (the fixed 3-layer network, ``compute_cost``, ``predict``,
``predict_dec``, ``load_2D_dataset``), with their names, arguments, defaults, dictionary keys
and caches, on any backend's arrays. The model is ``[n_x, 20, 3, 1]``: ReLU, ReLU, sigmoid.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ..backend import backend_of
from ..datasets import load_football
from ..regularization import l2_cost
from ._common import check_data, layers_of
from ._plots import plot_decision_boundary
from ._three_layer import backward as _backward
from ._three_layer import backward_propagation_scaled_last as backward_propagation
from ._three_layer import forward as _forward
from ._three_layer import forward_propagation, initial_parameters, predict, predict_dec, relu, sigmoid
from ._three_layer import nansum_cost as compute_cost
from .deep import update_parameters

__all__ = [
    "plot_decision_boundary", "sigmoid", "relu", "initialize_parameters", "compute_cost",
    "forward_propagation", "backward_propagation", "update_parameters", "predict", "predict_dec",
    "load_2D_dataset", "load_dataset", "compute_cost_with_regularization",
    "backward_propagation_with_regularization", "forward_propagation_with_dropout",
    "backward_propagation_with_dropout", "model",
]


def load_2D_dataset(path="datasets/data.mat"):
    """The course's football data from its ``data.mat``, as NumPy float64 (labels 0/1).

    Returns ``(train_X (2, 211), train_Y (1, 211), test_X (2, 200), test_Y (1, 200))``;
    ``path`` defaults to where the course's notebook finds it.
    """
    return tuple(load_football(path))


load_dataset = load_2D_dataset


def initialize_parameters(layer_dims, backend=None, device=None):
    """Seed 3, then ``W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1})`` layer by layer; zero biases."""
    return initial_parameters(layer_dims, "lecun", backend=backend, device=device)


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    """The cross-entropy cost plus ``lambd / (2m) * (sum(W1^2) + sum(W2^2) + ...)``, a 0-d array."""
    xp = array_namespace(A3, Y, *parameters.values())
    return compute_cost(A3, Y) + l2_cost(layers_of(parameters), lambd, Y.shape[1], xp)


def backward_propagation_with_regularization(X, Y, cache, lambd):
    """:func:`backward_propagation` with ``(lambd / m) * W_l`` added to each ``dW_l`` (biases untouched)."""
    return _backward(X, Y, cache, scale_first=False, lambd=lambd)


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5):
    """Inverted dropout on the hidden layers: ``A3`` and ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``.

    Reseeds the host generator with 1 on every call, as the course does, then draws
    ``D1 = rand(n_1, m) < keep_prob`` and ``D2`` from the same stream (so every call has the
    same masks); ``A_l = A_l * D_l / keep_prob``.
    """
    return _forward(X, parameters, keep_prob)


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    """:func:`backward_propagation` with the cached masks applied: ``dA_l = dA_l * D_l / keep_prob``."""
    return _backward(X, Y, cache, scale_first=False, keep_prob=keep_prob)


def model(X, Y, learning_rate=0.3, num_iterations=30000, print_cost=True, lambd=0, keep_prob=1):
    """Full-batch gradient descent of ``[n_x, 20, 3, 1]``, with L2 (``lambd``) or dropout (``keep_prob``).

    Returns ``parameters`` on X's backend. With ``print_cost`` the cost is printed every
    10000 iterations (``Cost after iteration i: J``). L2 and dropout are not combined. Each
    iteration's parameters are settled (:attr:`dnn_xp.backend.Backend.settle`).
    """
    if lambd != 0 and keep_prob != 1:
        raise ValueError(f"use L2 or dropout, not both; got lambd={lambd!r} and keep_prob={keep_prob!r}")
    if not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob is the probability of keeping a unit, in (0, 1]; got keep_prob={keep_prob!r}")
    check_data(X, Y)
    parameters = initial_parameters([X.shape[0], 20, 3, 1], "lecun", like=X)
    dropout = keep_prob if keep_prob < 1 else None
    settle = backend_of(X).settle
    for i in range(num_iterations):
        a3, cache = _forward(X, parameters, dropout)
        if print_cost and i % 10000 == 0:
            cost = compute_cost_with_regularization(a3, Y, parameters, lambd) if lambd else compute_cost(a3, Y)
            print("Cost after iteration {}: {}".format(i, float(cost)))
        grads = _backward(X, Y, cache, scale_first=False, lambd=lambd, keep_prob=dropout)
        parameters = settle(update_parameters(parameters, grads, learning_rate))
    return parameters
