"""Loop versions of the training step: the oracle for :mod:`dnn_xp.core` and its benchmark baselines.

Both compute the same math as the vectorized core (forward, mean cost, backward,
gradient-descent update) without ever forming the ``(n_l, m)`` matrices of all
examples at once, and neither imports :mod:`dnn_xp.core`:

- :func:`per_example_step` loops over the ``m`` columns of ``X`` in Python; each
  example is an ``(n_l, 1)`` column pushed through the layers with the backend's
  vector operations, and the gradients are accumulated and averaged. Written
  against the Array API namespace ``xp``, it runs on every backend.
- :func:`scalar_step` loops over examples, units and weights in plain Python
  floats (the notebook "for loop" version): no matrix product, no ``xp``. It
  takes and returns float64 NumPy arrays.

Shapes follow the core: ``X: (n_0, m)``, ``Y: (n_L, m)``, ``layers = [(W1, b1), ...]``
with ``W_l: (n_l, n_{l-1})`` and ``b_l: (n_l, 1)``; gradients ``[(dW1, db1), ...]``
have the shapes of the layers. Hidden activations and outputs are named as in
:class:`dnn_xp.Network` (``hidden="relu"``, ``output="sigmoid"``).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .activations import LEAKY_SLOPE, get_activation
from .losses import get_output


# --------------------------------------------------------------------------- per example
def per_example_gradients(layers, X, Y, hidden, output, xp, accumulate=operator.add):
    """``(cost, [(dW1, db1), ...])`` of the mean cost, one example (column) at a time.

    ``cost`` is a 0-d array of the backend; the gradients are arrays of the
    layers' namespace, device and dtype. ``accumulate(total, term)`` returns the
    running sum (in place where the backend's arrays are mutable, see
    :attr:`dnn_xp.backend.Backend.accumulate`); its result is always kept.
    """
    activation, out = get_activation(hidden, "hidden"), get_output(output)
    m = X.shape[1]
    sums = [(xp.zeros_like(W), xp.zeros_like(b)) for W, b in layers]
    total = 0.0
    for i in range(m):
        a, y = X[:, i:i + 1], Y[:, i:i + 1]
        inputs, logits = [], []
        for l, (W, b) in enumerate(layers):
            z = W @ a + b
            inputs.append(a)
            logits.append(z)
            a = activation.forward(xp, z) if l < len(layers) - 1 else z
        total = total + out.cost(xp, z, y)
        dz = out.activation(xp, z) - y
        for l in range(len(layers) - 1, -1, -1):
            dW, db = sums[l]
            sums[l] = (accumulate(dW, dz @ inputs[l].T), accumulate(db, dz))
            if l > 0:
                da = layers[l][0].T @ dz
                dz = activation.backward(xp, da, logits[l - 1], inputs[l])
    return total / m, [(dW / m, db / m) for dW, db in sums]


def per_example_step(layers, X, Y, learning_rate, hidden, output, xp, accumulate=operator.add):
    """``(new_layers, cost)``: one gradient-descent step from :func:`per_example_gradients`.

    ``cost`` is the cost before the update; ``accumulate`` is passed on.
    """
    cost, grads = per_example_gradients(layers, X, Y, hidden, output, xp, accumulate)
    new_layers = [(W - learning_rate * dW, b - learning_rate * db) for (W, b), (dW, db) in zip(layers, grads)]
    return new_layers, cost


# --------------------------------------------------------------------------- scalar
def _sigmoid(z):
    """``1 / (1 + exp(-z))`` evaluating only ``exp(-|z|)``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# name -> (g(z), g'(z) given z and a = g(z))
_HIDDEN = {
    "relu": (lambda z: z if z > 0 else 0.0, lambda z, a: 1.0 if z > 0 else 0.0),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (math.tanh, lambda z, a: 1.0 - a * a),
    "leaky_relu": (lambda z: z if z > 0 else LEAKY_SLOPE * z, lambda z, a: 1.0 if z > 0 else LEAKY_SLOPE),
    "identity": (lambda z: z, lambda z, a: 1.0),
}

# name -> (g(z), loss(z, y)); for each, d loss / dz = g(z) - y
_OUTPUTS = {
    "sigmoid": (_sigmoid, lambda z, y: max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))),
    "identity": (lambda z: z, lambda z, y: 0.5 * (z - y) * (z - y)),
}


def _lookup(table, name, argument):
    if name not in table:
        raise ValueError(f"unknown {argument}={name!r}; the scalar loops know {', '.join(table)}")
    return table[name]


def scalar_gradients(layers, X, Y, hidden, output):
    """``(cost, [(dW1, db1), ...])`` with Python loops over examples, units and weights.

    Inputs are NumPy arrays (or nested lists); the arithmetic is on Python floats
    (float64). ``cost`` is a float, the gradients float64 NumPy arrays.
    """
    g, g_prime = _lookup(_HIDDEN, hidden, "hidden")
    g_out, loss = _lookup(_OUTPUTS, output, "output")
    Ws = [np.asarray(W, dtype=np.float64).tolist() for W, _ in layers]
    bs = [[row[0] for row in np.asarray(b, dtype=np.float64).tolist()] for _, b in layers]
    columns = np.asarray(X, dtype=np.float64).T.tolist()
    targets = np.asarray(Y, dtype=np.float64).T.tolist()
    m, L = len(columns), len(Ws)
    dWs = [[[0.0] * len(row) for row in W] for W in Ws]
    dbs = [[0.0] * len(b) for b in bs]
    cost = 0.0
    for x, y in zip(columns, targets):
        acts, zs = [x], []
        for l in range(L):
            a_prev, z = acts[l], []
            for row, bias in zip(Ws[l], bs[l]):
                s = 0.0
                for k in range(len(a_prev)):
                    s += row[k] * a_prev[k]
                z.append(s + bias)
            zs.append(z)
            acts.append([g(v) for v in z] if l < L - 1 else z)
        dz = []
        for z_j, y_j in zip(zs[-1], y):
            cost += loss(z_j, y_j)
            dz.append(g_out(z_j) - y_j)
        for l in range(L - 1, -1, -1):
            a_prev = acts[l]
            for j in range(len(dz)):
                dbs[l][j] += dz[j]
                grad_row = dWs[l][j]
                for k in range(len(a_prev)):
                    grad_row[k] += dz[j] * a_prev[k]
            if l > 0:
                da = [0.0] * len(a_prev)
                for j in range(len(dz)):
                    row = Ws[l][j]
                    for k in range(len(a_prev)):
                        da[k] += row[k] * dz[j]
                dz = [da[k] * g_prime(zs[l - 1][k], a_prev[k]) for k in range(len(a_prev))]
    grads = [
        (np.array([[v / m for v in row] for row in dW]), np.array([[v / m] for v in db]))
        for dW, db in zip(dWs, dbs)
    ]
    return cost / m, grads


def scalar_step(layers, X, Y, learning_rate, hidden, output):
    """``(new_layers, cost)``: one gradient-descent step from :func:`scalar_gradients`, weight by weight."""
    cost, grads = scalar_gradients(layers, X, Y, hidden, output)
    new_layers = []
    for (W, b), (dW, db) in zip(layers, grads):
        W, b = np.asarray(W, dtype=np.float64).tolist(), np.asarray(b, dtype=np.float64).tolist()
        new_W = [[w - learning_rate * d for w, d in zip(w_row, d_row)] for w_row, d_row in zip(W, dW.tolist())]
        new_b = [[c - learning_rate * d] for (c,), (d,) in zip(b, db.tolist())]
        new_layers.append((np.array(new_W), np.array(new_b)))
    return new_layers, cost
