"""L2 weight decay and inverted dropout: pure functions, and the host draw of dropout masks.

L2 with strength ``l2`` (the course's ``lambd``) on a batch of ``m`` examples adds
``l2 / (2m) * sum of squared entries of every W`` to the cost and ``(l2 / m) W`` to
each ``dW``; biases get no term. Dropout keeps each hidden unit with probability
``keep_prob`` and scales the kept ones by ``1 / keep_prob`` (see :func:`dnn_xp.core.forward`);
its 0/1 masks ``D_l: (n_l, m)`` are drawn here, on the seeded host generator, so a
seed gives the same masks on every backend.
"""

from __future__ import annotations

from numbers import Real

import numpy as np


def l2_cost(layers, l2: float, m: int, xp):
    """``l2 / (2m) * sum_l sum(W_l ** 2)``, a 0-d array."""
    total = sum(xp.sum(W * W) for W, _ in layers)
    return total * (l2 / (2 * m))


def add_l2_gradients(grads, layers, l2: float, m: int):
    """``[(dW_l + (l2 / m) W_l, db_l)]``: new arrays, the inputs are left untouched."""
    return [(dW + (l2 / m) * W, db) for (W, _), (dW, db) in zip(layers, grads)]


def check_l2(l2) -> float:
    if isinstance(l2, bool) or not isinstance(l2, Real) or not 0 <= l2 < float("inf"):
        raise ValueError(f"l2 must be a finite number >= 0 (0 turns it off); got {l2!r}")
    return float(l2)


def check_keep_prob(keep_prob, hidden_layers: int) -> tuple[float, ...]:
    """One keep probability in ``(0, 1]`` per hidden layer, from a float or a sequence of them."""
    values = keep_prob if isinstance(keep_prob, (list, tuple)) else [keep_prob] * hidden_layers
    if len(values) != hidden_layers:
        raise ValueError(f"keep_prob needs one value per hidden layer ({hidden_layers}); got {keep_prob!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
            raise ValueError(f"keep_prob must be in (0, 1] (1 keeps every unit); got {keep_prob!r}")
    return tuple(float(v) for v in values)


def draw_masks(rng: np.random.RandomState, sizes, m: int, keep_probs) -> list[np.ndarray | None]:
    """Host 0/1 float64 masks ``D_l = rand(n_l, m) < keep_prob_l``, layer by layer (``None`` where 1).

    The course's order: ``rand(n_1, m)`` first (row-major over ``A_1``'s shape),
    then ``rand(n_2, m)`` from the same stream. Layers that keep everything draw nothing.
    """
    return [None if p == 1 else (rng.rand(n, m) < p).astype(np.float64) for n, p in zip(sizes, keep_probs)]
