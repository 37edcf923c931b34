"""The loop versions (per-example, scalar) against the vectorized core: same cost, gradients, trajectory."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import core, loops
from dnn_xp.activations import get_activation
from dnn_xp.backend import resolve_backend, to_numpy
from dnn_xp.datasets import planar_flower
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output

RTOL64 = 1e-12

# (id, layer_dims, hidden, output, init): small networks covering every activation and output
NETS = [
    pytest.param([5, 4, 3, 1], "relu", "sigmoid", "he", id="relu-sigmoid-5-4-3-1"),
    pytest.param([3, 6, 2], "tanh", "sigmoid", "glorot", id="tanh-sigmoid-3-6-2"),
    pytest.param([4, 5, 1], "sigmoid", "identity", "lecun", id="sigmoid-identity-4-5-1"),
    pytest.param([4, 5, 5, 1], "leaky_relu", "sigmoid", "he", id="leaky_relu-sigmoid-4-5-5-1"),
    pytest.param([3, 2, 1], "identity", "identity", "lecun", id="identity-identity-3-2-1"),
]


def _problem(dims, output, init, m=13, seed=0):
    """Float64 host ``(layers, X, Y)``; biases nonzero so every term of the gradient matters."""
    rng = np.random.RandomState(seed)
    layers = [(W, 0.1 * rng.randn(*b.shape)) for W, b in initial_layers(dims, init, seed=1)]
    X = rng.randn(dims[0], m)
    Y = (rng.rand(dims[-1], m) > 0.5).astype(np.float64) if output == "sigmoid" else rng.randn(dims[-1], m)
    return layers, X, Y


def _core(layers, X, Y, hidden, output, xp):
    """Cost and gradients from the vectorized core."""
    Z, cache = core.forward(layers, X, get_activation(hidden), xp)
    grads = core.backward(layers, cache, Y, get_activation(hidden), get_output(output), xp)
    return core.cost(Z, Y, get_output(output), xp), grads


def _close(actual, expected, rtol):
    """Element-wise relative closeness, with entries near zero judged against the array's scale."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * float(np.max(np.abs(expected))))


def _numpy_xp():
    return resolve_backend("numpy").xp


@pytest.mark.parametrize("dims, hidden, output, init", NETS)
def test_per_example_gradients_match_core(case, dims, hidden, output, init):
    host_layers, X, Y = _problem(dims, output, init)
    layers = [(case.asarray(W), case.asarray(b)) for W, b in host_layers]
    X, Y = case.asarray(X), case.asarray(Y)
    expected_cost, expected = _core(layers, X, Y, hidden, output, case.xp)
    cost, grads = loops.per_example_gradients(layers, X, Y, hidden, output, case.xp)
    rtol = RTOL64 if case.dtype == "float64" else case.rtol
    assert len(grads) == len(dims) - 1
    _close(case.check(cost), case.check(expected_cost), rtol)
    for (dW, db), (eW, eb) in zip(grads, expected):
        _close(case.check(dW), case.check(eW), rtol)
        _close(case.check(db), case.check(eb), rtol)


@pytest.mark.parametrize("dims, hidden, output, init", NETS)
def test_scalar_gradients_match_core(dims, hidden, output, init):
    layers, X, Y = _problem(dims, output, init)
    expected_cost, expected = _core(layers, X, Y, hidden, output, _numpy_xp())
    cost, grads = loops.scalar_gradients(layers, X, Y, hidden, output)
    assert isinstance(cost, float)
    _close(cost, expected_cost, RTOL64)
    for (dW, db), (W, b), (eW, eb) in zip(grads, layers, expected):
        assert dW.shape == W.shape and db.shape == b.shape and dW.dtype == np.float64
        _close(dW, eW, RTOL64)
        _close(db, eb, RTOL64)


@pytest.mark.parametrize("dims, hidden, output, init", NETS)
def test_twenty_steps_follow_the_core_trajectory(dims, hidden, output, init):
    xp = _numpy_xp()
    start, X, Y = _problem(dims, output, init)
    frozen = [(W.copy(), b.copy()) for W, b in start]
    learning_rate = 0.1
    vectorized = per_example = scalar = start
    for _ in range(20):
        Z = core.forward(vectorized, X, get_activation(hidden), xp)[0]
        expected_cost = core.cost(Z, Y, get_output(output), xp)
        vectorized, _ = core.train_step(vectorized, X, Y, learning_rate, get_activation(hidden),
                                        get_output(output), xp)
        per_example, cost_p = loops.per_example_step(per_example, X, Y, learning_rate, hidden, output, xp)
        scalar, cost_s = loops.scalar_step(scalar, X, Y, learning_rate, hidden, output)
        _close(cost_p, expected_cost, RTOL64)
        _close(cost_s, expected_cost, RTOL64)
    for (W, b), (Wp, bp), (Ws, bs) in zip(vectorized, per_example, scalar):
        _close(Wp, W, RTOL64)
        _close(bp, b, RTOL64)
        _close(Ws, W, RTOL64)
        _close(bs, b, RTOL64)
    for (W, b), (W0, b0) in zip(start, frozen):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_per_example_trajectory_on_every_backend(case):
    """Five steps of the course's planar model ([2, 4, 1], tanh, lr 1.2) on a slice of the flower."""
    X, Y = planar_flower()
    X, Y = X[:, ::20], Y[:, ::20]
    host = initial_layers([2, 4, 1], 0.01, seed=2)
    hidden, output = get_activation("tanh"), get_output("sigmoid")
    vectorized = [(case.asarray(W), case.asarray(b)) for W, b in host]
    per_example = vectorized
    Xd, Yd = case.asarray(X), case.asarray(Y)
    for _ in range(5):
        vectorized, _ = core.train_step(vectorized, Xd, Yd, 1.2, hidden, output, case.xp)
        per_example, cost = loops.per_example_step(per_example, Xd, Yd, 1.2, "tanh", "sigmoid", case.xp)
        case.check(cost)
    rtol = RTOL64 if case.dtype == "float64" else case.rtol
    for (W, b), (Wp, bp) in zip(vectorized, per_example):
        _close(case.check(Wp), to_numpy(W), rtol)
        _close(case.check(bp), to_numpy(b), rtol)


@pytest.mark.parametrize("scale", [30.0, 100.0])
def test_loops_are_stable_for_large_logits(scale):
    """Logits of size ``scale`` on both signs: no overflow, and the cost still matches the core."""
    layers = [(np.array([[scale, -scale]]), np.zeros((1, 1)))]
    X = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0]])
    expected_cost, expected = _core(layers, X, Y, "relu", "sigmoid", _numpy_xp())
    assert float(expected_cost) == pytest.approx(scale / 2, rel=1e-12)
    for cost, grads in (loops.scalar_gradients(layers, X, Y, "relu", "sigmoid"),
                        loops.per_example_gradients(layers, X, Y, "relu", "sigmoid", _numpy_xp())):
        _close(cost, expected_cost, RTOL64)
        _close(grads[0][0], expected[0][0], RTOL64)


def test_scalar_loops_name_their_activations():
    layers, X, Y = _problem([2, 2, 1], "sigmoid", "he")
    with pytest.raises(ValueError, match="unknown hidden='swish'.*relu"):
        loops.scalar_step(layers, X, Y, 0.1, "swish", "sigmoid")
    with pytest.raises(ValueError, match="unknown output='softmax'.*sigmoid"):
        loops.scalar_step(layers, X, Y, 0.1, "relu", "softmax")
