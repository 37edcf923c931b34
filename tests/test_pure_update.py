"""Regression: ``core.update`` returns ``W - learning_rate * dW`` on libraries whose ``+=`` only rebinds.

It used to add in place and return the step arrays, so on such a library the
"new weights" were ``-learning_rate * dW``: wrong, and silently so.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

from dnn_xp import core


class Frozen:
    """A minimal immutable array: ``+`` makes a new one and there is no ``__iadd__``, so ``+=`` rebinds."""

    def __init__(self, values):
        self.values = np.array(values, dtype=np.float64)
        self.values.flags.writeable = False

    def __add__(self, other):
        return Frozen(self.values + other.values)


def _layers(rng, dims=(3, 4, 1)):
    return [(rng.randn(n, n_prev), rng.randn(n, 1)) for n_prev, n in zip(dims[:-1], dims[1:])]


@pytest.mark.parametrize("accumulate", [operator.add, operator.iadd], ids=["add", "iadd"])
def test_update_on_an_immutable_library_gives_the_new_weights(accumulate):
    rng = np.random.RandomState(0)
    learning_rate, host, grads = 0.3, _layers(rng), _layers(rng)
    layers = [(Frozen(W), Frozen(b)) for W, b in host]
    steps = [(Frozen(-learning_rate * dW), Frozen(-learning_rate * db)) for dW, db in grads]
    new = core.update(layers, steps, accumulate)
    for (W, b), (dW, db), (new_W, new_b), (old_W, old_b) in zip(host, grads, new, layers):
        np.testing.assert_allclose(new_W.values, W - learning_rate * dW, rtol=1e-15)
        np.testing.assert_allclose(new_b.values, b - learning_rate * db, rtol=1e-15)
        np.testing.assert_array_equal(old_W.values, W)
        np.testing.assert_array_equal(old_b.values, b)


def test_in_place_update_on_numpy_writes_into_the_steps_only():
    """NumPy's fast path: the sums land in the step arrays; the old weights are untouched."""
    rng = np.random.RandomState(1)
    learning_rate, layers, grads = 0.3, _layers(rng), _layers(rng)
    frozen = [(W.copy(), b.copy()) for W, b in layers]
    steps = [(-learning_rate * dW, -learning_rate * db) for dW, db in grads]
    new = core.update(layers, steps, operator.iadd)
    for (W, b), (dW, db), (new_W, new_b), (sW, sb) in zip(frozen, grads, new, steps):
        assert new_W is sW and new_b is sb
        np.testing.assert_allclose(new_W, W - learning_rate * dW, rtol=1e-15)
        np.testing.assert_allclose(new_b, b - learning_rate * db, rtol=1e-15)
    for (W, b), (W0, b0) in zip(layers, frozen):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
