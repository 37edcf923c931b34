"""Every bad input raises the right exception with a message that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import BackendError, Network, course, resolve_backend

RNG = np.random.RandomState(0)
X = RNG.randn(3, 5)
Y = np.array([[0.0, 1.0, 0.0, 1.0, 1.0]])


def _with(array, index, value):
    copy = array.copy()
    copy[index] = value
    return copy


def fit(X=X, Y=Y, layer_dims=(3, 2, 1), **kwargs):
    return Network(list(layer_dims), seed=1).fit(X, Y, num_iterations=kwargs.pop("num_iterations", 3), **kwargs)


def trained():
    net = Network([3, 2, 1], seed=1)
    net.fit(X, Y, num_iterations=2)
    return net


BAD_DATA = [
    pytest.param(lambda: fit(layer_dims=(4, 2, 1)), ValueError, r"X has 3 rows .*layer_dims", id="X-rows-vs-layer_dims"),
    pytest.param(lambda: fit(Y=Y[:, :4]), ValueError, r"Y has 4 examples .* X has 5", id="Y-columns-vs-X"),
    pytest.param(lambda: fit(Y=np.vstack([Y, Y])), ValueError, r"Y has 2 rows .*layer_dims", id="Y-rows-vs-layer_dims"),
    pytest.param(lambda: fit(X=X[0], layer_dims=(1, 1)), ValueError, r"X must be 2-D.*got shape \(5,\)", id="X-1d"),
    pytest.param(lambda: fit(Y=Y[0]), ValueError, r"Y must be 2-D.*got shape \(5,\)", id="Y-1d"),
    pytest.param(lambda: fit(X=X[..., None]), ValueError, r"X must be 2-D.*\(3, 5, 1\)", id="X-3d"),
    pytest.param(lambda: fit(X=_with(X, (1, 2), np.nan)), ValueError, r"X contains NaN or Inf", id="X-nan"),
    pytest.param(lambda: fit(X=_with(X, (0, 0), np.inf)), ValueError, r"X contains NaN or Inf", id="X-inf"),
    pytest.param(lambda: fit(X=_with(X, (0, 0), -np.inf)), ValueError, r"X contains NaN or Inf", id="X-minus-inf"),
    pytest.param(lambda: fit(X=X * 1e6), None, None, id="X-large-but-valid"),
    pytest.param(lambda: fit(Y=_with(Y, (0, 1), np.nan)), ValueError, r"Y contains NaN or Inf", id="Y-nan"),
    pytest.param(lambda: fit(Y=_with(Y, (0, 1), np.inf)), ValueError, r"Y contains NaN or Inf", id="Y-inf"),
    pytest.param(lambda: fit(Y=_with(Y, (0, 1), 2.0)), ValueError, r"Y must hold labels 0 or 1", id="Y-label-2"),
    pytest.param(lambda: fit(Y=_with(Y, (0, 1), 0.5)), ValueError, r"Y must hold labels 0 or 1", id="Y-label-half"),
    pytest.param(lambda: fit(Y=_with(Y, (0, 1), -1.0)), ValueError, r"Y must hold labels 0 or 1", id="Y-label-minus-1"),
    pytest.param(lambda: fit(X=np.zeros((3, 0)), Y=np.zeros((1, 0))), ValueError, r"X is empty", id="empty-m0"),
    pytest.param(lambda: fit(Y=np.zeros((1, 0))), ValueError, r"Y is empty", id="Y-empty"),
    pytest.param(lambda: fit(X="not an array"), ValueError, r"X must be 2-D", id="X-string"),
    pytest.param(lambda: trained().predict(np.ones((4, 5))), ValueError, r"X has 4 rows", id="predict-X-rows"),
    pytest.param(lambda: trained().predict_proba(np.ones(3)), ValueError, r"X must be 2-D", id="predict_proba-X-1d"),
    pytest.param(lambda: trained().accuracy(X, Y[:, :3]), ValueError, r"Y has 3 examples", id="accuracy-Y-columns"),
    pytest.param(lambda: trained().accuracy(X, Y * 3), ValueError, r"Y must hold labels 0 or 1", id="accuracy-Y-labels"),
    pytest.param(lambda: trained().cost(X, Y[0]), ValueError, r"Y must be 2-D", id="cost-Y-1d"),
    pytest.param(lambda: trained().cost(_with(X, (2, 2), np.nan), Y), ValueError, r"X contains NaN", id="cost-X-nan"),
]

BAD_NETWORK = [
    pytest.param(lambda: Network([3, 0, 1]), ValueError, r"layer_dims must be positive integers", id="layer-size-0"),
    pytest.param(lambda: Network([3, -2, 1]), ValueError, r"layer_dims must be positive integers", id="layer-size-negative"),
    pytest.param(lambda: Network([3, 2.5, 1]), ValueError, r"layer_dims must be positive integers", id="layer-size-2.5"),
    pytest.param(lambda: Network([3, "2", 1]), ValueError, r"layer_dims must be positive integers", id="layer-size-str"),
    pytest.param(lambda: Network([3, None, 1]), TypeError, r"layer_dims must be a sequence", id="layer-size-None"),
    pytest.param(lambda: Network(3), TypeError, r"layer_dims must be a sequence", id="layer_dims-int"),
    pytest.param(lambda: Network([3]), ValueError, r"layer_dims needs at least two sizes", id="layer_dims-too-short"),
    pytest.param(lambda: Network([]), ValueError, r"layer_dims needs at least two sizes", id="layer_dims-empty"),
    pytest.param(lambda: Network([3, 1], hidden="softmax"), ValueError, r"unknown hidden='softmax'.*relu", id="hidden"),
    pytest.param(lambda: Network([3, 1], output="softmax"), ValueError, r"unknown output='softmax'.*sigmoid", id="output"),
    pytest.param(lambda: Network([3, 1], init="uniform"), ValueError, r"unknown init='uniform'.*he", id="init"),
    pytest.param(lambda: Network([3, 1], init=True), ValueError, r"unknown init=True", id="init-bool"),
    pytest.param(lambda: Network([3, 1], backend="jax"), BackendError, r"unknown backend='jax'.*numpy", id="backend"),
    pytest.param(lambda: Network([3, 1], dtype="float16"), ValueError, r"dtype must be one of.*float16", id="dtype-float16"),
    pytest.param(lambda: Network([3, 1], dtype=np.int64), ValueError, r"dtype must be one of.*int64", id="dtype-int64"),
    pytest.param(lambda: Network([3, 1], dtype="double"), ValueError, r"dtype must be one of.*double", id="dtype-alias"),
    pytest.param(lambda: Network([3, 1], backend="array_api_strict", device="device9"), BackendError,
                 r"device1.*device='device9'", id="strict-device9"),
    pytest.param(lambda: Network([3, 1], backend="numpy", device="cuda"), BackendError,
                 r"CPU only.*device='cuda'", id="numpy-device-cuda"),
    pytest.param(lambda: Network([3, 1], backend="torch", device="abacus"), BackendError,
                 r"backend='torch' cannot use device='abacus'", id="torch-device-bogus"),
]

BAD_FIT = [
    pytest.param(lambda: fit(learning_rate=0), ValueError, r"learning_rate must be a positive", id="learning_rate-0"),
    pytest.param(lambda: fit(learning_rate=-0.1), ValueError, r"learning_rate must be a positive", id="learning_rate-negative"),
    pytest.param(lambda: fit(learning_rate=float("nan")), ValueError, r"learning_rate .*nan", id="learning_rate-nan"),
    pytest.param(lambda: fit(learning_rate=float("inf")), ValueError, r"learning_rate .*inf", id="learning_rate-inf"),
    pytest.param(lambda: fit(learning_rate="0.1"), TypeError, r"learning_rate must be a number", id="learning_rate-str"),
    pytest.param(lambda: fit(learning_rate=None), TypeError, r"learning_rate must be a number", id="learning_rate-None"),
    pytest.param(lambda: fit(num_iterations=2.5), TypeError, r"num_iterations must be an integer", id="num_iterations-2.5"),
    pytest.param(lambda: fit(num_iterations=100.0), TypeError, r"num_iterations must be an integer", id="num_iterations-float"),
    pytest.param(lambda: fit(num_iterations=True), TypeError, r"num_iterations must be an integer", id="num_iterations-bool"),
    pytest.param(lambda: fit(num_iterations=0), ValueError, r"num_iterations must be a positive integer", id="num_iterations-0"),
    pytest.param(lambda: fit(num_iterations=-5), ValueError, r"num_iterations must be a positive integer",
                 id="num_iterations-negative"),
    pytest.param(lambda: fit(record_every=0), ValueError, r"record_every must be a positive integer", id="record_every-0"),
    pytest.param(lambda: fit(checkpoint_every=10), ValueError, r"checkpoint_every needs checkpoint_path",
                 id="checkpoint_every-without-path"),
]


@pytest.mark.parametrize("call, error, message", BAD_DATA + BAD_NETWORK + BAD_FIT)
def test_bad_input_is_refused_with_its_name(call, error, message):
    if error is None:  # a control: extreme but valid input trains
        call()
        return
    with pytest.raises(error, match=message):
        call()


def test_numpy_integer_types_are_accepted():
    net = Network([np.int64(3), np.int32(2), 1], seed=1)
    history = net.fit(X, Y, learning_rate=np.float32(0.1), num_iterations=np.int64(3), record_every=np.int16(1))
    assert history.iterations == [0, 1, 2] and net.layer_dims == [3, 2, 1]


# ---------------------------------------------------------------- arrays of another device or library

def test_strict_array_on_the_wrong_device():
    xp = resolve_backend("array_api_strict", "device1").xp
    net = Network([3, 2, 1], backend="array_api_strict", device="device1")
    on_cpu = xp.asarray(X, device=xp.Device("CPU_DEVICE"))
    with pytest.raises(ValueError, match=r"X is on device .*CPU_DEVICE.* but the backend uses .*device1"):
        net.fit(on_cpu, Y)
    on_device2 = xp.asarray(Y, device=xp.Device("device2"))
    with pytest.raises(ValueError, match=r"Y is on device .*device2"):
        net.fit(xp.asarray(X, device=xp.Device("device1")), on_device2)
    with pytest.raises(ValueError, match=r"X is on device"):
        net.predict(on_cpu)


def test_the_suggested_device_works():
    """The wrong-device error suggests ``device=<the array's device>``; following it must work."""
    xp = resolve_backend("array_api_strict", "device1").xp
    on_device2 = xp.asarray(X, device=xp.Device("device2"))
    net = Network([3, 2, 1], backend="array_api_strict", device=on_device2.device)
    assert net.predict(on_device2).device == on_device2.device


def test_array_of_another_library():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"X is a torch array but the backend is 'numpy'"):
        Network([3, 2, 1]).fit(torch.asarray(X), Y)
    xp = resolve_backend("array_api_strict", "device1").xp
    with pytest.raises(TypeError, match=r"Y is a array_api_strict array but the backend is 'torch'"):
        Network([3, 2, 1], backend="torch").fit(X, xp.asarray(Y, device=xp.Device("device1")))
    with pytest.raises(TypeError, match=r"X is a torch array but the backend is 'array_api_strict'"):
        Network([3, 2, 1], backend="array_api_strict", device="device1").predict(torch.asarray(X))


def test_parameters_of_the_wrong_shape():
    good = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W2": np.ones((1, 2)), "b2": np.zeros((1, 1))}
    with pytest.raises(ValueError, match=r"parameters must be W1, b1, \.\.\., WL, bL"):
        Network.from_parameters({k: v for k, v in good.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"W2 has shape \(1, 3\)"):
        Network.from_parameters({**good, "W2": np.ones((1, 3))})
    with pytest.raises(ValueError, match=r"b1 \(3, 1\)"):
        Network.from_parameters({**good, "b1": np.zeros((3, 1))})


def test_accuracy_of_a_regression_network():
    net = Network([3, 1], output="identity")
    with pytest.raises(ValueError, match=r"accuracy needs output='sigmoid'"):
        net.accuracy(X, Y)


def test_course_activation_name():
    with pytest.raises(ValueError, match=r"activation=.*tanh"):
        course.linear_activation_forward(X, np.ones((1, 3)), np.zeros((1, 1)), "tanh")


# ---------------------------------------------------------------- diverging runs and missing GPUs

@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_diverging_run_raises(case):
    rng = np.random.RandomState(1)
    X_reg, Y_reg = rng.randn(3, 20), rng.randn(1, 20)
    net = Network([3, 5, 1], hidden="tanh", output="identity", seed=0,
                  backend=case.backend.name, device=case.backend.device, dtype=case.dtype)
    with pytest.raises(FloatingPointError, match=r"diverged.*smaller learning_rate than 100") as caught:
        net.fit(X_reg, Y_reg, learning_rate=100.0, num_iterations=5000, record_every=10)
    assert "iteration" in str(caught.value)
    assert net.iterations_trained == 0  # the network keeps its last good state


def test_cupy_without_a_gpu():
    try:
        resolve_backend("cupy")
    except BackendError as exc:
        message = str(exc)
    else:
        pytest.skip("CuPy and a GPU are usable here")
    assert isinstance(BackendError("x"), ValueError)
    assert "cupy" in message and ("not installed" in message or "not usable" in message)
    assert "backend='numpy'" in message
    with pytest.raises(BackendError, match=r"backend='cupy'"):
        Network([3, 1], backend="cupy")
    with pytest.raises(ValueError, match=r"backend='cupy'"):  # a BackendError is a ValueError
        Network([3, 1], backend="cupy", device=0)
    assert resolve_backend("auto").name == "numpy"


def test_torch_cuda_without_a_gpu():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA GPU here")
    with pytest.raises(BackendError, match=r"backend='torch' cannot use device 'cuda:0'.*device='cpu'"):
        Network([3, 1], backend="torch", device="cuda")
