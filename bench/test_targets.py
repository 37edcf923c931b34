"""The core's speed and memory targets, each measured side by side in this process.

Group ``targets``; each entry records in ``extra_info`` the two sides' times (min and median over
calls in alternating blocks, the same statistic on both sides) and their ratio against the target:

- cat shape: one iteration of the vectorized NumPy core <= 1.10 x the matrix products it needs;
- planar shape (overhead-bound): <= 1.2 x a minimal hand-written NumPy step of the same math;
- cat and planar shapes: faster than PyTorch eager on the same CPU (ratio < 1);
- cat shape: peak memory added by ``Network.fit`` < half of ``X.nbytes`` (tracemalloc).
"""

from __future__ import annotations

import numpy as np
import pytest

import workloads
from dnn_xp import Network

DTYPES = ["float64", "float32"]


def _blocks(smoke):
    """Blocks of calls per side for ``workloads.paired``: 6 of about half a second (one short one in smoke runs)."""
    return {"blocks": 1, "block_seconds": 0.0} if smoke else {"blocks": 6, "block_seconds": 0.5}


def _numpy_problem(shape, dtype):
    return workloads.make_problem(shape, workloads.resolve("numpy"), dtype)


def _label(benchmark, text):
    benchmark.group = "targets"
    benchmark.extra_info["case"] = text


@pytest.mark.parametrize("dtype", DTYPES)
def test_cat_step_vs_its_matmuls(benchmark, shapes, smoke, dtype):
    _label(benchmark, f"cat-{dtype}: step / matmuls")
    problem = _numpy_problem(shapes["cat"], dtype)
    workloads.paired(benchmark, workloads.vectorized(problem), workloads.matmuls(problem),
                     **_blocks(smoke), names=("step", "matmuls"), target=1.10,
                     what=f"cat {dtype}: one vectorized iteration / its matrix products alone")


@pytest.mark.parametrize("dtype", DTYPES)
def test_planar_step_vs_handwritten_numpy(benchmark, shapes, smoke, dtype):
    _label(benchmark, f"planar-{dtype}: step / hand-written NumPy step")
    problem = _numpy_problem(shapes["planar"], dtype)
    lr = problem.shape.learning_rate
    layers = [(np.asarray(W), np.asarray(b)) for W, b in problem.layers]
    X, Y = np.asarray(problem.X), np.asarray(problem.Y)
    step, by_hand = workloads.vectorized(problem), workloads.handwritten(layers, X, Y, lr)
    for _ in range(3):
        for (W, b), (eW, eb) in zip(by_hand(), step()):
            assert W.dtype == eW.dtype
            np.testing.assert_array_equal(W, np.asarray(eW))
            np.testing.assert_array_equal(b, np.asarray(eb))
    workloads.paired(benchmark, step, by_hand,
                     **_blocks(smoke), names=("step", "hand-written"), target=1.2,
                     what=f"planar {dtype}: one vectorized iteration / a hand-written NumPy step")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape_name", ["cat", "planar"])
def test_faster_than_torch_eager(benchmark, shapes, smoke, shape_name, dtype):
    _label(benchmark, f"{shape_name}-{dtype}: step / torch eager step")
    workloads.resolve("torch", "cpu")
    problem = _numpy_problem(shapes[shape_name], dtype)
    peer = workloads.TorchEager(problem, "cpu")
    workloads.paired(benchmark, workloads.vectorized(problem), peer.step,
                     **_blocks(smoke), names=("step", "torch eager"),
                     target=1.0, what=f"{shape_name} {dtype}: one vectorized iteration / one PyTorch eager "
                                      f"iteration (CPU)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_allocates_nothing_the_size_of_X(benchmark, shapes, smoke, dtype):
    """``fit`` on cat-shaped data (X already in the training dtype): tracemalloc peak < X.nbytes / 2."""
    _label(benchmark, f"cat-{dtype}: fit peak memory / X.nbytes")
    shape = shapes["cat"]
    _, X, Y = workloads.host_problem(shape)
    X, Y = X.astype(dtype), Y.astype(dtype)
    net = Network(shape.dims, hidden=shape.hidden, init=shape.init, seed=1, dtype=dtype)
    fit = lambda: net.fit(X, Y, learning_rate=shape.learning_rate, num_iterations=4, record_every=2,  # noqa: E731
                          progress=False)
    peaks = []
    benchmark.pedantic(lambda: peaks.append(workloads.traced_peak(fit)), rounds=1, iterations=1)
    ratio = peaks[0] / X.nbytes
    benchmark.extra_info["ratio"] = {
        "what": f"cat {dtype}: peak memory added by Network.fit (tracemalloc) / X.nbytes",
        "numerator": "fit peak bytes", "denominator": "X.nbytes",
        "fit peak bytes": peaks[0], "X.nbytes": X.nbytes,
        "ratio_min": ratio, "ratio_median": ratio, "target": 0.5,
    }
    if not smoke:
        assert ratio < 0.5, f"fit allocated {peaks[0]} bytes at its peak; X is {X.nbytes} bytes"
