"""Course 1, week 3: planar data classification with one tanh hidden layer, as a drop-in module.

``from dnn_xp.course.planar import *`` gives the assignment's functions and the helpers its
``planar_utils.py`` gave (``plot_decision_boundary``, ``sigmoid``, ``load_planar_dataset``,
``load_extra_datasets``) with their names, arguments, defaults, dictionary keys and return
values, on any backend's arrays. Shapes: ``X: (n_x, m)``, ``Y: (n_y, m)``, ``W1: (n_h, n_x)``,
``W2: (n_y, n_h)``.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..backend import backend_of
from ..datasets import planar_flower
from ..initializers import initial_layers
from . import deep
from ._common import check_data, cross_entropy_terms, parameters_dict, place
from ._common import sigmoid as _sigmoid
from ._plots import decision_boundary

__all__ = [
    "plot_decision_boundary", "sigmoid", "load_planar_dataset", "load_extra_datasets", "layer_sizes",
    "initialize_parameters", "forward_propagation", "compute_cost", "backward_propagation",
    "update_parameters", "nn_model", "predict",
]

EXTRA_SIZE = 200  # points in each of load_extra_datasets' sets


def plot_decision_boundary(model, X, y):
    """Colour the plane by ``model`` and scatter ``X: (2, m)`` by ``y: (1, m)`` on pyplot's current axes.

    ``model`` maps host points as rows ``(k, 2)`` to predictions, e.g.
    ``lambda x: predict(parameters, x.T)``. As in the course, it does not call ``plt.show()``,
    so the notebook's ``plt.title(...)`` and subplots apply to this figure. Needs matplotlib.
    """
    decision_boundary(model, X, y, show=False)


def sigmoid(x):
    """``1 / (1 + exp(-x))``, same shape as ``x``."""
    return _sigmoid(array_namespace(x), x)


def load_planar_dataset():
    """The course's "flower": ``X: (2, 400)`` float64 and ``Y: (1, 400)`` uint8, as NumPy arrays."""
    X, Y = planar_flower()
    return X, Y.astype(np.uint8)


def load_extra_datasets():
    """The assignment's other planar sets, drawn as the course draws them with ``sklearn.datasets``.

    Returns ``(noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure)``, each a pair
    ``(X (200, 2), y (200,))`` with examples as rows, as scikit-learn returns them (the notebook
    transposes them): circles with ``factor=.5, noise=.3``, moons with ``noise=.2``, 6 blobs
    (``random_state=5``), Gaussian quantiles of 2 classes (``cov=0.5``), and two uniform
    ``rand(200, 2)`` arrays. All but the blobs draw from NumPy's global generator, unseeded,
    as the course does. Needs scikit-learn.
    """
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError("load_extra_datasets draws its sets with scikit-learn, which is not installed; "
                          "pip install 'dnn_xp[datasets]' (or scikit-learn)") from None
    noisy_circles = datasets.make_circles(n_samples=EXTRA_SIZE, factor=0.5, noise=0.3)
    noisy_moons = datasets.make_moons(n_samples=EXTRA_SIZE, noise=0.2)
    blobs = datasets.make_blobs(n_samples=EXTRA_SIZE, random_state=5, n_features=2, centers=6)
    gaussian_quantiles = datasets.make_gaussian_quantiles(mean=None, cov=0.5, n_samples=EXTRA_SIZE, n_features=2,
                                                          n_classes=2, shuffle=True, random_state=None)
    no_structure = np.random.rand(EXTRA_SIZE, 2), np.random.rand(EXTRA_SIZE, 2)
    return noisy_circles, noisy_moons, blobs, gaussian_quantiles, no_structure


def layer_sizes(X, Y):
    """``(n_x, n_h, n_y)`` with the course's hidden size ``n_h = 4``."""
    return X.shape[0], 4, Y.shape[0]


def _initial(n_x, n_h, n_y):
    return parameters_dict(initial_layers([n_x, n_h, n_y], 0.01, 2))


def initialize_parameters(n_x, n_h, n_y, backend=None, device=None):
    """``{W1: (n_h, n_x), b1: (n_h, 1), W2: (n_y, n_h), b2: (n_y, 1)}``: seed 2, ``randn * 0.01``."""
    return place(_initial(n_x, n_h, n_y), backend=backend, device=device)


def forward_propagation(X, parameters):
    """``A2 = sigmoid(W2 @ tanh(W1 @ X + b1) + b2): (n_y, m)`` and ``cache {"Z1", "A1", "Z2", "A2"}``."""
    xp = array_namespace(X, *parameters.values())
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = xp.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = _sigmoid(xp, Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    """``-(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))`` as a Python float."""
    xp = array_namespace(A2, Y)
    return float(xp.sum(cross_entropy_terms(xp, A2, Y)) / Y.shape[1])


def backward_propagation(parameters, cache, X, Y):
    """``{"dW1", "db1", "dW2", "db2"}``, from ``dZ2 = A2 - Y`` and ``dZ1 = W2.T @ dZ2 * (1 - A1^2)``."""
    xp = array_namespace(X, Y, *cache.values())
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * (dZ2 @ A1.T)
    db2 = (1 / m) * xp.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = (1 / m) * (dZ1 @ X.T)
    db1 = (1 / m) * xp.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    """A new dictionary with ``W - learning_rate * dW`` and ``b - learning_rate * db``."""
    return deep.update_parameters(parameters, grads, learning_rate)


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    """Gradient descent (learning rate 1.2) from the seed-2 weights, on X's backend: ``parameters``.

    With ``print_cost`` the cost is printed every 1000 iterations as ``Cost after iteration i: %f``.
    ``X: (n_x, m)`` must be finite and ``Y: (n_y, m)`` hold 0/1 labels. Each iteration's
    parameters are settled (:attr:`dnn_xp.backend.Backend.settle`).
    """
    check_data(X, Y, n_y=None)
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = place(_initial(n_x, n_h, n_y), like=X)
    settle = backend_of(X).settle
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, compute_cost(A2, Y)))
        parameters = settle(update_parameters(parameters, backward_propagation(parameters, cache, X, Y)))
    return parameters


def predict(parameters, X):
    """``(1, m)`` booleans: ``A2 > 0.5``."""
    A2, _ = forward_propagation(X, parameters)
    return A2 > 0.5
