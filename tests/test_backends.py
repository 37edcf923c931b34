"""The whole training run on every backend, device and dtype of the test matrix.

Results must stay on the case's library, device and dtype (``case.check``) and agree
with NumPy float64; the same seed must give bit-for-bit the same initial weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import Network, course, resolve_backend, to_numpy
from dnn_xp.activations import get_activation
from dnn_xp.backend import backend_of
from dnn_xp.core import backward, cost, forward, probabilities
from dnn_xp.datasets import planar_flower
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output

PLANAR = {"layer_dims": [2, 4, 1], "hidden": "tanh", "init": "small", "seed": 2}
FIT = {"learning_rate": 1.2, "num_iterations": 300, "record_every": 50}


@pytest.fixture(scope="module")
def flower():
    return planar_flower()


@pytest.fixture(scope="module")
def numpy_run(flower):
    """The reference: NumPy float64, the same configuration."""
    X, Y = flower
    net = Network(**PLANAR, backend="numpy")
    history = net.fit(X, Y, **FIT)
    return {
        "history": history,
        "parameters": {k: v.copy() for k, v in net.parameters.items()},
        "proba": net.predict_proba(X),
        "predictions": net.predict(X),
        "accuracy": net.accuracy(X, Y),
        "cost": net.cost(X, Y),
    }


def _on(case):
    return {"backend": case.backend.name, "device": case.backend.device}


def test_fit_predict_stay_on_the_backend_and_agree_with_numpy(case, flower, numpy_run):
    case.skip_long_runs()
    X, Y = (case.asarray(a) for a in flower)
    net = Network(**PLANAR, **_on(case))
    history = net.fit(X, Y, **FIT)

    assert history.iterations == [0, 50, 100, 150, 200, 250, 299]
    np.testing.assert_allclose(history.costs, numpy_run["history"].costs, rtol=case.rtol)
    assert history.costs[-1] < 0.5 * history.costs[0]
    for name, value in net.parameters.items():
        np.testing.assert_allclose(case.check(value), numpy_run["parameters"][name], rtol=case.rtol,
                                   atol=1e-12 if case.dtype == "float64" else 1e-5, err_msg=name)

    proba = case.check(net.predict_proba(X))
    np.testing.assert_allclose(proba, numpy_run["proba"], rtol=case.rtol, atol=1e-6)
    predictions = case.check(net.predict(X))
    assert predictions.shape == (1, 400) and set(np.unique(predictions)) <= {0.0, 1.0}
    near_half = np.abs(numpy_run["proba"] - 0.5) < 1e-4
    np.testing.assert_array_equal(predictions[~near_half], numpy_run["predictions"][~near_half])

    accuracy, value = net.accuracy(X, Y), net.cost(X, Y)
    assert isinstance(accuracy, float) and isinstance(value, float)
    assert abs(accuracy - numpy_run["accuracy"]) <= near_half.sum() / 400
    assert numpy_run["accuracy"] == 0.875
    np.testing.assert_allclose(value, numpy_run["cost"], rtol=case.rtol)


def test_numpy_inputs_follow_the_network_dtype(case, flower, numpy_run):
    """Host NumPy float64 data moved by the network itself; ``dtype=`` decides the precision."""
    case.skip_long_runs()
    X, Y = flower
    net = Network(**PLANAR, **_on(case), dtype=case.dtype)
    for value in net.parameters.values():
        case.check(value)
    history = net.fit(X, Y, **FIT)
    np.testing.assert_allclose(history.costs, numpy_run["history"].costs, rtol=case.rtol)
    for value in net.parameters.values():
        case.check(value)
    case.check(net.predict(X))
    case.check(net.predict_proba(X))


def test_same_seed_gives_identical_initial_weights(case):
    dims = [7, 5, 3, 1]
    net = Network(dims, init="he", seed=5, **_on(case), dtype=case.dtype)
    host = initial_layers(dims, "he", seed=5)
    for l, (W, b) in enumerate(host, start=1):
        np.testing.assert_array_equal(case.check(net.parameters[f"W{l}"]), W.astype(case.dtype))
        np.testing.assert_array_equal(case.check(net.parameters[f"b{l}"]), np.zeros((dims[l], 1)))
    assert np.abs(host[0][0]).max() > 0.1  # real draws, not zeros


def test_core_functions_keep_device_and_dtype(case):
    """forward, cost, probabilities and backward return arrays of the case, matching float64 NumPy."""
    rng = np.random.RandomState(0)
    host_layers = initial_layers([3, 4, 1], "glorot", seed=1)
    X, Y = rng.randn(3, 5), (rng.rand(1, 5) > 0.5).astype(float)
    relu, sigmoid = get_activation("relu"), get_output("sigmoid")
    layers = [(case.asarray(W), case.asarray(b)) for W, b in host_layers]

    Z, cache = forward(layers, case.asarray(X), relu, case.xp)
    Z_ref, cache_ref = forward(host_layers, X, relu, np)
    np.testing.assert_allclose(case.check(Z), Z_ref, rtol=case.rtol, atol=1e-7)
    np.testing.assert_allclose(case.check(probabilities(Z, sigmoid, case.xp)),
                               probabilities(Z_ref, sigmoid, np), rtol=case.rtol)
    J = cost(Z, case.asarray(Y), sigmoid, case.xp)
    assert J.shape == ()
    np.testing.assert_allclose(case.check(J), cost(Z_ref, Y, sigmoid, np), rtol=case.rtol)
    grads = backward(layers, cache, case.asarray(Y), relu, sigmoid, case.xp)
    for (dW, db), (rW, rb) in zip(grads, backward(host_layers, cache_ref, Y, relu, sigmoid, np)):
        np.testing.assert_allclose(case.check(dW), rW, rtol=case.rtol, atol=1e-7)
        np.testing.assert_allclose(case.check(db), rb, rtol=case.rtol, atol=1e-7)


def test_backend_of_and_to_numpy_round_trip(case):
    host = np.arange(6.0).reshape(2, 3) / 7
    array = case.asarray(host)
    found = backend_of(array)
    assert found.name == case.backend.name
    if case.backend.name == "dask":  # a dask array is tied to no device: whichever scheduler computes it
        assert found.device is None
    else:
        assert str(found.device) == str(case.backend.device) or found.device == case.backend.device
    np.testing.assert_array_equal(to_numpy(array), host.astype(case.dtype))


def test_strict_backend_names_its_devices():
    backend = resolve_backend("array_api_strict", "device1")
    assert str(backend.device) == str(backend.xp.Device("device1"))
    net = Network([2, 1], backend="array_api_strict", device="device1")
    assert net.parameters["W1"].device == backend.xp.Device("device1")
    assert "array_api_strict" in repr(net) and "float64" in repr(net)


def test_course_functions_on_every_backend(case, capsys):
    """``dnn_xp.course`` reads the namespace from its arguments: the course's loop runs anywhere."""
    case.skip_long_runs()
    rng = np.random.RandomState(3)
    X, Y = rng.randn(4, 30), (rng.rand(1, 30) > 0.5).astype(float)
    dims = [4, 5, 3, 1]
    params_ref, costs_ref = course.L_layer_model(X, Y, dims, 0.1, 150)
    params, costs = course.L_layer_model(case.asarray(X), case.asarray(Y), dims, 0.1, 150)
    assert len(costs) == len(costs_ref) == 2  # iterations 0 and 100
    assert costs_ref[-1] < costs_ref[0]
    np.testing.assert_allclose([case.check(c) for c in costs], costs_ref, rtol=case.rtol)
    for name, value in params.items():
        np.testing.assert_allclose(case.check(value), params_ref[name], rtol=case.rtol, atol=1e-6, err_msg=name)

    course.predict(X, Y, params_ref)
    p = course.predict(case.asarray(X), case.asarray(Y), params)
    printed_ref, printed = capsys.readouterr().out.splitlines()
    assert printed.startswith("Accuracy: ")
    assert float(printed.split()[1]) == pytest.approx(float(printed_ref.split()[1]), abs=1 / 30)
    assert set(np.unique(case.check(p))) <= {0.0, 1.0}
    cost_value = course.compute_cost(course.L_model_forward(case.asarray(X), params)[0], case.asarray(Y))
    assert cost_value.shape == ()
    case.check(cost_value)


def test_torch_inputs_that_track_gradients_are_detached():
    """A tensor with requires_grad would grow an autograd graph over every iteration."""
    torch = pytest.importorskip("torch")
    X = torch.tensor(np.random.RandomState(0).randn(3, 20), requires_grad=True)
    Y = torch.tensor((np.random.RandomState(1).rand(1, 20) > 0.5).astype(np.float64))
    net = Network([3, 4, 1], seed=1, backend="torch")
    net.fit(X, Y, learning_rate=0.1, num_iterations=5, progress=False)
    assert not any(p.requires_grad for p in net.parameters.values())
    assert not net.predict_proba(X).requires_grad


def test_read_only_host_arrays_reach_torch_without_a_warning():
    pytest.importorskip("torch")
    backend = resolve_backend("torch", "cpu")
    host = np.arange(6.0).reshape(2, 3)
    host.setflags(write=False)  # np.load(mmap_mode="r"), a broadcast view, dnn_xp's cached dropout masks
    tensor = backend.asarray(host, backend.dtype("float64"))  # torch warns when it shares such a buffer
    tensor += 1.0
    assert to_numpy(tensor).tolist() == (host + 1.0).tolist() and host[0, 0] == 0.0
