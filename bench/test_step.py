"""One training iteration on the course's shapes and a larger one: vectorized vs loops vs PyTorch eager.

Groups ``step-<shape>``; case ids ``<shape>-<implementation>-<where>-<dtype>``. Implementations:
``vectorized`` (``core.train_step``), ``per-example`` and ``scalar`` (:mod:`dnn_xp.loops`) and the peer
``torch-eager`` (autograd + ``torch.optim.SGD`` on the same weights). GPU cases skip without a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

import workloads
from dnn_xp import core
from dnn_xp.activations import get_activation
from dnn_xp.backend import resolve_backend
from dnn_xp.losses import get_output

# where -> (backend name, device, needs a GPU)
WHERE = {
    "numpy": ("numpy", None, False),
    "torch-cpu": ("torch", "cpu", False),
    "cupy": ("cupy", 0, True),
    "torch-cuda": ("torch", "cuda", True),
}
# Cases that take seconds per call run this many single rounds instead of pytest-benchmark's calibration.
SLOW_ROUNDS = {("large", "per-example", "numpy"): 1, ("cat", "scalar", "python"): 1,
               ("two-layer", "scalar", "python"): 2}


def _case(shape, impl, where, dtype, gpu=False):
    marks = [pytest.mark.gpu] if gpu else []
    return pytest.param(shape, impl, where, dtype, id=f"{shape}-{impl}-{where}-{dtype}", marks=marks)


def _cases():
    cases = []
    for shape in workloads.SHAPES:
        for where, (_, _, gpu) in WHERE.items():
            cases += [_case(shape, "vectorized", where, dtype, gpu) for dtype in ("float64", "float32")]
        for where, (_, _, gpu) in WHERE.items():
            if not (shape == "large" and where == "torch-cpu"):  # minutes per call; numpy's row shows the loop
                cases.append(_case(shape, "per-example", where, "float64", gpu))
        if shape != "large":
            cases.append(_case(shape, "scalar", "python", "float64"))
        cases += [_case(shape, "torch-eager", "cpu", dtype) for dtype in ("float64", "float32")]
        cases += [_case(shape, "torch-eager", "cuda", dtype, gpu=True) for dtype in ("float64", "float32")]
    return cases


def _peer(problem, device):
    """PyTorch eager on the same weights; in float64 its first step is checked against the core's."""
    workloads.resolve("torch", device)
    peer = workloads.TorchEager(problem, device)
    if problem.dtype == "float64":
        shape = problem.shape
        expected, _ = core.train_step(problem.host_layers, problem.host_X, problem.host_Y, shape.learning_rate,
                                      get_activation(shape.hidden), get_output("sigmoid"),
                                      resolve_backend("numpy").xp)
        peer.step()
        for (W, b), (eW, eb) in zip(peer.layers(), expected):
            np.testing.assert_allclose(W, eW, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(b, eb, rtol=1e-9, atol=1e-12)
    return peer.step


@pytest.mark.parametrize("shape_name, impl, where, dtype", _cases())
def test_step(benchmark, shapes, shape_name, impl, where, dtype):
    shape = shapes[shape_name]
    benchmark.group = f"step-{shape_name}"
    benchmark.extra_info.update(case=f"{impl}-{where}-{dtype}", layer_dims=shape.dims, m=shape.m)
    if impl == "scalar":
        step = workloads.scalar(workloads.make_problem(shape, None))
    elif impl == "torch-eager":
        step = _peer(workloads.make_problem(shape, None, dtype), where)
    else:
        name, device, _ = WHERE[where]
        problem = workloads.make_problem(shape, workloads.resolve(name, device), dtype)
        step = {"vectorized": workloads.vectorized, "per-example": workloads.per_example}[impl](problem)
    workloads.measure(benchmark, step, rounds=SLOW_ROUNDS.get((shape_name, impl, where)))
