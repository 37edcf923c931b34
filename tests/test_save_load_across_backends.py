"""Model files carry parameters bit for bit from one backend to another."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import Network, to_numpy
from dnn_xp.datasets import planar_flower


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_numpy_strict_torch(tmp_path, dtype):
    pytest.importorskip("torch")
    X, Y = planar_flower()
    trained = Network([2, 4, 1], hidden="tanh", init="small", seed=2, dtype=dtype)
    trained.fit(X, Y, learning_rate=1.2, num_iterations=200)
    expected = {name: value.copy() for name, value in trained.parameters.items()}
    expected_proba = trained.predict_proba(X)

    on_strict = Network.load(trained.save(tmp_path / "numpy.npz"), backend="array_api_strict", device="device1")
    on_torch = Network.load(on_strict.save(tmp_path / "strict.npz"), backend="torch", device="cpu")
    back = Network.load(on_torch.save(tmp_path / "torch.npz"))

    for net, library in ((on_strict, "array_api_strict"), (on_torch, "torch"), (back, "numpy")):
        assert net.backend.name == library
        assert (net.layer_dims, net.hidden.name, net.output.name) == ([2, 4, 1], "tanh", "sigmoid")
        assert net.iterations_trained == 200
        for name, value in net.parameters.items():
            host = to_numpy(value)
            assert host.dtype == np.dtype(dtype), (library, name)
            np.testing.assert_array_equal(host, expected[name], err_msg=f"{library} {name}")
        np.testing.assert_allclose(to_numpy(net.predict_proba(X)), expected_proba,
                                   rtol=1e-12 if dtype == "float64" else 1e-6)
    assert str(on_strict.parameters["W1"].device) == str(on_strict.backend.xp.Device("device1"))
    with np.load(tmp_path / "torch.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["W1", "W2", "__meta__", "b1", "b2"]


def test_loaded_model_keeps_training_like_the_original(tmp_path):
    X, Y = planar_flower()
    a = Network([2, 4, 1], hidden="tanh", init="small", seed=2)
    a.fit(X, Y, learning_rate=1.2, num_iterations=100)
    b = Network.load(a.save(tmp_path / "model.npz"))
    costs_a = a.fit(X, Y, learning_rate=1.2, num_iterations=50).costs
    costs_b = b.fit(X, Y, learning_rate=1.2, num_iterations=50).costs
    assert costs_a == costs_b
    for name in a.parameters:
        np.testing.assert_array_equal(a.parameters[name], b.parameters[name])
