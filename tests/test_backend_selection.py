"""Choosing a backend: "auto", the DNN_XP_BACKEND default, and errors instead of silent fallbacks.

The no-GPU situations are made explicit (CuPy missing, or installed with no usable
device), so these tests assert the same thing on a laptop and on a GPU machine.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from dnn_xp import BackendError, Network
from dnn_xp.backend import ENV_VAR, describe_backends, gpu_info, resolve_backend


def _cupy_without_device() -> types.ModuleType:
    """A stand-in for CuPy installed on a machine whose driver sees no GPU."""

    def no_device(*_):
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    cupy = types.ModuleType("cupy")
    cupy.ndarray = type("ndarray", (), {})  # array_api_compat type-checks against it
    cupy.cuda = types.SimpleNamespace(Device=no_device, runtime=types.SimpleNamespace(getDeviceCount=no_device))
    return cupy


class _NoCuPy:
    """An import hook that makes ``import cupy`` fail as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "cupy":
            raise ModuleNotFoundError("No module named 'cupy'", name=name)


@pytest.fixture(params=["cupy-missing", "cupy-no-device"])
def no_gpu(request, monkeypatch):
    """CuPy either not installed or installed on a machine without a usable GPU."""
    for name in [name for name in sys.modules if name.partition(".")[0] == "cupy"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delenv(ENV_VAR, raising=False)
    if request.param == "cupy-no-device":
        monkeypatch.setitem(sys.modules, "cupy", _cupy_without_device())
        yield request.param
        return
    # The hook goes into sys.meta_path itself, not into a copy put back afterwards: importing
    # jax or dask may append a finder there (importlib_metadata's, which disables the standard
    # one), and restoring the old list would then hide every installed distribution.
    hook = _NoCuPy()
    sys.meta_path.insert(0, hook)
    try:
        yield request.param
    finally:
        sys.meta_path.remove(hook)


def test_auto_picks_numpy_without_a_gpu(no_gpu):
    net = Network([2, 3, 1], backend="auto")
    assert (resolve_backend("auto").name, net.backend.name, repr(net.backend)) == ("numpy", "numpy", "Backend('numpy')")
    assert isinstance(net.parameters["W1"], np.ndarray)


@pytest.mark.gpu
def test_auto_picks_cupy_when_a_gpu_is_usable():
    try:
        resolve_backend("cupy")
    except BackendError as exc:
        pytest.skip(f"no usable GPU for CuPy: {exc}")
    assert resolve_backend("auto").name == "cupy"


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_explicit_cupy_without_a_gpu_raises(no_gpu, how, monkeypatch):
    if how == "environment":
        monkeypatch.setenv(ENV_VAR, "cupy")
    backend = "cupy" if how == "argument" else None
    with pytest.raises(BackendError) as resolving:
        resolve_backend(backend)
    with pytest.raises(ValueError) as building:
        Network([2, 3, 1], backend=backend)
    for message in (str(resolving.value), str(building.value)):
        assert ("not installed" if no_gpu == "cupy-missing" else "not usable") in message
        assert "backend='numpy'" in message


def test_environment_sets_the_default_backend(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv(ENV_VAR, "torch")
    net = Network([2, 3, 1])
    assert (resolve_backend().name, net.backend.name, type(net.parameters["W1"]).__module__) == ("torch", "torch", "torch")
    assert Network([2, 3, 1], backend="numpy").backend.name == "numpy"


def test_default_backend_is_numpy(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert (resolve_backend().name, Network([2, 3, 1]).backend.name) == ("numpy", "numpy")


def test_describe_backends_lists_all_six(no_gpu):
    rows = {row["backend"]: row for row in describe_backends()}
    assert list(rows) == ["numpy", "cupy", "torch", "array_api_strict", "jax", "dask"]
    assert all(isinstance(row["installed"], bool) and isinstance(row["usable"], bool) for row in rows.values())
    assert (rows["numpy"]["installed"], rows["numpy"]["usable"], rows["numpy"]["devices"]) == (True, True, ["cpu"])
    cupy = rows["cupy"]
    assert (cupy["installed"], cupy["usable"]) == (no_gpu == "cupy-no-device", False)
    assert cupy["reason"]
    for name in ("torch", "array_api_strict", "jax", "dask"):
        assert (rows[name]["installed"], rows[name]["usable"]) == (True, True), rows[name]["reason"]
    assert "cpu:0" in rows["jax"]["devices"] and rows["dask"]["devices"] == ["local-cluster", "threads", "sync"]
    assert rows["array_api_strict"]["float32_only"] == ["no_float64", "no_x64"]
    assert rows["numpy"]["float32_only"] == rows["jax"]["float32_only"] == []


@pytest.mark.parametrize("backend", ["jax", "dask"])
def test_cli_trains_on_jax_and_dask_like_on_numpy(capsys, backend, monkeypatch):
    """dask on its local threaded scheduler here; tests/test_dask_cluster.py trains the CLI on a cluster."""
    from dnn_xp.cli import main

    monkeypatch.delenv(ENV_VAR, raising=False)
    argv = ["train", "--quiet", "--iterations", "30", "--record-every", "10"]
    assert main(argv + ["--backend", "numpy"]) == 0
    expected = capsys.readouterr().out.splitlines()
    assert main(argv + ["--backend", backend] + (["--device", "threads"] if backend == "dask" else [])) == 0
    found = capsys.readouterr().out.splitlines()
    assert found == expected and found[0].startswith("train accuracy: ")


def test_gpu_info_is_none_without_a_gpu(no_gpu):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a CUDA GPU here")
    assert gpu_info() is None


@pytest.mark.gpu
def test_gpu_info_names_the_usable_gpu():
    info = gpu_info()
    if info is None:
        pytest.skip("no usable GPU for CuPy or torch")
    assert info["seen_by"] in ("cupy", "torch") and info["name"].strip()
    assert re.fullmatch(r"\d+\.\d+", info["cuda_runtime"])
    if Path("/proc/driver/nvidia/version").is_file():
        assert re.fullmatch(r"\d+(\.\d+)+", info["driver"])
