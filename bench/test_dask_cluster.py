"""backend="dask" on dask.distributed clusters: strong scaling, overhead against NumPy, overhead per chunk.

Groups (each timed value is one ``Network.fit`` of ``ITERATIONS`` full-batch
iterations on data already scattered to the workers, divided by ``ITERATIONS``:
the per-iteration time, including that fit's input checks and its one anchor):

- ``dask-scaling``: ``[784, 512, 1]``, m = 200,000, float32, on a LocalCluster
  of 1 and of 2 single-threaded worker processes (target: 2 workers at least
  1.6x faster than 1), and NumPy in this process with BLAS held to one thread
  (target: 1 worker at most 1.3x NumPy's time).
- ``dask-chunks``: a smaller problem on 2 workers split into 1 to 16 chunks: the
  scheduling overhead each chunk adds.

Every case's ``extra_info`` holds the load average when it ran: on a shared
2-core machine the scaling target needs both cores free.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from dnn_xp import Network

distributed = pytest.importorskip("distributed")
# Closing a LocalCluster leaves its scheduler's HTTP socket to the garbage collector (a ResourceWarning
# raised from a finalizer); it says nothing about what is measured here.
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

DIMS, SMOKE_DIMS = [784, 512, 1], [16, 8, 1]
EXAMPLES, SMOKE_EXAMPLES = 200_000, 2_000
CHUNK_DIMS, CHUNK_EXAMPLES = [784, 64, 1], 20_000
ITERATIONS, SMOKE_ITERATIONS = 3, 2
CHUNK_COUNTS = [1, 2, 4, 8, 16]
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _data(n: int, m: int):
    rng = np.random.default_rng(0)
    X = rng.random((n, m), dtype=np.float32)
    w = rng.standard_normal((1, n)).astype(np.float32)
    return X, ((w @ (X - 0.5)) > 0).astype(np.float32)


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def client(request):
    cluster = distributed.LocalCluster(n_workers=request.param, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", env=SINGLE_THREADED)
    with cluster, distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


def _time_fit(benchmark, net, X, Y, iterations: int, **extra):
    benchmark.extra_info.update(load_average=[round(x, 2) for x in os.getloadavg()], iterations=iterations, **extra)
    options = {"learning_rate": 0.01, "num_iterations": iterations, "record_every": iterations, "progress": False}
    net.fit(X, Y, **{**options, "num_iterations": 1})  # warm: imports, first graph
    benchmark.pedantic(lambda: net.fit(X, Y, **options), rounds=2, iterations=1)


def test_dask_strong_scaling(benchmark, smoke, client):
    dims, m = (SMOKE_DIMS, SMOKE_EXAMPLES) if smoke else (DIMS, EXAMPLES)
    iterations = SMOKE_ITERATIONS if smoke else ITERATIONS
    workers = len(client.scheduler_info()["workers"])
    benchmark.group = "dask-scaling"
    X, Y = _data(dims[0], m)
    net = Network(dims, seed=1, backend="dask", device=client, dtype="float32")
    X = net.backend.examples(X, net.backend.dtype("float32"))  # scattered once, one chunk per worker
    Y = net.backend.examples(Y, net.backend.dtype("float32"), like=X)
    _time_fit(benchmark, net, X, Y, iterations, case=f"dask-{workers}-workers", workers=workers, m=m, dims=dims)


def test_numpy_single_threaded_baseline(benchmark, smoke):
    from threadpoolctl import threadpool_limits

    dims, m = (SMOKE_DIMS, SMOKE_EXAMPLES) if smoke else (DIMS, EXAMPLES)
    iterations = SMOKE_ITERATIONS if smoke else ITERATIONS
    benchmark.group = "dask-scaling"
    X, Y = _data(dims[0], m)
    with threadpool_limits(1):
        _time_fit(benchmark, Network(dims, seed=1, dtype="float32"), X, Y, iterations, case="numpy-1-thread",
                  m=m, dims=dims)


@pytest.mark.parametrize("chunks", CHUNK_COUNTS, ids=[f"chunks={c}" for c in CHUNK_COUNTS])
def test_dask_overhead_per_chunk_count(benchmark, smoke, chunks):
    dims, m = (SMOKE_DIMS, SMOKE_EXAMPLES) if smoke else (CHUNK_DIMS, CHUNK_EXAMPLES)
    benchmark.group = "dask-chunks"
    net = Network(dims, seed=1, backend="dask", dtype="float32")  # the embedded cluster
    X, Y = _data(dims[0], m)
    X = net.backend.examples(X, net.backend.dtype("float32"), chunks=chunks)
    Y = net.backend.examples(Y, net.backend.dtype("float32"), like=X)
    _time_fit(benchmark, net, X, Y, SMOKE_ITERATIONS if smoke else ITERATIONS, case=f"dask-{chunks}-chunks",
              chunks=chunks, m=m, dims=dims)
