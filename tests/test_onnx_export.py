"""ONNX export: onnxruntime reproduces predict_proba for every hidden activation, output and dtype."""

from __future__ import annotations

import numpy as np
import pytest

import dnn_xp
from dnn_xp.activations import ACTIVATIONS
from dnn_xp.cli import main
from dnn_xp.losses import OUTPUTS
from dnn_xp.onnx_export import OPSET

from conftest import make_case
from test_format_version import save_like_version_0

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = {"float32": 1e-6, "float64": 1e-12}


def _random_network(hidden, output, dtype, dims=(5, 4, 3, 3), seed=0, backend=None, device=None):
    """A network with random weights and biases of size about 1, so every unit is used."""
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_prev, n) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{l}"] = (rng.standard_normal((n, n_prev)) / np.sqrt(n_prev)).astype(dtype)
        params[f"b{l}"] = rng.standard_normal((n, 1)).astype(dtype) * 0.5
    return dnn_xp.Network.from_parameters(params, hidden, output, backend=backend, device=device, dtype=dtype)


def _rows(n_x, dtype, m=64, seed=1):
    return np.random.default_rng(seed).standard_normal((m, n_x)).astype(dtype) * 2


def _run(path, X_rows):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (result,) = session.run(None, {"X": X_rows})
    return result


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("hidden", list(ACTIVATIONS))
def test_onnxruntime_reproduces_predict_proba(tmp_path, hidden, output, dtype):
    net = _random_network(hidden, output, dtype)
    X_rows = _rows(5, dtype)
    expected = dnn_xp.to_numpy(net.predict_proba(X_rows.T)).T
    result = _run(net.to_onnx(tmp_path / "m.onnx"), X_rows)
    assert result.shape == (64, 3) and result.dtype == np.dtype(dtype)
    np.testing.assert_allclose(result, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_graph_is_checked_opset_17_with_a_symbolic_batch(tmp_path, dtype):
    model = onnx.load(_random_network("relu", "sigmoid", dtype).to_onnx(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET >= 17
    (x,), (y,) = model.graph.input, model.graph.output
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert (x.name, x.type.tensor_type.elem_type) == ("X", elem)
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["N", 5]
    assert (y.name, [d.dim_param or d.dim_value for d in y.type.tensor_type.shape.dim]) == ("probabilities", ["N", 3])
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Sigmoid"]


def test_a_regression_network_names_its_output_predictions(tmp_path):
    model = onnx.load(_random_network("tanh", "identity", "float64").to_onnx(tmp_path / "m.onnx"))
    assert model.graph.output[0].name == "predictions"


def test_saturated_logits_stay_finite_and_agree(tmp_path):
    net = _random_network("relu", "sigmoid", "float64", dims=(2, 1))
    X_rows = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, 0.0]])
    expected = dnn_xp.to_numpy(net.predict_proba(X_rows.T)).T
    result = _run(net.to_onnx(tmp_path / "m.onnx"), X_rows)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend, device", [("array_api_strict", "device1"), ("torch", "cpu")])
def test_a_network_on_another_backend_exports_the_same_graph(tmp_path, backend, device):
    make_case(backend, device, "float64")  # skips when the backend is not usable here
    here = _random_network("tanh", "sigmoid", "float64", backend=backend, device=device)
    host = _random_network("tanh", "sigmoid", "float64")
    assert here.to_onnx(tmp_path / "a.onnx").read_bytes() == host.to_onnx(tmp_path / "b.onnx").read_bytes()


def test_a_model_saved_by_the_previous_format_exports(tmp_path):
    rng = np.random.default_rng(5)
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)),
              "W2": rng.standard_normal((1, 4)), "b2": rng.standard_normal((1, 1))}
    net = dnn_xp.Network.load(save_like_version_0(tmp_path / "old.npz", params, [3, 4, 1]))
    X_rows = _rows(3, "float64")
    expected = dnn_xp.to_numpy(net.predict_proba(X_rows.T)).T
    np.testing.assert_allclose(_run(net.to_onnx(tmp_path / "old.onnx"), X_rows), expected, rtol=1e-12, atol=1e-12)


def test_an_interrupted_export_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = _random_network("relu", "sigmoid", "float64").to_onnx(tmp_path / "m.onnx")
    good = path.read_bytes()

    def fail(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", fail)
    with pytest.raises(KeyboardInterrupt):
        _random_network("tanh", "sigmoid", "float64", seed=9).to_onnx(path)
    assert path.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_cli_export_writes_a_graph_that_reproduces_the_saved_model(tmp_path, capsys):
    assert main(["train", "--iterations", "50", "--quiet", "--save", str(tmp_path / "m.npz")]) == 0
    assert main(["export", "--model", str(tmp_path / "m.npz"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"saved ONNX model: {tmp_path / 'm.onnx'}"
    net = dnn_xp.Network.load(tmp_path / "m.npz")
    X_rows = _rows(2, "float64")
    expected = dnn_xp.to_numpy(net.predict_proba(X_rows.T)).T
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", X_rows), expected, rtol=1e-12, atol=1e-12)


def test_cli_export_of_a_missing_model_is_one_error_line(tmp_path, capsys):
    assert main(["export", "--model", str(tmp_path / "absent.npz"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err == f"dnn-xp: error: model file {str(tmp_path / 'absent.npz')!r} does not exist\n"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_standardizing_model_exports_its_scaling_and_keeps_it_through_a_save(tmp_path, dtype):
    net = _random_network("tanh", "softmax", dtype)
    features = np.random.default_rng(2).standard_normal((5, 200)) * [[1], [10], [0.1], [3], [50]] + 40
    net.standardize(features.astype(dtype))
    net.save(tmp_path / "m.npz")
    loaded = dnn_xp.Network.load(tmp_path / "m.npz")
    X_rows = (_rows(5, "float64") * 10 + 40).astype(dtype)
    expected = dnn_xp.to_numpy(loaded.predict_proba(X_rows.T)).T
    result = _run(loaded.to_onnx(tmp_path / "m.onnx"), X_rows)
    np.testing.assert_allclose(result, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    unscaled = dnn_xp.to_numpy(_random_network("tanh", "softmax", dtype).predict_proba(X_rows.T)).T
    assert np.abs(unscaled - expected).max() > 0.1  # the scaling matters on these inputs
    names = [node.op_type for node in onnx.load(tmp_path / "m.onnx").graph.node]
    assert names[:3] == ["Sub", "Div", "Gemm"]
