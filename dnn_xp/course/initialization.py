"""Course 2, week 1: initialization (zeros, large random, He), as a drop-in module.

``from dnn_xp.course.initialization import *`` gives the assignment's functions and the helpers
its ``init_utils.py`` gave (the fixed 3-layer network, ``compute_loss``, ``predict``,
``predict_dec``, ``load_dataset``), with their names, arguments, defaults, dictionary keys and
caches, on any backend's arrays. The model is ``[n_x, 10, 5, 1]``: ReLU, ReLU, sigmoid.
"""

from __future__ import annotations

from ..backend import backend_of
from ..datasets import circles
from ._common import check_data
from ._plots import plot_decision_boundary
from ._three_layer import backward_propagation_scaled_first as backward_propagation
from ._three_layer import forward_propagation, initial_parameters, predict, predict_dec, relu, sigmoid
from ._three_layer import nansum_cost as compute_loss
from .deep import update_parameters

__all__ = [
    "plot_decision_boundary", "sigmoid", "relu", "compute_loss", "forward_propagation",
    "backward_propagation", "update_parameters", "predict", "predict_dec", "load_dataset",
    "initialize_parameters_zeros", "initialize_parameters_random", "initialize_parameters_he", "model",
]

_SCHEMES = {"zeros": "zeros", "random": 10, "he": "he"}


def load_dataset():
    """The course's circles: ``(train_X (2, 300), train_Y (1, 300), test_X (2, 100), test_Y (1, 100))``.

    Train: ``make_circles(n_samples=300, noise=.05)`` after seed 1; test: 100 samples after seed 2.
    """
    train_X, train_Y = circles(n_samples=300, noise=0.05, random_state=1)
    test_X, test_Y = circles(n_samples=100, noise=0.05, random_state=2)
    return train_X, train_Y, test_X, test_Y


def initialize_parameters_zeros(layers_dims, backend=None, device=None):
    """All weights and biases zero: ``W_l: (n_l, n_{l-1})``, ``b_l: (n_l, 1)``."""
    return initial_parameters(layers_dims, "zeros", backend=backend, device=device)


def initialize_parameters_random(layers_dims, backend=None, device=None):
    """Seed 3, then ``W_l = randn(n_l, n_{l-1}) * 10`` layer by layer; zero biases."""
    return initial_parameters(layers_dims, 10, backend=backend, device=device)


def initialize_parameters_he(layers_dims, backend=None, device=None):
    """Seed 3, then ``W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})`` layer by layer; zero biases."""
    return initial_parameters(layers_dims, "he", backend=backend, device=device)


def model(X, Y, learning_rate=0.01, num_iterations=15000, print_cost=True, initialization="he"):
    """Full-batch gradient descent of ``[n_x, 10, 5, 1]`` from ``initialization``: ``parameters``.

    ``initialization`` is ``"zeros"``, ``"random"`` or ``"he"``; parameters live on X's backend.
    With ``print_cost`` the cost is printed every 1000 iterations (``Cost after iteration i: J``).
    Each iteration's parameters are settled (:attr:`dnn_xp.backend.Backend.settle`).
    """
    if initialization not in _SCHEMES:
        raise ValueError(f"initialization must be one of {', '.join(map(repr, _SCHEMES))}; "
                         f"got initialization={initialization!r}")
    check_data(X, Y)
    parameters = initial_parameters([X.shape[0], 10, 5, 1], _SCHEMES[initialization], like=X)
    settle = backend_of(X).settle
    for i in range(num_iterations):
        a3, cache = forward_propagation(X, parameters)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration {}: {}".format(i, float(compute_loss(a3, Y))))
        parameters = settle(update_parameters(parameters, backward_propagation(X, Y, cache), learning_rate))
    return parameters
