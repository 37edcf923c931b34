"""Course 1, week 2: logistic regression with a neural-network mindset, as a drop-in module.

``from dnn_xp.course.logistic_regression import *`` gives the assignment's functions with its
names, arguments, defaults and return values, on any backend's arrays. Shapes: ``X: (n_x, m)``,
``Y: (1, m)``, ``w: (n_x, 1)``, ``b`` a number or a 0-d array. ``load_dataset`` is the loader
its ``lr_utils.py`` gave (the cat images, unflattened).
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..backend import backend_of
from ..datasets import load_cat_images
from ..validation import check_matrix
from ._common import as_0d, check_data, cross_entropy_terms, place
from ._common import sigmoid as _sigmoid

__all__ = ["load_dataset", "sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model"]


def load_dataset(data_dir="datasets"):
    """The cat images as ``lr_utils.load_dataset()`` returns them (NumPy, nothing flattened or scaled).

    ``(train_set_x_orig (209, 64, 64, 3) uint8, train_set_y (1, 209), test_set_x_orig
    (50, 64, 64, 3), test_set_y (1, 50), classes)``, ``classes`` the bytes ``[b'non-cat', b'cat']``.
    ``data_dir`` holds ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``; it defaults to where
    the course's notebook finds them.
    """
    return tuple(load_cat_images(data_dir))


def sigmoid(z):
    """``s = 1 / (1 + exp(-z))``, same shape as ``z`` (the week-2 sigmoid returns only ``s``)."""
    return _sigmoid(array_namespace(z), z)


def initialize_with_zeros(dim, backend=None, device=None):
    """``w = zeros((dim, 1))`` on the backend (default NumPy) and ``b = 0.0``."""
    return place({"w": np.zeros((dim, 1))}, backend=backend, device=device)["w"], 0.0


def propagate(w, b, X, Y):
    """Cost and gradients of ``A = sigmoid(w.T @ X + b)``: ``({"dw": (n_x, 1), "db": 0-d}, cost)``.

    ``cost = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``, a 0-d array.
    """
    xp = array_namespace(w, b, X, Y)
    m = X.shape[1]
    A = _sigmoid(xp, w.T @ X + b)
    cost = as_0d(xp, (1 / m) * xp.sum(cross_entropy_terms(xp, A, Y)))
    dw = (1 / m) * (X @ (A - Y).T)
    db = (1 / m) * xp.sum(A - Y)
    return {"dw": dw, "db": db}, cost


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """Gradient descent: ``(params {"w", "b"}, grads {"dw", "db"}, costs)``.

    ``costs`` holds the 0-d cost of iterations 0, 100, 200, ...; with ``print_cost`` it is
    printed there as ``Cost after iteration i: %f``. ``grads`` are the last iteration's.
    Each iteration's results are settled (:attr:`dnn_xp.backend.Backend.settle`).
    """
    if num_iterations < 1:
        raise ValueError(f"num_iterations must be at least 1; got num_iterations={num_iterations!r}")
    check_matrix(w, "w")
    check_data(X, Y, n_x=w.shape[0], expects="w (its rows)")
    settle = backend_of(w).settle
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        w, b, grads, cost = settle((w, b, grads, cost))
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print("Cost after iteration %i: %f" % (i, float(cost)))
    return {"w": w, "b": b}, grads, costs


def predict(w, b, X):
    """``Y_prediction: (1, m)``, 1.0 where ``sigmoid(w.T @ X + b) > 0.5``, else 0.0."""
    xp = array_namespace(w, b, X)
    A = _sigmoid(xp, xp.reshape(w, (X.shape[0], 1)).T @ X + b)
    return xp.astype(A > 0.5, A.dtype)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    """Train from zeros and predict both sets: the course's dictionary.

    Keys ``costs, Y_prediction_test, Y_prediction_train, w, b, learning_rate, num_iterations``;
    with ``print_cost`` the costs and the train and test accuracies (in %) are printed.
    """
    check_data(X_train, Y_train, names=("X_train", "Y_train"))
    check_data(X_test, Y_test, n_x=X_train.shape[0], names=("X_test", "Y_test"), expects="X_train (its rows)")
    xp = array_namespace(X_train, Y_train, X_test, Y_test)
    w = place({"w": np.zeros((X_train.shape[0], 1))}, like=X_train)["w"]
    params, grads, costs = optimize(w, 0.0, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        for name, predicted, Y in (("train", Y_prediction_train, Y_train), ("test", Y_prediction_test, Y_test)):
            print("{} accuracy: {} %".format(name, 100 - float(xp.mean(xp.abs(predicted - Y))) * 100))
    return {"costs": costs, "Y_prediction_test": Y_prediction_test, "Y_prediction_train": Y_prediction_train,
            "w": w, "b": b, "learning_rate": learning_rate, "num_iterations": num_iterations}
