"""Gradients against central finite differences of the cost, in float64.

``core.backward`` (with ``scale=1``) must be the derivative of ``core.cost`` for every
hidden activation, both output layers and several depths; the course's backward
functions must agree with finite differences, with the core, and with the values the
course publishes for its made-up test caches.
"""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import course
from dnn_xp.activations import ACTIVATIONS, get_activation
from dnn_xp.core import backward, cost, forward
from dnn_xp.losses import get_output

M = 6  # examples
STEP = 1e-6  # finite-difference step; truncation ~STEP**2, round-off ~1e-16 / STEP
KINK_MARGIN = 1e-2  # every hidden |Z| stays this far from the ReLU kink at 0
FD_RTOL, FD_ATOL = 1e-6, 1e-8


def _cases():
    for output in ("sigmoid", "identity"):
        yield pytest.param([3, 1], "relu", output, id=f"no-hidden-{output}-3x1")
        for dims in ([4, 5, 1], [3, 4, 3, 2, 1]):
            for hidden in ACTIVATIONS:
                yield pytest.param(dims, hidden, output, id=f"{hidden}-{output}-{'x'.join(map(str, dims))}")


def random_problem(dims, output, seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], M)
    Y = (rng.rand(1, M) > 0.5).astype(np.float64) if output == "sigmoid" else rng.randn(1, M)
    layers = [(rng.randn(n, p) / np.sqrt(p), rng.randn(n, 1) * 0.5) for p, n in zip(dims[:-1], dims[1:])]
    return layers, X, Y


def kink_free_problem(dims, hidden, output):
    """The first seed whose hidden pre-activations all keep ``|Z| > KINK_MARGIN``.

    For the piecewise-linear activations every hidden unit must also be positive on
    some example and every layer negative somewhere, so no ReLU unit is dead (a zero
    gradient would prove nothing) and both sides of each kink are exercised.
    """
    kinked = hidden.name in ("relu", "leaky_relu")
    for seed in range(500):
        layers, X, Y = random_problem(dims, output, seed)
        _, cache = forward(layers, X, hidden, np)
        hidden_Z = [entry[1] for entry in cache[:-1]]  # entries: (A_{l-1}, Z_l, A_{l-1} before dropout)
        if all(np.min(np.abs(Z)) > KINK_MARGIN and (not kinked or (np.all((Z > 0).any(axis=1)) and np.any(Z < 0)))
               for Z in hidden_Z):
            return layers, X, Y
    raise AssertionError(f"no seed keeps the hidden |Z| above {KINK_MARGIN} with live units for {dims}")


def numeric_gradient(f, arrays):
    """Central differences of the scalar ``f()`` with respect to each array, perturbed in place."""
    grads = []
    for P in arrays:
        G = np.zeros_like(P)
        for index in np.ndindex(P.shape):
            saved = P[index]
            P[index] = saved + STEP
            up = f()
            P[index] = saved - STEP
            down = f()
            P[index] = saved
            G[index] = (up - down) / (2 * STEP)
        grads.append(G)
    return grads


@pytest.mark.parametrize("dims, hidden_name, output_name", list(_cases()))
def test_core_backward_matches_finite_differences(dims, hidden_name, output_name):
    hidden, output = get_activation(hidden_name), get_output(output_name)
    layers, X, Y = kink_free_problem(dims, hidden, output_name)

    def J():
        return float(cost(forward(layers, X, hidden, np)[0], Y, output, np))

    Z, cache = forward(layers, X, hidden, np)
    analytic = [g for pair in backward(layers, cache, Y, hidden, output, np, scale=1.0) for g in pair]
    numeric = numeric_gradient(J, [P for pair in layers for P in pair])

    for name, a, n in zip(_names(len(layers)), analytic, numeric):
        assert a.shape == n.shape, name
        assert np.abs(n).max() > 1e-6, f"{name} vanishes: a zero gradient proves nothing"
        np.testing.assert_allclose(a, n, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)


def _names(L):
    return [f"d{kind}{l}" for l in range(1, L + 1) for kind in "Wb"]


@pytest.mark.parametrize("hidden_name", ["relu", "tanh"])
def test_backward_scale_multiplies_every_gradient(hidden_name):
    hidden, output = get_activation(hidden_name), get_output("sigmoid")
    layers, X, Y = kink_free_problem([4, 5, 3, 1], hidden, "sigmoid")
    _, cache = forward(layers, X, hidden, np)
    plain = backward(layers, cache, Y, hidden, output, np, scale=1.0)
    scaled = backward(layers, cache, Y, hidden, output, np, scale=0.0075)
    for (dW, db), (sW, sb) in zip(plain, scaled):
        np.testing.assert_allclose(sW, 0.0075 * dW, rtol=1e-13, atol=0)
        np.testing.assert_allclose(sb, 0.0075 * db, rtol=1e-13, atol=0)


# ---------------------------------------------------------------- the course's functions

def course_parameters(dims):
    layers, X, Y = kink_free_problem(dims, get_activation("relu"), "sigmoid")
    params = {}
    for l, (W, b) in enumerate(layers, start=1):
        params[f"W{l}"], params[f"b{l}"] = W, b
    return params, X, Y


def test_course_L_model_backward_matches_core_and_finite_differences():
    params, X, Y = course_parameters([3, 4, 3, 2, 1])
    L = 4
    AL, caches = course.L_model_forward(X, params)
    grads = course.L_model_backward(AL, Y, caches)

    layers = [(params[f"W{l}"], params[f"b{l}"]) for l in range(1, L + 1)]
    relu, sigmoid = get_activation("relu"), get_output("sigmoid")
    _, cache = forward(layers, X, relu, np)
    for l, (dW, db) in enumerate(backward(layers, cache, Y, relu, sigmoid, np), start=1):
        assert np.abs(dW).max() > 1e-6, f"dW{l} vanishes: a zero gradient proves nothing"
        np.testing.assert_allclose(grads[f"dW{l}"], dW, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads[f"db{l}"], db, rtol=1e-12, atol=1e-15)

    def J():
        return float(course.compute_cost(course.L_model_forward(X, params)[0], Y))

    names = [f"{k}{l}" for l in range(1, L + 1) for k in "Wb"]
    for name, numeric in zip(names, numeric_gradient(J, [params[n] for n in names])):
        np.testing.assert_allclose(grads[f"d{name}"], numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)
    # The course's dA is the per-example derivative: m times the gradient of the mean cost.
    (dX,) = numeric_gradient(J, [X])
    np.testing.assert_allclose(grads["dA0"] / M, dX, rtol=FD_RTOL, atol=FD_ATOL)


def test_course_L_model_backward_on_made_up_caches():
    """The course's ``L_model_backward_test_case`` (seed 3) and its published expected output."""
    rng = np.random.RandomState(3)
    AL = rng.randn(1, 2)
    Y = np.array([[1, 0]])
    A1, W1, b1, Z1 = rng.randn(4, 2), rng.randn(3, 4), rng.randn(3, 1), rng.randn(3, 2)
    A2, W2, b2, Z2 = rng.randn(3, 2), rng.randn(1, 3), rng.randn(1, 1), rng.randn(1, 2)
    grads = course.L_model_backward(AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2)))

    published = {
        "dW1": [[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                [0.0, 0.0, 0.0, 0.0],
                [0.05283652, 0.01005865, 0.01777766, 0.0135308]],
        "db1": [[-0.22007063], [0.0], [-0.02835349]],
        "dA1": [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]],
    }
    for name, expected in published.items():
        np.testing.assert_allclose(grads[name], expected, rtol=0, atol=5e-9, err_msg=name)
    # The cached Z (not W @ A + b) decides the derivative: Z1's second row is negative.
    assert np.all(Z1[1] < 0) and np.all(grads["dW1"][1] == 0)

    # The same numbers from the course's formulas written out here.
    dZ2 = -(Y / AL - (1 - Y) / (1 - AL)) * (1 / (1 + np.exp(-Z2))) * (1 - 1 / (1 + np.exp(-Z2)))
    np.testing.assert_allclose(grads["dW2"], dZ2 @ A2.T / 2, rtol=1e-13)
    np.testing.assert_allclose(grads["db2"], dZ2.sum(axis=1, keepdims=True) / 2, rtol=1e-13)
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    np.testing.assert_allclose(grads["dA0"], W1.T @ dZ1, rtol=1e-13, atol=1e-16)


def test_course_linear_backward_published_example():
    """The course's ``linear_backward_test_case`` (seed 1) and its expected output."""
    rng = np.random.RandomState(1)
    dZ, A, W, b = rng.randn(3, 4), rng.randn(5, 4), rng.randn(3, 5), rng.randn(3, 1)
    dA_prev, dW, db = course.linear_backward(dZ, (A, W, b))
    np.testing.assert_allclose(dA_prev, [[-1.15171336, 0.06718465, -0.3204696, 2.09812712],
                                         [0.60345879, -3.72508701, 5.81700741, -3.84326836],
                                         [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
                                         [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
                                         [-2.52214926, 2.67882552, -0.67947465, 1.48119548]], atol=5e-9)
    np.testing.assert_allclose(dW, [[0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
                                    [0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808],
                                    [0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907]],
                               atol=5e-9)
    np.testing.assert_allclose(db, [[-0.14713786], [-0.11313155], [-0.13209101]], atol=5e-9)


def test_course_linear_backward_matches_finite_differences():
    rng = np.random.RandomState(7)
    A, W, b, G = rng.randn(4, M), rng.randn(3, 4), rng.randn(3, 1), rng.randn(3, M)

    def f():  # the per-example loss sum whose dZ is G: sum(G * Z)
        return float(np.sum(G * course.linear_forward(A, W, b)[0]))

    dA_prev, dW, db = course.linear_backward(G, (A, W, b))
    num_A, num_W, num_b = numeric_gradient(f, [A, W, b])
    np.testing.assert_allclose(dA_prev, num_A, rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(dW, num_W / M, rtol=FD_RTOL, atol=FD_ATOL)  # course: dW = dZ A^T / m
    np.testing.assert_allclose(db, num_b / M, rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("name", ["sigmoid", "relu"])
def test_course_activation_backward_matches_finite_differences(name):
    rng = np.random.RandomState(11)
    Z = rng.randn(3, 8) * 3
    Z[np.abs(Z) < KINK_MARGIN] = 0.5  # away from the ReLU kink
    dA = rng.randn(3, 8)
    forward_fn = getattr(course, name)
    dZ = getattr(course, f"{name}_backward")(dA, Z)
    numeric = (forward_fn(Z + STEP)[0] - forward_fn(Z - STEP)[0]) / (2 * STEP) * dA
    np.testing.assert_allclose(dZ, numeric, rtol=FD_RTOL, atol=FD_ATOL)
    A, cache = forward_fn(Z)
    assert cache is Z
    expected = 1 / (1 + np.exp(-Z)) if name == "sigmoid" else np.maximum(Z, 0)
    np.testing.assert_allclose(A, expected, rtol=1e-15, atol=0)


def test_course_linear_activation_forward_caches_the_course_layout():
    rng = np.random.RandomState(2)
    A_prev, W, b = rng.randn(3, 2), rng.randn(1, 3), rng.randn(1, 1)
    A, ((cached_A, cached_W, cached_b), Z) = course.linear_activation_forward(A_prev, W, b, "sigmoid")
    assert cached_A is A_prev and cached_W is W and cached_b is b
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-15)
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-(W @ A_prev + b))), rtol=1e-15)


def test_course_update_parameters_steps_against_the_gradient():
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
    grads = {"dW1": np.array([[0.1, 0.2]]), "db1": np.array([[-1.0]]), "dA0": np.ones((2, 1))}
    new = course.update_parameters(params, grads, 0.5)
    np.testing.assert_array_equal(new["W1"], [[0.95, -2.1]])
    np.testing.assert_array_equal(new["b1"], [[1.0]])
    np.testing.assert_array_equal(params["W1"], [[1.0, -2.0]])  # inputs untouched
