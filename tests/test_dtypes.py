"""float32 end to end: which dtype the network computes in, and how far float32 drifts."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import Network
from dnn_xp.datasets import planar_flower

PLANAR = {"layer_dims": [2, 4, 1], "hidden": "tanh", "init": "small", "seed": 2}


@pytest.fixture(scope="module")
def flower():
    return planar_flower()


def _dtypes(net, X):
    return {
        "parameters": {value.dtype for value in net.parameters.values()},
        "predict": net.predict(X).dtype,
        "predict_proba": net.predict_proba(X).dtype,
    }


def test_dtype_follows_float32_data(flower):
    X, Y = (a.astype(np.float32) for a in flower)
    net = Network(**PLANAR)
    history = net.fit(X, Y, learning_rate=1.2, num_iterations=50)
    assert _dtypes(net, X) == {"parameters": {np.dtype(np.float32)}, "predict": np.float32,
                               "predict_proba": np.float32}
    # Once trained in float32, float64 inputs are computed in the parameters' float32.
    assert _dtypes(net, flower[0])["predict_proba"] == np.float32
    assert all(isinstance(c, float) for c in history.costs)
    assert isinstance(net.cost(X, Y), float) and isinstance(net.accuracy(X, Y), float)
    assert "float32" in repr(net)


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")], ids=["str", "type", "dtype"])
def test_dtype_argument_overrides_the_data(flower, dtype):
    X, Y = flower  # float64
    net = Network(**PLANAR, dtype=dtype)
    assert {v.dtype for v in net.parameters.values()} == {np.dtype(np.float32)}
    net.fit(X, Y, learning_rate=1.2, num_iterations=50)
    assert _dtypes(net, X) == {"parameters": {np.dtype(np.float32)}, "predict": np.float32,
                               "predict_proba": np.float32}


def test_float64_argument_overrides_float32_data(flower):
    X, Y = (a.astype(np.float32) for a in flower)
    net = Network(**PLANAR, dtype="float64")
    net.fit(X, Y, learning_rate=1.2, num_iterations=50)
    assert _dtypes(net, X) == {"parameters": {np.dtype(np.float64)}, "predict": np.float64,
                               "predict_proba": np.float64}


def test_integer_data_trains_in_float64():
    X = np.array([[0, 1, 0, 1], [0, 0, 1, 1]], dtype=np.int64)
    Y = np.array([[0, 1, 1, 1]], dtype=np.int64)  # logical OR
    net = Network([2, 1], init="zeros")
    history = net.fit(X, Y, learning_rate=1.0, num_iterations=500, record_every=499)
    assert _dtypes(net, X) == {"parameters": {np.dtype(np.float64)}, "predict": np.float64,
                               "predict_proba": np.float64}
    assert history.costs[0] == pytest.approx(np.log(2), rel=1e-15)
    assert net.accuracy(X, Y) == 1.0


def test_float32_training_agrees_with_float64(flower):
    X, Y = flower
    runs = {}
    for dtype in ("float64", "float32"):
        net = Network(**PLANAR, dtype=dtype)
        history = net.fit(X, Y, learning_rate=1.2, num_iterations=2000, record_every=500)
        runs[dtype] = (np.array(history.costs), net.accuracy(X, Y), net.parameters["W1"])
    costs64, accuracy64, W64 = runs["float64"]
    costs32, accuracy32, W32 = runs["float32"]
    assert W32.dtype == np.float32 and W64.dtype == np.float64
    np.testing.assert_allclose(costs32, costs64, rtol=1e-4)
    np.testing.assert_allclose(W32, W64, rtol=1e-4, atol=1e-4)
    assert accuracy64 == accuracy32 == 359 / 400  # counted exactly, even in float32
