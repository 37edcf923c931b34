"""The course's own functions, names, dictionaries and caches, on any backend.

Course 1, week 4 (deep networks, step by step and the application): a notebook runs by
changing one import to ``from dnn_xp.course import *`` (the same as ``dnn_xp.course.deep``).
Each function computes the course's formula; arrays may belong to any supported backend
(the namespace is read from the arguments). Caches have the course's layout
``((A_prev, W, b), Z)``; parameters and gradients are dictionaries keyed
``W1, b1, ...`` and ``dA0, dW1, db1, ...``. The application's helpers come too: ``load_data``
(the cat images as the course's loader returns them) and ``print_mislabeled_images``.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ..activations import ACTIVATIONS, scalar
from ..activations import sigmoid as _stable_sigmoid
from ..backend import backend_of
from ..datasets import load_cat_images
from ..initializers import initial_layers
from ..validation import check_labels, check_matrix
from ._common import as_0d, parameters_dict, place
from ._plots import print_mislabeled_images

__all__ = [
    "initialize_parameters", "initialize_parameters_deep", "sigmoid", "relu", "sigmoid_backward",
    "relu_backward", "linear_forward", "linear_activation_forward", "L_model_forward", "compute_cost",
    "linear_backward", "linear_activation_backward", "L_model_backward", "update_parameters",
    "two_layer_model", "L_layer_model", "predict", "load_data", "print_mislabeled_images",
]


def load_data(data_dir="datasets"):
    """The cat images as the course's ``load_data()`` returns them (NumPy, nothing flattened or scaled).

    ``(train_x_orig (209, 64, 64, 3) uint8, train_y (1, 209), test_x_orig (50, 64, 64, 3),
    test_y (1, 50), classes)``, ``classes`` the bytes ``[b'non-cat', b'cat']``. ``data_dir`` holds
    ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``; it defaults to where the course's
    notebook finds them.
    """
    return tuple(load_cat_images(data_dir))


def initialize_parameters(n_x, n_h, n_y, seed=1, backend=None, device=None):
    """``{W1: (n_h, n_x), b1: (n_h, 1), W2: (n_y, n_h), b2: (n_y, 1)}``, weights ``randn * 0.01``."""
    return place(parameters_dict(initial_layers([n_x, n_h, n_y], 0.01, seed)), backend=backend, device=device)


def initialize_parameters_deep(layer_dims, seed=1, scale="lecun", backend=None, device=None):
    """``W_l: (n_l, n_{l-1})`` drawn in layer order; ``scale`` is a scheme name or a number.

    The course's application uses ``seed=1, scale="lecun"`` (``randn / sqrt(n_{l-1})``);
    its step-by-step exercise uses ``seed=3, scale=0.01``.
    """
    return place(parameters_dict(initial_layers(layer_dims, scale, seed)), backend=backend, device=device)


def sigmoid(Z):
    """``A = 1 / (1 + exp(-Z))`` (computed without overflow) and ``cache = Z``."""
    return _stable_sigmoid(array_namespace(Z), Z), Z


def relu(Z):
    """``A = max(0, Z)`` and ``cache = Z``."""
    return ACTIVATIONS["relu"].forward(array_namespace(Z), Z), Z


def sigmoid_backward(dA, cache):
    """``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``, ``Z = cache``."""
    xp = array_namespace(dA, cache)
    s = _stable_sigmoid(xp, cache)
    return dA * s * (1 - s)


def relu_backward(dA, cache):
    """``dZ = dA`` where ``Z > 0``, else 0 (``Z = cache``)."""
    xp = array_namespace(dA, cache)
    return ACTIVATIONS["relu"].backward(xp, dA, cache, None)


_FORWARD = {"sigmoid": sigmoid, "relu": relu}
_BACKWARD = {"sigmoid": sigmoid_backward, "relu": relu_backward}


def _activation(table, name):
    if name not in table:
        raise ValueError(f"activation must be 'sigmoid' or 'relu'; got activation={name!r}")
    return table[name]


def linear_forward(A, W, b):
    """``Z = W @ A + b``: ``(n_l, m)``, and ``cache = (A, W, b)``."""
    return W @ A + b, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    """``A = g(W @ A_prev + b)`` and ``cache = ((A_prev, W, b), Z)``."""
    forward = _activation(_FORWARD, activation)
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = forward(Z)
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    """``[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID``: ``AL: (1, m)`` and the list of caches."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters[f"W{L}"], parameters[f"b{L}"], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    """``-(1/m) sum(Y log AL + (1-Y) log(1-AL))`` as a 0-d array of the backend.

    Exact 0s and 1s in ``AL`` (saturated outputs) are moved to the nearest interior
    values first, which changes no other value but keeps them from giving ``log(0)``.
    """
    xp = array_namespace(AL, Y)
    if tuple(Y.shape) != tuple(AL.shape):
        raise ValueError(f"Y has shape {tuple(Y.shape)} but AL {tuple(AL.shape)}; they must match "
                         f"(labels are a row, (1, m): use Y.reshape(1, -1))")
    AL = _unsaturate(AL, xp)
    return as_0d(xp, -xp.sum(Y * xp.log(AL) + (1 - Y) * xp.log(1 - AL)) / Y.shape[1])


def _unsaturate(AL, xp):
    """``AL`` with exact 0s and 1s moved to the nearest interior values; every other entry is kept.

    A saturated sigmoid gives ``AL == 1.0`` (or 0.0) for ``|z|`` above about 37 (float64), where
    the course's formulas would take ``log(0)`` or divide by zero.
    """
    info = xp.finfo(AL.dtype)
    AL = xp.where(AL == 1.0, scalar(xp, 1.0 - info.eps / 2, AL), AL)
    return xp.where(AL == 0.0, scalar(xp, info.smallest_normal, AL), AL)


def _output_gradient(AL, Y):
    """The course's ``dAL = -(Y/AL - (1-Y)/(1-AL))``, finite for a saturated ``AL``."""
    AL = _unsaturate(AL, array_namespace(AL, Y))
    return -(Y / AL - (1 - Y) / (1 - AL))


def linear_backward(dZ, cache):
    """From ``dZ: (n_l, m)`` and ``cache = (A_prev, W, b)``: ``dA_prev, dW, db``."""
    xp = array_namespace(dZ)
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = (dZ @ A_prev.T) / m
    db = xp.sum(dZ, axis=1, keepdims=True) / m
    return W.T @ dZ, dW, db


def linear_activation_backward(dA, cache, activation):
    """``dA_prev, dW, db`` of one ``LINEAR -> ACTIVATION`` layer; uses the cached ``Z``."""
    backward = _activation(_BACKWARD, activation)
    linear_cache, activation_cache = cache
    return linear_backward(backward(dA, activation_cache), linear_cache)


def L_model_backward(AL, Y, caches):
    """Gradients ``{dA{l-1}, dW{l}, db{l}}`` for ``l = L..1``, from ``dAL = -(Y/AL - (1-Y)/(1-AL))``."""
    grads = {}
    L = len(caches)
    Y = Y if tuple(Y.shape) == tuple(AL.shape) else array_namespace(Y).reshape(Y, AL.shape)
    dAL = _output_gradient(AL, Y)
    grads[f"dA{L - 1}"], grads[f"dW{L}"], grads[f"db{L}"] = linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    for l in range(L - 2, -1, -1):
        grads[f"dA{l}"], grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = linear_activation_backward(
            grads[f"dA{l + 1}"], caches[l], "relu"
        )
    return grads


def update_parameters(parameters, grads, learning_rate):
    """A new dictionary with ``W_l - learning_rate * dW_l`` and ``b_l - learning_rate * db_l``."""
    return {name: value - learning_rate * grads[f"d{name}"] for name, value in parameters.items()}


def _train(parameters, step, num_iterations, print_cost):
    """The course's loop: ``costs`` gets the 0-d cost of every 100th iteration (0, 100, ...).

    The cost is printed at those iterations and at the last one; it is read back to the
    host only to be printed. Each iteration's parameters and cost are settled
    (:attr:`dnn_xp.backend.Backend.settle`), so a lazy library's graph stays one step long.
    """
    settle = backend_of(parameters["W1"]).settle
    costs = []
    for i in range(num_iterations):
        parameters, cost = settle(step(parameters))
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {float(cost)}")
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs


def _check_data(X, Y, layers_dims) -> None:
    """The models' data checks, as :class:`dnn_xp.Network` makes them: ``X: (n_x, m)``, ``Y: (1, m)`` of 0/1."""
    xp = array_namespace(X, Y)
    check_matrix(X, "X", rows=layers_dims[0], xp=xp)
    check_labels(Y, X.shape[1], layers_dims[-1], True, xp)


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """``LINEAR->RELU->LINEAR->SIGMOID`` trained by gradient descent: ``(parameters, costs)``.

    ``costs`` holds the 0-d cost arrays of iterations 0, 100, 200, ... (25 for 2500 iterations).
    """
    n_x, n_h, n_y = layers_dims
    _check_data(X, Y, layers_dims)
    parameters = place(parameters_dict(initial_layers([n_x, n_h, n_y], 0.01, 1)), like=X)

    def step(p):
        A1, cache1 = linear_activation_forward(X, p["W1"], p["b1"], "relu")
        A2, cache2 = linear_activation_forward(A1, p["W2"], p["b2"], "sigmoid")
        cost = compute_cost(A2, Y)
        dA2 = _output_gradient(A2, Y)
        dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
        dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        return update_parameters(p, grads, learning_rate), cost

    return _train(parameters, step, num_iterations, print_cost)


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """``[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID`` by gradient descent: ``(parameters, costs)``."""
    _check_data(X, Y, layers_dims)
    parameters = place(parameters_dict(initial_layers(layers_dims, "lecun", 1)), like=X)

    def step(p):
        AL, caches = L_model_forward(X, p)
        cost = compute_cost(AL, Y)
        return update_parameters(p, L_model_backward(AL, Y, caches), learning_rate), cost

    return _train(parameters, step, num_iterations, print_cost)


def predict(X, y, parameters):
    """0/1 predictions ``(1, m)`` of an L-layer model; prints the accuracy as the course does."""
    xp = array_namespace(X)
    AL, _ = L_model_forward(X, parameters)
    p = xp.astype(AL > 0.5, AL.dtype)
    accuracy = float(xp.mean(xp.astype(p == y, AL.dtype)))
    print(f"Accuracy: {accuracy}")
    return p
