"""Optimizers as pure ``(init, update)`` pairs over a network's parameter list (optax style).

``init(layers, xp) -> state`` and ``update(layers, grads, state, learning_rate, xp) ->
(layers, state)``. ``layers`` and ``grads`` are ``[(W1, b1), ..., (WL, bL)]`` with
``W_l: (n_l, n_{l-1})`` and ``b_l: (n_l, 1)``; biases are treated exactly like
weights. The state is plain data (a dict of lists of device arrays, and an
integer step counter for Adam), so it is saved in checkpoints, works on immutable arrays
and passes through ``jax.jit``. Nothing is updated in place: every call returns new
arrays. ``learning_rate`` is a Python float or a 0-d array.

Ordered by complexity, with the course's formulas (``g`` a gradient):

- :func:`sgd`: ``W -= lr g``;
- :func:`momentum`: ``v = beta v + (1 - beta) g; W -= lr v``;
- :func:`rmsprop`: ``s = beta s + (1 - beta) g^2; W -= lr g / (sqrt(s) + epsilon)``;
- :func:`adam`: both moments with bias correction, ``t`` counting steps across epochs:
  ``W -= lr v_hat / (sqrt(s_hat) + epsilon)``, ``v_hat = v / (1 - beta1^t)``, ``s_hat = s / (1 - beta2^t)``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .validation import check_positive_number


class Optimizer(NamedTuple):
    """A named ``(init, update)`` pair and the hyperparameters it was built with."""

    name: str
    init: Callable[..., dict]
    update: Callable[..., tuple[list, dict]]
    hyperparameters: dict

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{self.name}({args})"


def _flat(layers) -> list:
    """``[W1, b1, W2, b2, ...]``: the course's parameter order."""
    return [p for pair in layers for p in pair]


def _pairs(flat) -> list[tuple[Any, Any]]:
    return [(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)]


def _zeros(layers, xp) -> list:
    return [xp.zeros_like(p) for p in _flat(layers)]


def _fraction(value, name: str) -> float:
    """A decay factor in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
    return float(value)


def sgd() -> Optimizer:
    """Plain (mini-batch) gradient descent: ``W -= lr g``; the state is empty."""

    def init(layers, xp):
        return {}

    def update(layers, grads, state, learning_rate, xp):
        return [(W - learning_rate * dW, b - learning_rate * db)
                for (W, b), (dW, db) in zip(layers, grads)], state

    return Optimizer("sgd", init, update, {})


def momentum(beta=0.9) -> Optimizer:
    """Gradient descent with momentum: ``v = beta v + (1 - beta) g; W -= lr v`` (``v`` starts at 0)."""
    beta = _fraction(beta, "beta")

    def init(layers, xp):
        return {"v": _zeros(layers, xp)}

    def update(layers, grads, state, learning_rate, xp):
        v = [beta * v + (1 - beta) * g for v, g in zip(state["v"], _flat(grads))]
        return _pairs([p - learning_rate * vp for p, vp in zip(_flat(layers), v)]), {"v": v}

    return Optimizer("momentum", init, update, {"beta": beta})


def rmsprop(beta=0.999, epsilon=1e-8) -> Optimizer:
    """RMSprop: ``s = beta s + (1 - beta) g^2; W -= lr g / (sqrt(s) + epsilon)``."""
    beta = _fraction(beta, "beta")
    epsilon = check_positive_number(epsilon, "epsilon")

    def init(layers, xp):
        return {"s": _zeros(layers, xp)}

    def update(layers, grads, state, learning_rate, xp):
        flat_grads = _flat(grads)
        s = [beta * s + (1 - beta) * (g * g) for s, g in zip(state["s"], flat_grads)]
        new = [p - learning_rate * g / (xp.sqrt(sp) + epsilon) for p, g, sp in zip(_flat(layers), flat_grads, s)]
        return _pairs(new), {"s": s}

    return Optimizer("rmsprop", init, update, {"beta": beta, "epsilon": epsilon})


def adam(beta1=0.9, beta2=0.999, epsilon=1e-8) -> Optimizer:
    """Adam with the course's bias correction; ``t`` counts updates across epochs.

    ``t`` is a Python int (a 0-d integer array inside compiled code, e.g. a JAX
    ``fori_loop``): the corrections are then host numbers, which keeps a small
    step's overhead at that of a hand-written one.

    ``lr v_hat / (sqrt(s_hat) + epsilon)`` is evaluated as
    ``(lr / (1 - beta1^t)) v / (sqrt(s) / sqrt(1 - beta2^t) + epsilon)``, the same
    number with two passes fewer over each array (and torch.optim.Adam's order).
    """
    beta1, beta2 = _fraction(beta1, "beta1"), _fraction(beta2, "beta2")
    epsilon = check_positive_number(epsilon, "epsilon")

    def init(layers, xp):
        return {"v": _zeros(layers, xp), "s": _zeros(layers, xp), "t": 0}

    def update(layers, grads, state, learning_rate, xp):
        t = state["t"] + 1
        step = learning_rate / (1 - beta1 ** t)
        root_correction = (1 - beta2 ** t) ** 0.5
        new, v, s = [], [], []
        for p, g, vp, sp in zip(_flat(layers), _flat(grads), state["v"], state["s"]):
            vp = beta1 * vp + (1 - beta1) * g
            sp = beta2 * sp + (1 - beta2) * (g * g)
            new.append(p - step * vp / (xp.sqrt(sp) / root_correction + epsilon))
            v.append(vp)
            s.append(sp)
        return _pairs(new), {"v": v, "s": s, "t": t}

    return Optimizer("adam", init, update, {"beta1": beta1, "beta2": beta2, "epsilon": epsilon})


OPTIMIZERS = {"gd": sgd, "sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def get_optimizer(spec) -> Optimizer:
    """An :class:`Optimizer` from a name (``"gd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``) or itself."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec in OPTIMIZERS:
        return OPTIMIZERS[spec]()
    raise ValueError(f"unknown optimizer={spec!r}; choose one of gd, momentum, rmsprop, adam, "
                     f"or pass dnn_xp.optimizers.adam(beta1=...) and the like")


def state_arrays(state: dict) -> dict[str, Any]:
    """The state flattened to named arrays (``"v.3"``: ``v`` of the fourth parameter, ``"t"``), for saving."""
    named = {}
    for key, value in state.items():
        if isinstance(value, list):
            named.update({f"{key}.{k}": array for k, array in enumerate(value)})
        else:
            named[key] = value
    return named


def state_from_arrays(named: dict[str, Any]) -> dict:
    """The inverse of :func:`state_arrays` (counters such as ``t`` are saved as 0-d arrays: pass ints)."""
    state: dict = {}
    for name in sorted(named, key=lambda n: (n.split(".")[0], int(n.split(".")[1]) if "." in n else -1)):
        key, _, index = name.partition(".")
        if index:
            state.setdefault(key, []).append(named[name])
        else:
            state[key] = named[name]
    return state
