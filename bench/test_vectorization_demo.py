"""The course's vectorization demo: the dot product of two vectors of 1,000,000 elements.

Group ``vectorization-demo``: one namespace call (``xp.vecdot``) on each backend against the course's
explicit Python loop over the NumPy elements (``for i in range(n): c += a[i] * b[i]``).
"""

from __future__ import annotations

import numpy as np
import pytest

import workloads
from dnn_xp.backend import to_numpy

WHERE = [
    pytest.param("numpy", None, id="xp-vecdot-numpy"),
    pytest.param("torch", "cpu", id="xp-vecdot-torch-cpu"),
    pytest.param("cupy", 0, id="xp-vecdot-cupy", marks=pytest.mark.gpu),
    pytest.param("torch", "cuda", id="xp-vecdot-torch-cuda", marks=pytest.mark.gpu),
]


def _vectors(smoke):
    rng = np.random.RandomState(0)
    n = workloads.SMOKE_DEMO_N if smoke else workloads.DEMO_N
    return rng.rand(n), rng.rand(n)


def _loop_dot(a, b):
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


@pytest.mark.parametrize("where, device", WHERE)
def test_vectorized_dot(benchmark, request, smoke, where, device):
    a, b = _vectors(smoke)
    backend = workloads.resolve(where, device)
    xa, xb = backend.asarray(a), backend.asarray(b)
    xp, sync = backend.xp, workloads.synchronizer(backend)

    def dot():
        c = xp.vecdot(xa, xb)
        sync()
        return c

    benchmark.group = "vectorization-demo"
    benchmark.extra_info.update(case=request.node.callspec.id, n=a.size)
    result = workloads.measure(benchmark, dot)
    assert float(to_numpy(result)) == pytest.approx(float(np.dot(a, b)), rel=1e-12)


def test_python_loop_dot(benchmark, smoke):
    a, b = _vectors(smoke)
    benchmark.group = "vectorization-demo"
    benchmark.extra_info.update(case="python-loop-numpy", n=a.size)
    result = workloads.measure(benchmark, lambda: _loop_dot(a, b))
    assert result == pytest.approx(float(np.dot(a, b)), rel=1e-12)
