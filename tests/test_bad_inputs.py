"""Every bad input raises the right exception with a message that names the argument."""

from __future__ import annotations

import re
import types

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


def bad(name, error, message, call):
    """A table row: ``call()`` must raise ``error`` with a message matching ``message``."""
    return pytest.param(call, error, message, id=name)


BAD_DATA = [
    bad("X-rows-vs-layer_dims", ValueError, r"X has 3 rows .*layer_dims", lambda: fit(layer_dims=(4, 2, 1))),
    bad("Y-columns-vs-X", ValueError, r"Y has 4 examples .* X has 5", lambda: fit(Y=Y[:, :4])),
    bad("Y-rows-vs-layer_dims", ValueError, r"Y has 2 rows .*layer_dims", lambda: fit(Y=np.vstack([Y, Y]))),
    bad("X-1d", ValueError, r"X must be 2-D.*got shape \(5,\)", lambda: fit(X=X[0], layer_dims=(1, 1))),
    bad("Y-1d", ValueError, r"Y must be 2-D.*got shape \(5,\)", lambda: fit(Y=Y[0])),
    bad("X-3d", ValueError, r"X must be 2-D.*\(3, 5, 1\)", lambda: fit(X=X[..., None])),
    bad("X-nan", ValueError, r"X contains NaN or Inf", lambda: fit(X=_with(X, (1, 2), np.nan))),
    bad("X-inf", ValueError, r"X contains NaN or Inf", lambda: fit(X=_with(X, (0, 0), np.inf))),
    bad("X-minus-inf", ValueError, r"X contains NaN or Inf", lambda: fit(X=_with(X, (0, 0), -np.inf))),
    bad("control-X-large-but-valid", None, None, lambda: fit(X=X * 1e6)),
    bad("Y-nan", ValueError, r"Y contains NaN or Inf", lambda: fit(Y=_with(Y, (0, 1), np.nan))),
    bad("Y-inf", ValueError, r"Y contains NaN or Inf", lambda: fit(Y=_with(Y, (0, 1), np.inf))),
    bad("Y-label-2", ValueError, r"Y must hold labels 0 or 1", lambda: fit(Y=_with(Y, (0, 1), 2.0))),
    bad("Y-label-half", ValueError, r"Y must hold labels 0 or 1", lambda: fit(Y=_with(Y, (0, 1), 0.5))),
    bad("Y-label-minus-1", ValueError, r"Y must hold labels 0 or 1", lambda: fit(Y=_with(Y, (0, 1), -1.0))),
    bad("empty-m0", ValueError, r"X is empty", lambda: fit(X=np.zeros((3, 0)), Y=np.zeros((1, 0)))),
    bad("Y-empty", ValueError, r"Y is empty", lambda: fit(Y=np.zeros((1, 0)))),
    bad("X-string", TypeError, r"X must hold numbers; got dtype <U", lambda: fit(X="not an array")),
    bad("predict-X-rows", ValueError, r"X has 4 rows", lambda: trained().predict(np.ones((4, 5)))),
    bad("predict_proba-X-1d", ValueError, r"X must be 2-D", lambda: trained().predict_proba(np.ones(3))),
    bad("accuracy-Y-columns", ValueError, r"Y has 3 examples", lambda: trained().accuracy(X, Y[:, :3])),
    bad("accuracy-Y-labels", ValueError, r"Y must hold labels 0 or 1", lambda: trained().accuracy(X, Y * 3)),
    bad("cost-Y-1d", ValueError, r"Y must be 2-D", lambda: trained().cost(X, Y[0])),
    bad("cost-X-nan", ValueError, r"X contains NaN", lambda: trained().cost(_with(X, (2, 2), np.nan), Y)),
]

BAD_NETWORK = [
    bad("layer-size-0", ValueError, r"layer_dims must be positive integers", lambda: Network([3, 0, 1])),
    bad("layer-size-negative", ValueError, r"layer_dims must be positive integers", lambda: Network([3, -2, 1])),
    bad("layer-size-2.5", ValueError, r"layer_dims must be positive integers", lambda: Network([3, 2.5, 1])),
    bad("layer-size-str", ValueError, r"layer_dims must be positive integers", lambda: Network([3, "2", 1])),
    bad("layer-size-None", TypeError, r"layer_dims must be a sequence", lambda: Network([3, None, 1])),
    bad("layer_dims-int", TypeError, r"layer_dims must be a sequence", lambda: Network(3)),
    bad("layer_dims-too-short", ValueError, r"layer_dims needs at least two sizes", lambda: Network([3])),
    bad("layer_dims-empty", ValueError, r"layer_dims needs at least two sizes", lambda: Network([])),
    bad("hidden", ValueError, r"unknown hidden='softmax'.*relu", lambda: Network([3, 1], hidden="softmax")),
    bad("output", ValueError, r"unknown output='tanh'.*sigmoid.*softmax", lambda: Network([3, 1], output="tanh")),
    bad("output-softmax-1-unit", ValueError, r"output='softmax' needs at least 2 output units",
        lambda: Network([3, 1], output="softmax")),
    bad("init", ValueError, r"unknown init='uniform'.*he", lambda: Network([3, 1], init="uniform")),
    bad("init-bool", ValueError, r"unknown init=True", lambda: Network([3, 1], init=True)),
    bad("backend", BackendError, r"unknown backend='mxnet'.*numpy.*jax, dask",
        lambda: Network([3, 1], backend="mxnet")),
    bad("dtype-float16", ValueError, r"dtype must be one of.*float16", lambda: Network([3, 1], dtype="float16")),
    bad("dtype-int64", ValueError, r"dtype must be one of.*int64", lambda: Network([3, 1], dtype=np.int64)),
    bad("dtype-alias", ValueError, r"dtype must be one of.*double", lambda: Network([3, 1], dtype="double")),
    bad("strict-device9", BackendError, r"device1.*device='device9'",
        lambda: Network([3, 1], backend="array_api_strict", device="device9")),
    bad("numpy-device-cuda", BackendError, r"CPU only.*device='cuda'",
        lambda: Network([3, 1], backend="numpy", device="cuda")),
    bad("torch-device-bogus", BackendError, r"backend='torch' cannot use device='abacus'",
        lambda: Network([3, 1], backend="torch", device="abacus")),
    bad("jax-device-bogus", BackendError, r"backend='jax' has devices \['cpu:0'.*device='abacus'",
        lambda: Network([3, 1], backend="jax", device="abacus")),
    bad("jax-device-tpu", BackendError, r"backend='jax' has devices .*device='tpu:3'",
        lambda: Network([3, 1], backend="jax", device="tpu:3")),
    bad("dask-device-bogus", BackendError, r"backend='dask' takes device=None.*'tcp://host:8786'.*device='cuda'",
        lambda: Network([3, 1], backend="dask", device="cuda")),
    bad("strict-no-float64", BackendError, r"device 'no_float64' has no float64; use dtype='float32'",
        lambda: Network([3, 1], backend="array_api_strict", device="no_float64", dtype="float64")),
]

BAD_FIT = [
    bad("learning_rate-0", ValueError, r"learning_rate must be a positive", lambda: fit(learning_rate=0)),
    bad("learning_rate-negative", ValueError, r"learning_rate must be a positive", lambda: fit(learning_rate=-0.1)),
    bad("learning_rate-nan", ValueError, r"learning_rate .*nan", lambda: fit(learning_rate=float("nan"))),
    bad("learning_rate-inf", ValueError, r"learning_rate .*inf", lambda: fit(learning_rate=float("inf"))),
    bad("learning_rate-str", TypeError, r"learning_rate must be a number", lambda: fit(learning_rate="0.1")),
    bad("learning_rate-None", TypeError, r"learning_rate must be a number", lambda: fit(learning_rate=None)),
    bad("num_iterations-2.5", TypeError, r"num_iterations must be an integer", lambda: fit(num_iterations=2.5)),
    bad("num_iterations-float", TypeError, r"num_iterations must be an integer", lambda: fit(num_iterations=100.0)),
    bad("num_iterations-bool", TypeError, r"num_iterations must be an integer", lambda: fit(num_iterations=True)),
    bad("num_iterations-0", ValueError, r"num_iterations must be a positive integer",
        lambda: fit(num_iterations=0)),
    bad("num_iterations-negative", ValueError, r"num_iterations must be a positive integer",
        lambda: fit(num_iterations=-5)),
    bad("record_every-0", ValueError, r"record_every must be a positive integer", lambda: fit(record_every=0)),
    bad("checkpoint_every-without-path", ValueError, r"checkpoint_every needs checkpoint_path",
        lambda: fit(checkpoint_every=10)),
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


def test_torch_tensor_on_another_device():
    torch = pytest.importorskip("torch")
    net = Network([3, 2, 1], backend="torch", device="cpu")
    with pytest.raises(ValueError, match=r"X is on device device\(type='meta'\) but the backend uses"):
        net.fit(torch.empty((3, 5), dtype=torch.float64, device="meta"), Y)


def test_the_suggested_device_works():
    """The wrong-device error suggests ``device=<the array's device>``; following it must work."""
    xp = resolve_backend("array_api_strict", "device1").xp
    on_device2 = xp.asarray(X, device=xp.Device("device2"))
    net = Network([3, 2, 1], backend="array_api_strict", device=on_device2.device)
    assert net.predict(on_device2).device == on_device2.device


def test_array_of_another_library():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"X is a torch array but the network's backend is 'numpy'; "
                                        r"use backend='torch', or convert it yourself, e.g. np.asarray\(X\)"):
        Network([3, 2, 1]).fit(torch.asarray(X), Y)
    xp = resolve_backend("array_api_strict", "device1").xp
    with pytest.raises(TypeError, match=r"Y is a array_api_strict array but the network's backend is 'torch'"):
        Network([3, 2, 1], backend="torch").fit(X, xp.asarray(Y, device=xp.Device("device1")))
    with pytest.raises(TypeError, match=r"X is a torch array but the network's backend is 'array_api_strict'"):
        Network([3, 2, 1], backend="array_api_strict", device="device1").predict(torch.asarray(X))


def test_jax_and_dask_arrays_are_never_converted_silently():
    """Once silently ``np.asarray``-ed (for dask that computes the whole array); now a TypeError."""
    torch = pytest.importorskip("torch")
    jnp = resolve_backend("jax").xp
    da = pytest.importorskip("dask.array")
    cases = [
        ("numpy", lambda net: net.fit(jnp.asarray(X), Y), "X", "jax"),
        ("numpy", lambda net: net.fit(X, da.from_array(Y)), "Y", "dask"),
        ("numpy", lambda net: net.predict(da.from_array(X)), "X", "dask"),
        ("torch", lambda net: net.fit(jnp.asarray(X), Y), "X", "jax"),
        ("jax", lambda net: net.fit(torch.asarray(X), Y), "X", "torch"),
        ("dask", lambda net: net.cost(X, jnp.asarray(Y)), "Y", "jax"),
    ]
    for backend, call, name, library in cases:
        with pytest.raises(TypeError, match=rf"{name} is a {library} array but the network's backend is "
                                            rf"'{backend}'; use backend='{library}', or convert it yourself"):
            call(Network([3, 2, 1], backend=backend, device="threads" if backend == "dask" else None))


class _ForeignArray:
    """An array of a library dnn_xp has no backend for, as array-api-compat sees it."""

    shape = (3, 5)

    def __array_namespace__(self, api_version=None):
        return types.ModuleType("otherlib.array_api")


def test_array_of_a_library_without_a_backend():
    with pytest.raises(TypeError, match=r"X is a otherlib array but the network's backend is 'numpy'; "
                                        r"convert it yourself, e.g. np.asarray\(X\)") as info:
        Network([3, 2, 1]).predict(_ForeignArray())
    assert "use backend=" not in str(info.value)


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
    kept = int(re.search(r"keeps its last finite weights, those of iteration (\d+)", str(caught.value)).group(1))
    assert net.iterations_trained == kept and kept % 10 == 0  # a recorded iteration, whose cost was finite
    assert all(np.isfinite(case.check(value)).all() for value in net.parameters.values())
    assert np.isfinite(net.cost(X_reg, Y_reg))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_divergence_in_the_last_update_is_caught(case):
    """``fit(num_iterations=1, learning_rate=1e306)``: the one update's result is checked after the loop."""
    net = Network([3, 2, 1], seed=1, backend=case.backend.name, device=case.backend.device, dtype=case.dtype)
    before = {name: case.check(value).copy() for name, value in net.parameters.items()}
    with pytest.raises(FloatingPointError, match=r"weights after the last update \(iteration 0\) are not finite"
                                                 r".*smaller learning_rate.*those of iteration 0"):
        net.fit(X * 1e4, Y, learning_rate=1e306 if case.dtype == "float64" else 1e36, num_iterations=1)
    assert net.iterations_trained == 0
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(case.check(value), before[name])


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


def test_huge_finite_inputs_pass_the_finite_check_silently(case):
    """Entries near the float maximum are finite: no false NaN/Inf error and no overflow warning."""
    from dnn_xp.validation import check_matrix

    big = np.finfo(case.dtype).max / 2
    check_matrix(case.asarray(np.full((3, 5), big)), "X", xp=case.xp)
    with pytest.raises(ValueError, match="X contains NaN or Inf"):
        check_matrix(case.asarray(_with(np.full((3, 5), big), (2, 4), np.nan)), "X", xp=case.xp)


def test_fit_checks_the_values_of_X_and_Y_in_one_read_and_names_what_is_wrong(case, monkeypatch):
    """Valid data: one compiled flag covers X and Y (the checks that name a problem do not run); bad data on
    every backend: the flag fails and the error names the array and the problem."""
    import dnn_xp.network as network

    naming_checks = []
    for name in ("check_finite", "check_labels"):
        real = getattr(network, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            if _name == "check_finite" or (len(args) > 4 and args[4] is not None):
                naming_checks.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(network, name, spy)
    net = Network([3, 2, 1], seed=1, backend=case.backend.name, device=case.backend.device, dtype=case.dtype)
    net.fit(X, Y, learning_rate=0.1, num_iterations=2)
    assert naming_checks == []
    with pytest.raises(ValueError, match="X contains NaN or Inf"):
        net.fit(_with(X, (1, 2), np.nan), Y, num_iterations=2)
    with pytest.raises(ValueError, match="Y must hold labels 0 or 1"):
        net.fit(X, _with(Y, (0, 1), 2.0), num_iterations=2)
    with pytest.raises(ValueError, match="Y contains NaN or Inf"):
        net.fit(X, _with(Y, (0, 1), np.inf), num_iterations=2)
    assert naming_checks[0] == "check_finite" and "check_labels" in naming_checks
