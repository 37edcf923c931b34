"""Shared fixtures: the namespace x device x dtype matrix and the course's cat data."""

from __future__ import annotations

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

    @property
    def xp(self):
        return self.backend.xp

    def asarray(self, host):
        return self.backend.asarray(np.asarray(host), self.backend.dtype(self.dtype))

    def check(self, array):
        """Assert ``array`` lives on this case's backend, device and dtype; return a NumPy copy."""
        assert self.backend.owns(array), f"{type(array)} is not a {self.backend.name} array"
        assert array.dtype == self.backend.dtype(self.dtype), f"dtype {array.dtype}, expected {self.dtype}"
        if self.backend.device is not None:  # compared as the backend names devices (CuPy: an int id)
            where = backend_of(array).device
            assert where == self.backend.device, f"on device {where!r}, expected {self.backend.device!r}"
        return to_numpy(array)

    @property
    def rtol(self):
        return 1e-10 if self.dtype == "float64" else 2e-4


def _case(name, device, dtype, gpu=False):
    label = {"array_api_strict": "strict"}.get(name, name)
    ident = "-".join(str(part) for part in (label, device, dtype) if part is not None)
    return pytest.param((name, device, dtype), id=ident, marks=[pytest.mark.gpu] if gpu else [])


CASES = [
    _case("numpy", None, "float64"),
    _case("numpy", None, "float32"),
    _case("array_api_strict", "device1", "float64"),
    _case("array_api_strict", "device1", "float32"),
    _case("torch", "cpu", "float64"),
    _case("torch", "cpu", "float32"),
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


def make_case(name, device, dtype) -> Case:
    try:
        return Case(resolve_backend(name, device), dtype)
    except BackendError as exc:
        pytest.skip(f"{name} on {device} is not usable here: {exc}")


@pytest.fixture(params=CASES)
def case(request) -> Case:
    return make_case(*request.param)


@pytest.fixture(scope="session")
def cat_data():
    if not (CAT_DIR / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the course's cat data is not at {CAT_DIR} (set DNN_XP_CAT_DIR to its folder)")
    from dnn_xp.datasets import load_cat

    return load_cat(CAT_DIR)
