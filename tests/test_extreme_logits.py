"""Saturated outputs: sigmoid, cost and gradients stay finite and exact for |Z| up to 1000.

pytest turns warnings into errors, so an overflow in ``exp`` or a ``log(0)`` fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnn_xp import Network, course
from dnn_xp.activations import get_activation, sigmoid
from dnn_xp.core import backward, cost, forward
from dnn_xp.losses import constant_cost, get_output

MAGNITUDES = [30.0, 100.0, 1000.0]


def _expected_sigmoid(z):
    """``1 / (1 + e^-z)`` in Python floats, from the side that cannot overflow."""
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _expected_loss(z, y):
    """Per-example cross-entropy ``softplus(z) - z*y``: for y=1 it is softplus(-z), for y=0 softplus(z)."""
    s = z if y == 0 else -z  # the logit pointing away from the label
    return s + math.log1p(math.exp(-s)) if s > 0 else math.log1p(math.exp(s))


@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=lambda v: f"z{v:g}")
def test_sigmoid_saturates_without_overflow(case, magnitude):
    Z = case.asarray([[magnitude, -magnitude, 0.0]])
    A = case.check(sigmoid(case.xp, Z))
    expected = [_expected_sigmoid(magnitude), _expected_sigmoid(-magnitude), 0.5]
    # float32 holds sigmoid(-100) = 3.7e-44 only as a subnormal. Kernels may flush float32
    # subnormals to zero (XLA's CPU kernels for JAX; CuPy's on an H200 gave 0), so what holds on
    # every library is "below the smallest normal float32", not the subnormal's digits.
    tiny = np.finfo(np.float32).smallest_normal
    tolerance = {"rtol": 1e-6, "atol": tiny} if case.dtype == "float32" else {"rtol": 1e-15, "atol": 0}
    np.testing.assert_allclose(A, [expected], **tolerance)
    assert 0.0 <= A[0, 1] < 1e-13 and A[0, 0] <= 1.0
    if case.dtype == "float64" and magnitude < 745:  # exp(-1000) is below the smallest subnormal
        assert A[0, 1] > 0.0


@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=lambda v: f"z{v:g}")
def test_cost_of_saturated_logits_is_exact(case, magnitude):
    z = [magnitude, -magnitude, magnitude, -magnitude]
    y = [1.0, 0.0, 0.0, 1.0]  # two agreeing, two disagreeing
    J = case.check(cost(case.asarray([z]), case.asarray([y]), get_output("sigmoid"), case.xp))
    expected = sum(_expected_loss(a, b) for a, b in zip(z, y)) / 4
    np.testing.assert_allclose(J, expected, rtol=case.rtol)
    assert expected == pytest.approx(2 * magnitude / 4, rel=1e-12)  # the two wrong ones cost |z| each


def test_cost_of_confident_right_answers_keeps_its_digits(case):
    """``log1p(exp(-30))`` is 9.3576e-14; ``log(1 + exp(-30))`` would lose 0.1% of it."""
    J = cost(case.asarray([[30.0, -30.0]]), case.asarray([[1.0, 0.0]]), get_output("sigmoid"), case.xp)
    np.testing.assert_allclose(case.check(J), math.log1p(math.exp(-30.0)), rtol=case.rtol)


def test_cost_of_z1000_against_label_0_is_1000_over_m(case):
    J = cost(case.asarray([[1000.0, -1000.0]]), case.asarray([[0.0, 0.0]]), get_output("sigmoid"), case.xp)
    assert float(case.check(J)) == 1000.0 / 2


@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=lambda v: f"z{v:g}")
def test_gradients_of_saturated_output_are_finite_and_exact(case, magnitude):
    """One linear layer with ``Z = W x = [+-magnitude]``: ``dW = (sigmoid(Z) - Y) x^T / m``."""
    X = np.array([[1.0, -1.0, 1.0, -1.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])  # examples 0 and 1 agree with their logits, 2 and 3 do not
    layers = [(case.asarray([[magnitude]]), case.asarray([[0.0]]))]
    relu, sigmoid_output = get_activation("relu"), get_output("sigmoid")
    Z, cache = forward(layers, case.asarray(X), relu, case.xp)
    np.testing.assert_array_equal(case.check(Z), [[magnitude, -magnitude, magnitude, -magnitude]])
    ((dW, db),) = backward(layers, cache, case.asarray(Y), relu, sigmoid_output, case.xp)
    residual = [_expected_sigmoid(z) - y for z, y in zip([magnitude, -magnitude] * 2, Y[0])]
    expected_dW = sum(r * x for r, x in zip(residual, X[0])) / 4
    expected_db = sum(residual) / 4
    np.testing.assert_allclose(case.check(dW), [[expected_dW]], rtol=case.rtol, atol=1e-12)
    np.testing.assert_allclose(case.check(db), [[expected_db]], rtol=case.rtol, atol=1e-12)
    assert expected_dW == pytest.approx(0.5, abs=1e-12) and expected_db == pytest.approx(0.0, abs=1e-12)


def test_network_with_saturated_weights(case):
    """A network whose output logits are +-1000: finite cost, gradient steps and predictions."""
    parameters = {"W1": np.array([[1000.0, 0.0]]), "b1": np.array([[0.0]])}
    net = Network.from_parameters(parameters, backend=case.backend.name, device=case.backend.device,
                                  dtype=case.dtype)
    X = case.asarray([[1.0, -1.0, 1.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    Y = case.asarray([[1.0, 0.0, 0.0, 1.0]])
    assert net.cost(X, Y) == 2 * 1000.0 / 4
    np.testing.assert_array_equal(case.check(net.predict(X)), [[1.0, 0.0, 1.0, 0.0]])
    assert net.accuracy(X, Y) == 0.5
    history = net.fit(X, Y, learning_rate=1.0, num_iterations=2, record_every=1)
    assert history.costs[0] == 500.0
    assert all(math.isfinite(c) for c in history.costs)
    W1 = case.check(net.parameters["W1"])
    np.testing.assert_allclose(W1, [[1000.0 - 2 * 0.5, 0.0]], rtol=1e-6)  # two steps of dW = 0.5


def test_course_compute_cost_with_saturated_outputs():
    AL = np.array([[1.0, 0.0, 1.0, 0.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    J = float(course.compute_cost(AL, Y))
    # The two wrong answers are moved to 1 - eps/2 and the smallest normal instead of log(0).
    eps, tiny = np.finfo(np.float64).eps, np.finfo(np.float64).tiny
    expected = (-math.log(eps / 2) - math.log(tiny)) / 4
    assert math.isfinite(J) and J == pytest.approx(expected, rel=1e-12)
    right = float(course.compute_cost(AL[:, :2], Y[:, :2]))
    assert 0.0 <= right < 1e-15
    A32 = course.compute_cost(AL.astype(np.float32), Y.astype(np.float32))
    assert A32.dtype == np.float32 and math.isfinite(float(A32))


def test_course_sigmoid_of_huge_logits():
    A, cache = course.sigmoid(np.array([[1000.0, -1000.0, 30.0]]))
    np.testing.assert_allclose(A, [[1.0, 0.0, _expected_sigmoid(30.0)]], rtol=1e-15, atol=0)
    dZ = course.sigmoid_backward(np.ones((1, 3)), cache)
    # The course's s * (1 - s) loses digits to cancellation at z = 30 (1 - s ~ 1e-13), but stays finite.
    np.testing.assert_allclose(dZ, [[0.0, 0.0, _expected_sigmoid(30.0) * _expected_sigmoid(-30.0)]],
                               rtol=2e-3, atol=0)


def test_course_backward_of_a_saturated_output_is_finite():
    """``dAL = -(Y/AL - (1-Y)/(1-AL))`` meets AL == 1.0 and 0.0: finite, no division warning."""
    parameters = {"W1": np.array([[1000.0, -1000.0]]), "b1": np.zeros((1, 1))}
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    Y = np.array([[1.0, 0.0, 0.0]])
    AL, caches = course.L_model_forward(X, parameters)
    assert AL[0, 0] == 1.0 and AL[0, 1] == 0.0
    grads = course.L_model_backward(AL, Y, caches)
    assert all(np.isfinite(g).all() for g in grads.values())
    # The course's route multiplies dAL by s(1 - s) = 0 for a saturated unit: its gradient vanishes
    # (the core's logit route gives dZ = A - Y = 1 for the wrong third example instead).
    np.testing.assert_array_equal(grads["db1"], [[0.0]])


def test_constant_cost_is_the_entropy_or_half_variance_of_the_labels_on_every_backend(case):
    """Rows of labels with frequencies 1/4, 0 and 1: entropy ``H(1/4)`` (0 for the constant rows);
    a squared-error row ``[0, 1, 2, 5]``: half its variance, 3.5/2."""
    Y = case.asarray(np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]))
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert constant_cost(case.xp, Y, get_output("sigmoid")) == pytest.approx(entropy, rel=case.rtol)
    values = case.asarray(np.array([[0.0, 1.0, 2.0, 5.0]]))
    assert constant_cost(case.xp, values, get_output("identity")) == pytest.approx(1.75, rel=case.rtol)
