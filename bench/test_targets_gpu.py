"""The GPU targets, each measured side by side in this process (marked ``gpu``; skipped without one).

- ``[4096, 4096, 4096, 1]``, m=16384, float32: one CuPy training iteration <= 1.25 x its own
  cuBLAS matrix products;
- cat shape (launch-bound): the CuPy step no slower than PyTorch eager CUDA on the same weights.

- cat and planar shapes: ``Network.fit`` on CuPy with its steps replayed as CUDA graphs no slower
  than the same fit with ``DNN_XP_CUDA_GRAPHS=0`` (every step eager); the ratio is the speed-up.

Both sides wait for the device after every call (a fit reads its last cost).
"""

from __future__ import annotations

import os

import pytest

import workloads
from dnn_xp import Network
from dnn_xp.backend import CUDA_GRAPHS_ENV

pytestmark = pytest.mark.gpu


def _blocks(smoke):
    return {"blocks": 1, "block_seconds": 0.0} if smoke else {"blocks": 6, "block_seconds": 0.5}


def _label(benchmark, text):
    benchmark.group = "targets"
    benchmark.extra_info["case"] = text


def test_large_cupy_step_vs_its_cublas_products(benchmark, smoke):
    _label(benchmark, "gpu-large-float32: cupy step / its matmuls")
    shape = workloads.SMOKE_GPU_LARGE if smoke else workloads.GPU_LARGE
    problem = workloads.make_problem(shape, workloads.resolve("cupy", 0), "float32")
    workloads.paired(benchmark, workloads.vectorized(problem), workloads.matmuls(problem),
                     **_blocks(smoke), names=("step", "matmuls"), target=1.25,
                     what=f"{shape.dims}, m={shape.m} float32: one CuPy iteration / its cuBLAS products")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cat_cupy_step_vs_torch_eager_cuda(benchmark, shapes, smoke, dtype):
    _label(benchmark, f"cat-{dtype}: cupy step / torch eager cuda step")
    workloads.resolve("torch", "cuda")
    problem = workloads.make_problem(shapes["cat"], workloads.resolve("cupy", 0), dtype)
    peer = workloads.TorchEager(problem, "cuda")
    workloads.paired(benchmark, workloads.vectorized(problem), peer.step,
                     **_blocks(smoke), names=("step", "torch eager cuda"), target=1.0,
                     what=f"cat {dtype}: one CuPy iteration / one PyTorch eager CUDA iteration")


# shape -> (iterations per fit, record_every)
GRAPH_FITS = {"cat": (200, 100), "planar": (1000, 100)}


def _fit(problem, iterations, record_every, graphs: bool):
    shape = problem.shape
    net = Network(shape.dims, hidden=shape.hidden, init=shape.init, seed=1, backend="cupy", dtype=problem.dtype)

    def fit():
        saved = os.environ.get(CUDA_GRAPHS_ENV)
        os.environ[CUDA_GRAPHS_ENV] = "1" if graphs else "0"
        try:
            return net.fit(problem.X, problem.Y, learning_rate=shape.learning_rate, num_iterations=iterations,
                           record_every=record_every, progress=False)
        finally:
            if saved is None:
                del os.environ[CUDA_GRAPHS_ENV]
            else:
                os.environ[CUDA_GRAPHS_ENV] = saved

    return fit


@pytest.mark.filterwarnings("ignore::dnn_xp.TrainingWarning")  # planar's long fits may stall: no failure here
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape_name", list(GRAPH_FITS))
def test_fit_with_cuda_graphs_vs_eager_steps(benchmark, shapes, smoke, shape_name, dtype):
    _label(benchmark, f"{shape_name}-{dtype}: cupy fit with CUDA graphs / eager steps")
    iterations, record_every = (20, 10) if smoke else GRAPH_FITS[shape_name]
    problem = workloads.make_problem(shapes[shape_name], workloads.resolve("cupy", 0), dtype)
    graphed, eager = (_fit(problem, iterations, record_every, graphs) for graphs in (True, False))
    workloads.paired(benchmark, graphed, eager, **_blocks(smoke), names=("graphs", "eager"), target=1.0,
                     what=f"{shape_name} {dtype}: Network.fit(backend='cupy') with CUDA graphs / with "
                          f"{CUDA_GRAPHS_ENV}=0, {iterations} iterations per call, cost read every {record_every}")
    graphs = problem.backend._library._graphs
    assert graphs.problem is None, f"the graphs side ran eagerly: {graphs.problem}"
