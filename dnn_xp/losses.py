"""Output layers paired with their natural cost, both computed from the logits ``Z``.

For each pair the gradient of the cost with respect to the output logits is
``(g(Z) - Y) / m``, so the output activation's derivative is never formed.
Arrays are ``(1, m)``, or ``(C, m)`` for softmax over ``C`` classes (``Y`` one-hot);
costs are 0-d arrays on the device.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import array_api_compat

from .activations import ACTIVATIONS, scalar, sigmoid


class OutputLayer(NamedTuple):
    name: str
    activation: Callable[[Any, Any], Any]
    cost: Callable[[Any, Any, Any], Any]
    classifies: bool


def cross_entropy_from_logits(xp, Z, Y):
    """Mean binary cross-entropy of ``sigmoid(Z)`` against ``Y``, stable for any ``|Z|``.

    ``max(Z, 0) - Z*Y + log(1 + exp(-|Z|))`` equals ``-(Y log A + (1-Y) log(1-A))``
    without ``log(0)`` or overflow.
    """
    m = Z.shape[1]
    return xp.sum(xp.maximum(Z, scalar(xp, 0.0, Z)) - Z * Y + xp.log1p(xp.exp(-xp.abs(Z)))) / m


def softmax(xp, Z):
    """Column-wise ``exp(Z) / sum(exp(Z))`` for ``Z: (C, m)``; the column maximum is subtracted first."""
    E = xp.exp(Z - xp.max(Z, axis=0, keepdims=True))
    return E / xp.sum(E, axis=0, keepdims=True)


def categorical_cross_entropy_from_logits(xp, Z, Y):
    """Mean of ``-sum_c Y log softmax(Z)`` over the ``m`` columns, for one-hot ``Y: (C, m)``.

    ``-log softmax(Z) = logsumexp(Z) - Z`` with ``logsumexp = M + log(sum(exp(Z - M)))``
    and ``M`` the column maximum: finite and warning-free for any finite logits.
    """
    M = xp.max(Z, axis=0, keepdims=True)
    log_sum = M + xp.log(xp.sum(xp.exp(Z - M), axis=0, keepdims=True))
    return xp.sum(Y * (log_sum - Z)) / Z.shape[1]


def half_squared_error(xp, Z, Y):
    """Mean of ``(Z - Y)^2 / 2``: the regression cost of an identity output."""
    D = Z - Y
    return xp.sum(D * D) / (2 * Z.shape[1])


OUTPUTS = {
    o.name: o
    for o in (
        OutputLayer("sigmoid", sigmoid, cross_entropy_from_logits, classifies=True),
        OutputLayer("softmax", softmax, categorical_cross_entropy_from_logits, classifies=True),
        OutputLayer("identity", ACTIVATIONS["identity"].forward, half_squared_error, classifies=False),
    )
}


def get_output(name: str) -> OutputLayer:
    if name not in OUTPUTS:
        raise ValueError(
            f"unknown output={name!r}; choose one of {', '.join(OUTPUTS)} "
            f"(sigmoid with cross-entropy for 0/1 labels, softmax with cross-entropy for "
            f"C >= 2 classes, identity with squared error for regression)"
        )
    return OUTPUTS[name]


def constant_cost(xp, Y, output: OutputLayer) -> float:
    """The cost of the best constant prediction, the mean of each row of ``Y: (n_L, m)``.

    Cross-entropy: the entropy of each row's label frequency, summed over rows;
    squared error: half of each row's variance, summed. A network whose cost is
    no lower has learned nothing beyond the label averages.
    """
    return float(constant_cost_array(xp, Y, output=output))


def constant_cost_array(xp, Y, *, output: OutputLayer):
    """:func:`constant_cost` as a 0-d array on ``Y``'s device (a pure function, so it can be compiled)."""
    p = xp.mean(Y, axis=1)
    if not output.classifies:
        return xp.sum(xp.mean((Y - p[:, None]) ** 2, axis=1)) / 2

    def p_log_p(a):  # 0 where a == 0, with no log(0)
        return a * xp.log(xp.where(a > 0, a, xp.ones_like(a)))

    return xp.sum(-(p_log_p(p) + p_log_p(1.0 - p)))


def one_hot(xp, Y, classes: int):
    """Labels for a softmax over ``classes``: class ids ``(1, m)`` become one-hot ``(classes, m)``.

    One-hot ``(classes, m)`` labels are returned as they are; ``Y``'s dtype is kept.
    Each row compares ``Y`` with a Python number, so no array is made apart from
    ``Y``'s own (dask chunks of CuPy's take no NumPy array).
    """
    if Y.shape[0] != 1:
        return Y
    return xp.astype(xp.concat([Y == k for k in range(classes)], axis=0), Y.dtype)


def class_ids(xp, P, dtype):
    """The most probable class of each column of ``P: (C, m)``, as ``(1, m)`` in ``dtype``."""
    return xp.astype(xp.reshape(xp.argmax(P, axis=0), (1, P.shape[1])), dtype)


def accuracy(xp, predicted, Y, output: str) -> float:
    """Fraction of columns where the predictions ``(1, m)`` match the labels (one-hot ``(C, m)`` for softmax)."""
    if output == "softmax":
        Y = class_ids(xp, Y, predicted.dtype)
    integers = xp.__array_namespace_info__().default_dtypes(device=array_api_compat.device(predicted))["integral"]
    return int(xp.sum(xp.astype(predicted == Y, integers))) / (predicted.shape[0] * predicted.shape[1])
