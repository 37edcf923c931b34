"""The GPU targets, each measured side by side in this process (marked ``gpu``; skipped without one).

- ``[4096, 4096, 4096, 1]``, m=16384, float32: one CuPy training iteration <= 1.25 x its own
  cuBLAS matrix products;
- cat shape (launch-bound): the CuPy step no slower than PyTorch eager CUDA on the same weights.

Both sides wait for the device after every call. The CUDA-graph-captured step is not built yet.
"""

from __future__ import annotations

import pytest

import workloads

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
