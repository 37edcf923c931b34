"""Activation functions as (forward, backward) pairs written against an Array API namespace.

``forward(xp, Z) -> A`` and ``backward(xp, dA, Z, A) -> dZ``: all arrays are
``(n_l, m)``. ``backward`` gets both the cached pre-activation ``Z`` and the
activation ``A`` so each derivative uses whichever is cheaper.

Constants enter namespace functions as 0-d arrays (:func:`scalar`): the standard
takes Python scalars there only from its 2024.12 version on, while operators
(``1.0 - A``) take them in every version.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import array_api_compat

LEAKY_SLOPE = 0.01


class Activation(NamedTuple):
    name: str
    forward: Callable[[Any, Any], Any]
    backward: Callable[[Any, Any, Any, Any], Any]


def scalar(xp, value: float, like):
    """``value`` as a 0-d array of ``like``'s dtype, on its device.

    A backend's namespace (:class:`dnn_xp.backend.Namespace`) makes each such
    constant once; a plain Array API namespace gets a new one from ``full``,
    which fills on the device (``asarray`` of a Python number would copy it from
    the host: a GPU transfer, and one that a CUDA-graph capture cannot record).
    """
    constant = getattr(xp, "constant", None)
    if constant is not None:
        return constant(value, like)
    return xp.full((), value, dtype=like.dtype, device=array_api_compat.device(like))


def sigmoid(xp, Z):
    """``1 / (1 + exp(-Z))`` without overflow: only ``E = exp(-|Z|)`` is ever evaluated.

    ``1 / (1 + E)`` where ``Z >= 0``, ``E / (1 + E)`` elsewhere: one division for both.
    """
    E = xp.exp(-xp.abs(Z))
    return xp.where(Z >= 0, scalar(xp, 1.0, E), E) / (1.0 + E)


def _sigmoid_backward(xp, dA, Z, A):
    return dA * A * (1.0 - A)


def _relu(xp, Z):
    return xp.maximum(Z, scalar(xp, 0.0, Z))


def _relu_backward(xp, dA, Z, A):
    return xp.where(Z > 0, dA, scalar(xp, 0.0, dA))


def _leaky_relu(xp, Z):
    return xp.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _leaky_relu_backward(xp, dA, Z, A):
    return xp.where(Z > 0, dA, LEAKY_SLOPE * dA)


def _tanh(xp, Z):
    return xp.tanh(Z)


def _tanh_backward(xp, dA, Z, A):
    return dA * (1.0 - A * A)


def _identity(xp, Z):
    return Z


def _identity_backward(xp, dA, Z, A):
    return dA


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("relu", _relu, _relu_backward),
        Activation("sigmoid", sigmoid, _sigmoid_backward),
        Activation("tanh", _tanh, _tanh_backward),
        Activation("leaky_relu", _leaky_relu, _leaky_relu_backward),
        Activation("identity", _identity, _identity_backward),
    )
}


def get_activation(name: str, argument: str = "activation") -> Activation:
    """Look up an activation by name, with an error that lists the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown {argument}={name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
