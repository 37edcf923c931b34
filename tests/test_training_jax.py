"""The general training loop on JAX: compiled per epoch through the backend's hook, equal to NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import dnn_xp.datasets
from dnn_xp import Network, schedules
from dnn_xp.backend import BackendError, resolve_backend


@pytest.fixture(scope="module")
def jax_backend():
    pytest.importorskip("jax")
    try:
        return resolve_backend("jax", "cpu")
    except BackendError as exc:
        pytest.skip(f"no JAX backend here: {exc}")


def _run(backend=None, device=None, dtype="float64", **extra):
    rng = np.random.RandomState(0)
    X = rng.randn(4, 203)
    Y = (X[:1] * X[1:2] > 0).astype(np.float64)
    net = Network([4, 8, 6, 1], hidden="tanh", init="he", seed=1, backend=backend, device=device, dtype=dtype)
    history = net.fit(X, Y, learning_rate=0.01, optimizer="adam", batch_size=32, epochs=4, record_every=1,
                      l2=0.3, keep_prob=(0.8, 0.9), schedule=schedules.inverse_time(0.5), progress=False, **extra)
    return net, history


def test_jitted_mini_batch_adam_l2_dropout_run_equals_numpy(jax_backend, monkeypatch):
    compiled = []
    original = type(jax_backend).compile

    def spy(self, fn):
        compiled.append(self.name)
        return original(self, fn)

    monkeypatch.setattr(type(jax_backend), "compile", spy)
    expected, expected_history = _run()
    net, history = _run("jax", "cpu")
    assert "jax" in compiled  # the epochs went through the backend's compile hook (jax.jit)
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=1e-12)
    for name, value in net.parameters.items():
        assert net.backend.owns(value)
        np.testing.assert_allclose(dnn_xp.to_numpy(value), dnn_xp.to_numpy(expected.parameters[name]),
                                   rtol=1e-12, atol=1e-14)


def test_jax_float32_run_stays_float32(jax_backend):
    net, history = _run("jax", "cpu", "float32")
    expected, _ = _run()
    W = net.parameters["W1"]
    assert W.dtype == net.backend.dtype("float32")
    np.testing.assert_allclose(dnn_xp.to_numpy(W), dnn_xp.to_numpy(expected.parameters["W1"]), rtol=1e-3, atol=1e-4)


def test_dropout_masks_are_the_hosts_on_jax(jax_backend):
    from array_api_compat import numpy as np_xp

    from dnn_xp.activations import get_activation
    from dnn_xp.core import forward
    from dnn_xp.initializers import initial_layers
    from dnn_xp.regularization import draw_masks

    layers = initial_layers([3, 6, 4, 1], "he", 5)
    X = np.random.RandomState(2).randn(3, 30)
    masks = draw_masks(np.random.RandomState(1), [6, 4], 30, (0.7, 0.9))
    on_jax = [(jax_backend.asarray(D), p) for D, p in zip(masks, (0.7, 0.9))]
    np.testing.assert_array_equal(dnn_xp.to_numpy(on_jax[0][0]), masks[0])
    dev_layers = [(jax_backend.asarray(W), jax_backend.asarray(b)) for W, b in layers]
    relu = get_activation("relu")
    Z = forward(dev_layers, jax_backend.asarray(X), relu, jax_backend.xp, on_jax)[0]
    expected = forward(layers, X, relu, np_xp, list(zip(masks, (0.7, 0.9))))[0]
    np.testing.assert_allclose(dnn_xp.to_numpy(Z), expected, rtol=1e-12, atol=1e-14)


def test_softmax_on_jax_equals_numpy(jax_backend):
    X, ids = dnn_xp.datasets.spirals(n_per_class=30, classes=3, seed=1)
    runs = []
    for backend in (None, "jax"):
        net = Network([2, 16, 3], output="softmax", init="he", seed=0, backend=backend)
        history = net.fit(X, ids, learning_rate=0.02, optimizer="rmsprop", batch_size=16, epochs=5,
                          record_every=1, progress=False)
        runs.append((history.costs, net.predict(X), net.accuracy(X, ids)))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    np.testing.assert_array_equal(dnn_xp.to_numpy(runs[1][1]), runs[0][1])
    assert runs[1][2] == runs[0][2]
