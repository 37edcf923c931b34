"""Scaling curves: time per iteration as the number of examples m grows, and as the hidden width grows.

Groups ``scaling-m`` (network ``SCALING_M_DIMS``) and ``scaling-width`` (``[n_x, w, w, 1]`` at fixed m),
for the vectorized core and the per-example loop; ``python -m dnn_xp.bench_report`` plots them log-log.
"""

from __future__ import annotations

import pytest

import workloads

IMPLS = {"vectorized": workloads.vectorized, "per-example": workloads.per_example}
WHERE = [pytest.param("numpy", None, id="numpy"),
         pytest.param("cupy", 0, id="cupy", marks=pytest.mark.gpu)]


def _run(benchmark, curve, x, impl, where, device, shape):
    benchmark.group = f"scaling-{curve}"
    benchmark.extra_info.update(case=f"{impl}-{where}", curve=curve, x=x, layer_dims=shape.dims, m=shape.m)
    problem = workloads.make_problem(shape, workloads.resolve(where, device))
    seconds_guess = shape.m * sum(a * b for a, b in zip(shape.dims, shape.dims[1:])) * 2e-9
    slow = impl == "per-example" and where == "numpy" and seconds_guess > 0.5
    workloads.measure(benchmark, IMPLS[impl](problem), rounds=2 if slow else None)


@pytest.mark.parametrize("where, device", WHERE)
@pytest.mark.parametrize("impl", IMPLS)
def test_scaling_m(benchmark, smoke, impl, where, device, m):
    dims = workloads.SMOKE_SCALING_M_DIMS if smoke else workloads.SCALING_M_DIMS
    _run(benchmark, "m", m, impl, where, device, workloads.Shape(dims, m, "relu", "he", 0.01))


@pytest.mark.parametrize("where, device", WHERE)
@pytest.mark.parametrize("impl", IMPLS)
def test_scaling_width(benchmark, smoke, impl, where, device, width):
    n_x, m = (16, 8) if smoke else (workloads.SCALING_M_DIMS[0], workloads.SCALING_WIDTH_M)
    _run(benchmark, "width", width, impl, where, device,
         workloads.Shape([n_x, width, width, 1], m, "relu", "he", 0.01))
