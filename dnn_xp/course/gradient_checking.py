"""Course 2, week 1: gradient checking, as a drop-in module.

``from dnn_xp.course.gradient_checking import *`` gives the assignment's functions and the
helpers its ``gc_utils.py`` gave (``sigmoid``, ``relu``, ``dictionary_to_vector``,
``vector_to_dictionary``, ``gradients_to_vector``), on any backend's arrays. Here
``backward_propagation_n`` is correct: the mistakes the assignment plants are the learner's
to find, so a correct gradient gives a difference below the course's threshold of 2e-7.

Parameters and gradients are flattened in the order ``W1, b1, W2, b2, ...``, each row-major,
into column vectors ``(n, 1)``.
"""

from __future__ import annotations

import math

from array_api_compat import array_namespace, device

from ._common import cross_entropy_terms
from ._three_layer import backward_propagation_scaled_last as backward_propagation_n
from ._three_layer import forward_propagation as _forward
from ._three_layer import relu, sigmoid

__all__ = [
    "sigmoid", "relu", "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector",
    "forward_propagation", "backward_propagation", "gradient_check", "forward_propagation_n",
    "backward_propagation_n", "gradient_check_n",
]

THRESHOLD = 2e-7
COURSE_LAYERS = (4, 5, 3, 1)  # the network of the assignment, as vector_to_dictionary assumes


def _flatten(named, keys):
    xp = array_namespace(*(named[k] for k in keys))
    return xp.concat([xp.reshape(named[k], (-1, 1)) for k in keys], axis=0)


def _names(prefix, L):
    return [f"{prefix}{kind}{l}" for l in range(1, L + 1) for kind in ("W", "b")]


def dictionary_to_vector(parameters):
    """``(theta (n, 1), keys)``: ``W1, b1, W2, ...`` flattened row-major; ``keys[i]`` names ``theta[i]``."""
    names = _names("", len(parameters) // 2)
    keys = [name for name in names for _ in range(math.prod(parameters[name].shape))]
    return _flatten(parameters, names), keys


def gradients_to_vector(gradients):
    """``dW1, db1, dW2, ...`` flattened row-major into one ``(n, 1)`` vector."""
    return _flatten(gradients, _names("d", sum(1 for key in gradients if key.startswith("dW"))))


def vector_to_dictionary(theta, layers_dims=COURSE_LAYERS):
    """The inverse of :func:`dictionary_to_vector` for a network of ``layers_dims`` (the course's by default)."""
    xp = array_namespace(theta)
    parameters, start = {}, 0
    for l, (n_prev, n) in enumerate(zip(layers_dims[:-1], layers_dims[1:]), start=1):
        for name, shape in ((f"W{l}", (n, n_prev)), (f"b{l}", (n, 1))):
            size = shape[0] * shape[1]
            parameters[name] = xp.reshape(theta[start:start + size, ...], shape)
            start += size
    return parameters


def forward_propagation(x, theta):
    """The 1-D example: ``J = theta * x``."""
    return theta * x


def backward_propagation(x, theta):
    """``dJ/dtheta = x``."""
    return x


def _difference(grad, gradapprox, print_msg):
    """``||grad - gradapprox|| / (||grad|| + ||gradapprox||)``, printed as the course prints it."""
    if isinstance(grad, (int, float)) and isinstance(gradapprox, (int, float)):
        difference = abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))
    else:
        xp = array_namespace(grad, gradapprox)
        norm = xp.linalg.vector_norm
        difference = norm(grad - gradapprox) / (norm(grad) + norm(gradapprox))
    if print_msg:
        if difference > THRESHOLD:
            print("\033[93m" + "There is a mistake in the backward propagation! difference = "
                  + str(float(difference)) + "\033[0m")
        else:
            print("\033[92m" + "Your backward propagation works perfectly fine! difference = "
                  + str(float(difference)) + "\033[0m")
    return difference


def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    """The relative difference between ``dJ/dtheta`` and ``(J(theta + eps) - J(theta - eps)) / (2 eps)``."""
    J_plus = forward_propagation(x, theta + epsilon)
    J_minus = forward_propagation(x, theta - epsilon)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    return _difference(backward_propagation(x, theta), gradapprox, print_msg)


def forward_propagation_n(X, Y, parameters):
    """``(cost, cache)`` of the 3-layer network: ``cost = (1/m) * sum(-log(A3) Y - log(1 - A3)(1 - Y))``."""
    A3, cache = _forward(X, parameters)
    xp = array_namespace(A3, Y)
    return (1.0 / X.shape[1]) * xp.sum(cross_entropy_terms(xp, A3, Y)), cache


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    """The relative difference between ``gradients`` and central differences of :func:`forward_propagation_n`.

    Each parameter in turn is moved by ``+epsilon`` and ``-epsilon`` (the others kept), the
    cost evaluated, and ``gradapprox_i = (J_plus_i - J_minus_i) / (2 epsilon)``.
    """
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    xp = array_namespace(theta, grad)
    L = len(parameters) // 2
    dims = [parameters["W1"].shape[1]] + [parameters[f"W{l}"].shape[0] for l in range(1, L + 1)]
    index = xp.reshape(xp.arange(theta.shape[0], device=device(theta)), (-1, 1))
    J_plus, J_minus = [], []
    for i in range(theta.shape[0]):
        chosen = index == i
        theta_plus = xp.where(chosen, theta + epsilon, theta)
        J_plus.append(forward_propagation_n(X, Y, vector_to_dictionary(theta_plus, dims))[0])
        theta_minus = xp.where(chosen, theta - epsilon, theta)
        J_minus.append(forward_propagation_n(X, Y, vector_to_dictionary(theta_minus, dims))[0])
    gradapprox = xp.reshape((xp.stack(J_plus) - xp.stack(J_minus)) / (2 * epsilon), (-1, 1))
    return _difference(grad, gradapprox, print_msg)
