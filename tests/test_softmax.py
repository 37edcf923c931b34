"""Softmax with categorical cross-entropy from the logits: finite differences, torch, saturation, backends."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import numpy as np_xp

from dnn_xp.activations import get_activation
from dnn_xp.core import backward, cost, forward
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import categorical_cross_entropy_from_logits, class_ids, get_output, one_hot, softmax

torch = pytest.importorskip("torch")

SOFTMAX, TANH, RELU = get_output("softmax"), get_activation("tanh"), get_activation("relu")


def _problem(dims=(4, 6, 3), m=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m)
    ids = rng.randint(0, dims[-1], size=(1, m)).astype(np.float64)
    return initial_layers(list(dims), "he", 1), X, ids


def test_softmax_columns_are_probabilities_and_ids_round_trip():
    Z = np.array([[1.0, -2.0, 0.0], [3.0, 0.5, 0.0]])
    P = softmax(np_xp, Z)
    np.testing.assert_allclose(P, np.exp(Z) / np.exp(Z).sum(axis=0), rtol=1e-15)
    ids = np.array([[2.0, 0.0, 1.0, 2.0]])
    Y = one_hot(np_xp, ids, 3)
    np.testing.assert_array_equal(Y, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    assert Y.dtype == np.float64 and one_hot(np_xp, Y, 3) is Y
    np.testing.assert_array_equal(class_ids(np_xp, Y, np.float64), ids)


def test_gradients_equal_central_differences():
    layers, X, ids = _problem()
    Y = one_hot(np_xp, ids, 3)

    def J(candidate):
        return float(cost(forward(candidate, X, TANH, np_xp)[0], Y, SOFTMAX, np_xp))

    _, cache = forward(layers, X, TANH, np_xp)
    grads = backward(layers, cache, Y, TANH, SOFTMAX, np_xp)
    eps = 1e-6
    for l, (W, b) in enumerate(layers):
        for k, (p, g) in enumerate(zip((W, b), grads[l])):
            approx = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                saved = p[i]
                p[i] = saved + eps
                plus = J(layers)
                p[i] = saved - eps
                minus = J(layers)
                p[i] = saved
                approx[i] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(g, approx, rtol=1e-6, atol=1e-9)


def test_twenty_sgd_steps_follow_torch_cross_entropy():
    layers, X, ids = _problem((4, 6, 5, 3), m=64)
    Y = one_hot(np_xp, ids, 3)
    lr = 0.5
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for pair in layers for p in pair]
    opt = torch.optim.SGD(params, lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, target = torch.tensor(X), torch.tensor(ids[0], dtype=torch.int64)
    ours = layers
    for step in range(20):
        A = Xt
        for k in range(0, len(params) - 2, 2):
            A = torch.relu(params[k] @ A + params[k + 1])
        loss = loss_fn((params[-2] @ A + params[-1]).T, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        Z, cache = forward(ours, X, RELU, np_xp)
        np.testing.assert_allclose(float(cost(Z, Y, SOFTMAX, np_xp)), loss.item(), rtol=1e-12)
        grads = backward(ours, cache, Y, RELU, SOFTMAX, np_xp)
        ours = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(ours, grads)]
    for p, q in zip([p for pair in ours for p in pair], params):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_saturated_logits_give_finite_costs_without_warnings():
    Z = np.array([[1000.0, -1000.0, 1000.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, -1000.0]])
    right = one_hot(np_xp, np.array([[0.0, 1.0, 0.0]]), 3)
    wrong = one_hot(np_xp, np.array([[1.0, 2.0, 2.0]]), 3)
    assert float(categorical_cross_entropy_from_logits(np_xp, Z, right)) == pytest.approx(
        np.log1p(np.exp(-1.0)) / 3, rel=1e-12)
    assert float(categorical_cross_entropy_from_logits(np_xp, Z, wrong)) == pytest.approx(
        (2000.0 + 1000.0 + 2000.0 + np.log1p(np.exp(-1.0))) / 3, rel=1e-12)
    P = softmax(np_xp, Z)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=0), 1.0)


def test_every_backend_agrees_with_numpy(case):
    layers, X, ids = _problem()
    Z_host = forward(layers, X, TANH, np_xp)[0] * 300  # saturating logits too
    Y_host = one_hot(np_xp, ids, 3)
    Z, ids_d = case.asarray(Z_host), case.asarray(ids)
    Y = one_hot(case.xp, ids_d, 3)
    np.testing.assert_array_equal(case.check(Y), Y_host)
    value = categorical_cross_entropy_from_logits(case.xp, Z, Y)
    expected = float(categorical_cross_entropy_from_logits(np_xp, Z_host.astype(case.dtype), Y_host))
    assert np.isfinite(float(value))
    np.testing.assert_allclose(float(value), expected, rtol=case.rtol)
    np.testing.assert_allclose(case.check(softmax(case.xp, Z)), softmax(np_xp, Z_host), rtol=case.rtol, atol=1e-6)
    np.testing.assert_array_equal(case.check(class_ids(case.xp, Z, Z.dtype)), class_ids(np_xp, Z_host, np.float64))
