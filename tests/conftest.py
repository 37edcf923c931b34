"""Shared fixtures: the namespace x device x dtype matrix and the course's cat data."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dnn_xp.backend import Backend, BackendError, backend_of, resolve_backend, to_numpy

# scikit-learn's array_api_dispatch (tests/test_sklearn.py) needs SciPy's array API mode,
# which SciPy reads once when first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

REPO = Path(__file__).resolve().parents[1]
CAT_DIR = Path(os.environ.get("DNN_XP_CAT_DIR", REPO.parent / "shared" / "datasets" / "catvnoncat"))


@dataclass(frozen=True)
class Case:
    """One point of the test matrix: a resolved backend and a float dtype name."""

    backend: Backend
    dtype: str
    chunks: int | None = None  # dask: each array split into this many chunks along its columns

    @property
    def xp(self):
        return self.backend.xp

    def asarray(self, host):
        array = self.backend.asarray(np.asarray(host), self.backend.dtype(self.dtype))
        if self.chunks is None or array.ndim != 2:
            return array
        return array.rechunk((-1, -(-array.shape[1] // self.chunks)))

    def check(self, array):
        """Assert ``array`` lives on this case's backend, device and dtype; return a NumPy copy."""
        assert self.backend.owns(array), f"{type(array)} is not a {self.backend.name} array"
        assert array.dtype == self.backend.dtype(self.dtype), f"dtype {array.dtype}, expected {self.dtype}"
        where = backend_of(array).device
        if where is not None:  # compared as the backend names devices (CuPy: an int id); dask's are not tied
            assert where == self.backend.device, f"on device {where!r}, expected {self.backend.device!r}"
        return to_numpy(array)

    def skip_long_runs(self):
        """Skip a test of hundreds of training steps on dask, which builds its task graph at about
        a millisecond per operation: minutes there. dask's trajectories are pinned over 20 steps
        in tests/test_training.py, and its other results by the rest of the matrix."""
        if self.backend.name == "dask":
            pytest.skip("hundreds of steps take minutes on dask; see tests/test_training.py for its trajectories")

    @property
    def rtol(self):
        return 1e-10 if self.dtype == "float64" else 2e-4


def _case(name, device, dtype, gpu=False, api_version=None, chunks=None):
    """A matrix point; ``api_version`` runs array_api_strict under that standard version."""
    label = {"array_api_strict": "strict"}.get(name, name)
    parts = (label, api_version, device, f"{chunks}chunks" if chunks else None, dtype)
    ident = "-".join(str(part) for part in parts if part is not None)
    return pytest.param((name, device, dtype, api_version, chunks), id=ident,
                        marks=[pytest.mark.gpu] if gpu else [])


CASES = [
    _case("numpy", None, "float64"),
    _case("numpy", None, "float32"),
    _case("array_api_strict", "device1", "float64"),
    _case("array_api_strict", "device1", "float32"),
    _case("array_api_strict", "device1", "float64", api_version="2023.12"),
    _case("array_api_strict", "no_float64", "float32"),
    _case("torch", "cpu", "float64"),
    _case("torch", "cpu", "float32"),
    _case("jax", "cpu", "float64"),
    _case("jax", "cpu", "float32"),
    _case("dask", "threads", "float64", chunks=3),
    _case("cupy", 0, "float64", gpu=True),
    _case("cupy", 0, "float32", gpu=True),
    _case("torch", "cuda", "float64", gpu=True),
    _case("torch", "cuda", "float32", gpu=True),
]


def pytest_configure(config):
    # The test matrices are tiny: torch's intra-op CPU threads only spin against each
    # other (and against any other process on a 2-core runner), which made a 300-step
    # fit 40x slower. One thread keeps the torch-cpu cases as fast as NumPy's.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def make_case(name, device, dtype, chunks=None) -> Case:
    try:
        return Case(resolve_backend(name, device), dtype, chunks)
    except BackendError as exc:
        pytest.skip(f"{name} on {device} is not usable here: {exc}")


def strict_api_version(version):
    """A context running array_api_strict under the standard's ``version`` (None: its default)."""
    if version is None:
        return contextlib.nullcontext()
    import array_api_strict

    return array_api_strict.ArrayAPIStrictFlags(api_version=version)


@pytest.fixture(params=CASES)
def case(request) -> Case:
    name, device, dtype, api_version, chunks = request.param
    with strict_api_version(api_version):
        yield make_case(name, device, dtype, chunks)


@pytest.fixture(scope="session")
def cat_data():
    if not (CAT_DIR / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the course's cat data is not at {CAT_DIR} (set DNN_XP_CAT_DIR to its folder)")
    from dnn_xp.datasets import load_cat

    return load_cat(CAT_DIR)
