"""L2 and inverted dropout: gradients against central differences, masks across backends, course values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from array_api_compat import numpy as np_xp

from dnn_xp.activations import get_activation
from dnn_xp.core import backward, cost, forward
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output
from dnn_xp.regularization import add_l2_gradients, check_keep_prob, check_l2, draw_masks, l2_cost

SIGMOID = get_output("sigmoid")
FOOTBALL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "football" / "data.mat"


def _problem(hidden="tanh", dims=(3, 6, 4, 1), m=30):
    rng = np.random.RandomState(2)
    X = rng.randn(dims[0], m)
    Y = (rng.rand(1, m) > 0.5).astype(np.float64)
    # Nonzero biases: a column whose units are all dropped would otherwise sit on ReLU's kink (Z = b = 0).
    layers = [(W, 0.1 * rng.randn(*b.shape)) for W, b in initial_layers(list(dims), "he", 5)]
    return layers, X, Y, get_activation(hidden)


def _central_differences(J, layers, eps=1e-6):
    out = []
    for W, b in layers:
        pair = []
        for p in (W, b):
            approx = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                saved = p[i]
                p[i] = saved + eps
                plus = J(layers)
                p[i] = saved - eps
                minus = J(layers)
                p[i] = saved
                approx[i] = (plus - minus) / (2 * eps)
            pair.append(approx)
        out.append(pair)
    return out


def _assert_close(grads, approx):
    for (dW, db), (aW, ab) in zip(grads, approx):
        np.testing.assert_allclose(dW, aW, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(db, ab, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu"])
def test_l2_gradients_equal_central_differences(hidden):
    layers, X, Y, act = _problem(hidden)
    l2, m = 0.7, X.shape[1]

    def J(candidate):
        return float(cost(forward(candidate, X, act, np_xp)[0], Y, SIGMOID, np_xp) + l2_cost(candidate, l2, m, np_xp))

    _, cache = forward(layers, X, act, np_xp)
    grads = add_l2_gradients(backward(layers, cache, Y, act, SIGMOID, np_xp), layers, l2, m)
    _assert_close(grads, _central_differences(J, layers))


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu"])
def test_dropout_gradients_with_fixed_masks_equal_central_differences(hidden):
    layers, X, Y, act = _problem(hidden)
    keep = (0.8, 0.6)
    masks = draw_masks(np.random.RandomState(1), [6, 4], X.shape[1], keep)
    dropout = [(D, p) for D, p in zip(masks, keep)]

    def J(candidate):
        return float(cost(forward(candidate, X, act, np_xp, dropout)[0], Y, SIGMOID, np_xp))

    _, cache = forward(layers, X, act, np_xp, dropout)
    grads = backward(layers, cache, Y, act, SIGMOID, np_xp, dropout=dropout)
    _assert_close(grads, _central_differences(J, layers))
    plain = backward(layers, forward(layers, X, act, np_xp)[1], Y, act, SIGMOID, np_xp)
    assert not np.allclose(plain[0][0], grads[0][0])


def test_masks_are_the_courses_draws():
    masks = draw_masks(np.random.RandomState(1), [5, 3, 2], 7, (0.5, 1.0, 0.86))
    np.random.seed(1)
    D1 = np.random.rand(5, 7) < 0.5
    D3 = np.random.rand(2, 7) < 0.86
    np.testing.assert_array_equal(masks[0], D1)
    assert masks[1] is None
    np.testing.assert_array_equal(masks[2], D3)
    assert masks[0].dtype == np.float64


def test_dropout_forward_is_the_same_on_every_backend(case):
    layers, X, Y, act = _problem("relu")
    keep = (0.7, 0.9)
    masks = draw_masks(np.random.RandomState(1), [6, 4], X.shape[1], keep)
    Z_host, cache_host = forward(layers, X, act, np_xp, list(zip(masks, keep)))
    dev_layers = [(case.asarray(W), case.asarray(b)) for W, b in layers]
    dropout = [(case.asarray(D), p) for D, p in zip(masks, keep)]
    Z, cache = forward(dev_layers, case.asarray(X), act, case.xp, dropout)
    np.testing.assert_array_equal(case.check(dropout[0][0]), masks[0])
    np.testing.assert_allclose(case.check(cache[1][0]), cache_host[1][0], rtol=case.rtol, atol=case.rtol)
    np.testing.assert_allclose(case.check(Z), Z_host, rtol=case.rtol, atol=case.rtol)
    grads = backward(dev_layers, cache, case.asarray(Y), act, SIGMOID, case.xp, dropout=dropout)
    host = backward(layers, cache_host, Y, act, SIGMOID, np_xp, dropout=list(zip(masks, keep)))
    np.testing.assert_allclose(case.check(grads[0][0]), host[0][0], rtol=case.rtol, atol=case.rtol)


def test_checks_name_the_argument():
    assert check_keep_prob(0.8, 2) == (0.8, 0.8)
    assert check_keep_prob([1, 0.5], 2) == (1.0, 0.5)
    with pytest.raises(ValueError, match="keep_prob needs one value per hidden layer"):
        check_keep_prob([0.5], 2)
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\]"):
        check_keep_prob(0.0, 1)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        check_l2(-0.1)


def _football():
    if not FOOTBALL.is_file():
        pytest.skip(f"the course's football data is not at {FOOTBALL}")
    from dnn_xp.datasets import load_football

    return load_football(FOOTBALL)


def test_course_regularization_costs_at_iteration_0():
    data = _football()
    X, Y, m = data.train_x, data.train_y, data.train_x.shape[1]
    layers = initial_layers([2, 20, 3, 1], "lecun", 3)
    relu = get_activation("relu")
    Z = forward(layers, X, relu, np_xp)[0]
    assert float(cost(Z, Y, SIGMOID, np_xp)) == pytest.approx(0.6557412523481002, rel=1e-13)
    assert float(cost(Z, Y, SIGMOID, np_xp) + l2_cost(layers, 0.7, m, np_xp)) == pytest.approx(
        0.6974484493131264, rel=1e-13)
    masks = draw_masks(np.random.RandomState(1), [20, 3], m, (0.86, 0.86))
    Z = forward(layers, X, relu, np_xp, [(D, 0.86) for D in masks])[0]
    assert float(cost(Z, Y, SIGMOID, np_xp)) == pytest.approx(0.6543912405149825, rel=1e-13)
