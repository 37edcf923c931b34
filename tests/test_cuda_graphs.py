"""CuPy's CUDA-graph steps: the cuBLAS call plan (on the CPU), and on a GPU that graphs run and agree with eager steps."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import Network, to_numpy
from dnn_xp.backend import CUDA_GRAPHS_ENV, GRAPH_MIN_STEPS, BackendError, gemm_plan, resolve_backend


def _column_major(buffer, rows, cols, ld):
    """The ``rows x cols`` column-major matrix with leading dimension ``ld`` that cuBLAS reads from ``buffer``."""
    return np.lib.stride_tricks.as_strided(buffer, (rows, cols), (buffer.itemsize, ld * buffer.itemsize))


def _cublas_gemm(op_a, op_b, m, n, k, a_buffer, lda, b_buffer, ldb, ldc):
    """cuBLAS's gemm, ``C = op(A) @ op(B)`` on column-major buffers, written in NumPy: C's buffer."""
    A = _column_major(a_buffer, *((m, k) if op_a == 0 else (k, m)), lda)
    B = _column_major(b_buffer, *((k, n) if op_b == 0 else (n, k)), ldb)
    C = (A.T if op_a else A) @ (B.T if op_b else B)
    c_buffer = np.zeros(ldc * (n - 1) + m)
    _column_major(c_buffer, m, n, ldc)[...] = C
    return c_buffer


def _memory(x):
    """``x``'s elements in memory order and its layout name, as the GPU gemm sees a C- or F-contiguous array."""
    order = "C" if x.flags.c_contiguous else "F"
    return x.ravel(order=order), order


@pytest.mark.parametrize("m, k, n", [(3, 5, 4), (1, 5, 1), (5, 1, 4), (7, 20, 1), (1, 1, 1), (20, 7, 209)])
@pytest.mark.parametrize("a_layout", ["C", "F"])
@pytest.mark.parametrize("b_layout", ["C", "F"])
def test_gemm_plan_computes_the_row_major_product(m, k, n, a_layout, b_layout):
    rng = np.random.default_rng(0)
    A = np.asarray(rng.standard_normal((m, k)), order=a_layout)  # "F": as a transposed view A_prev.T is
    B = np.asarray(rng.standard_normal((k, n)), order=b_layout)
    (a_buffer, a_order), (b_buffer, b_order) = _memory(A), _memory(B)
    op_b, op_a, gm, gn, gk, ldb, lda, ldc = gemm_plan(A.shape, a_order, B.shape, b_order)
    # cuBLAS's first operand is B (giving C^T = B^T A^T in C's buffer read as column-major)
    c_buffer = _cublas_gemm(op_b, op_a, gm, gn, gk, b_buffer, ldb, a_buffer, lda, ldc)
    np.testing.assert_allclose(c_buffer[: m * n].reshape(m, n), A @ B, rtol=1e-14, atol=1e-14)
    assert ldb >= max(1, (gm if op_b == 0 else gk)) and lda >= max(1, (gk if op_a == 0 else gn))


# ----------------------------------------------------------------------------------------- on a GPU
@pytest.fixture
def cupy_backend():
    try:
        return resolve_backend("cupy")
    except BackendError as exc:
        pytest.skip(f"CuPy cannot use a GPU here: {exc}")


def _graphs(backend):
    return backend._library._graphs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_direct_cublas_matmul_equals_cupy_matmul(cupy_backend, dtype):
    import cupy

    assert _graphs(cupy_backend).problem is None, _graphs(cupy_backend).problem
    rng = np.random.default_rng(1)
    tolerance = {"rtol": 1e-13, "atol": 1e-13} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-5}
    for m, k, n in [(3, 5, 4), (1, 5, 1), (5, 1, 4), (20, 12288, 209), (7, 20, 209)]:
        A = cupy.asarray(rng.standard_normal((m, k)), dtype=dtype)
        B = cupy.asarray(rng.standard_normal((k, n)), dtype=dtype)
        At = cupy.asarray(rng.standard_normal((k, m)), dtype=dtype).T  # F-ordered, as A_prev.T is
        Bt = cupy.asarray(rng.standard_normal((n, k)), dtype=dtype).T
        for a, b in [(A, B), (At, B), (A, Bt), (At, Bt), (A[:, ::1], B[:, ::-1])]:
            ours = _graphs(cupy_backend)._cublas.matmul(a, b)  # what a capture records, called eagerly
            assert ours.dtype == a.dtype and ours.shape == (m, n)
            np.testing.assert_allclose(ours.get(), cupy.matmul(a, b).get(), **tolerance)


def _fit(backend: str, dtype, iterations=60, record_every=20):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 64))
    Y = (rng.random((1, 64)) < 0.5).astype(float)
    net = Network([50, 20, 7, 5, 1], seed=1, backend=backend, dtype=dtype)
    history = net.fit(X, Y, learning_rate=0.05, num_iterations=iterations, record_every=record_every, progress=False)
    return history.costs, [to_numpy(a) for layer in net._layers for a in layer]


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore::dnn_xp.TrainingWarning")  # random labels: a stall is no failure here
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_replays_captured_graphs_and_equals_eager_steps(cupy_backend, monkeypatch, dtype):
    graphs = _graphs(cupy_backend)
    assert graphs.problem is None, graphs.problem
    captures = []
    capture = graphs.capture
    monkeypatch.setattr(graphs, "capture", lambda *args: captures.append(1) or capture(*args))
    costs, weights = _fit("cupy", dtype)
    assert len(captures) == 3  # one per recorded chunk of 19 steps after its first (eager) one
    monkeypatch.setenv(CUDA_GRAPHS_ENV, "0")
    eager_costs, eager_weights = _fit("cupy", dtype)
    assert len(captures) == 3
    # the replayed steps' products are cuBLAS calls of another layout than CuPy's eager ones: last bits differ
    tolerance = {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(costs, eager_costs, **tolerance)
    for ours, eager in zip(weights, eager_weights, strict=True):
        np.testing.assert_allclose(ours, eager, **tolerance)
    numpy_costs, _ = _fit("numpy", dtype)
    np.testing.assert_allclose(costs, numpy_costs, rtol=1e-10 if dtype == "float64" else 1e-4)


@pytest.mark.gpu
def test_a_step_the_capture_cannot_record_falls_back_to_eager_steps(cupy_backend, monkeypatch):
    import cupy

    graphs = _graphs(cupy_backend)
    monkeypatch.setattr(graphs, "problem", None)  # restored after the test: graphs stay on for the others
    state = [(cupy.ones((3, 2)), cupy.zeros((3, 1)))]

    def body(current):
        (W, b), = current
        float(W.sum())  # a host read: not allowed while a stream captures
        return [(W * 2.0, b + 1.0)]

    with pytest.warns(RuntimeWarning, match="CUDA graphs are off"):
        (W, b), = graphs.repeat(GRAPH_MIN_STEPS, body, state)
    np.testing.assert_array_equal(W.get(), np.full((3, 2), 2.0 ** GRAPH_MIN_STEPS))
    np.testing.assert_array_equal(b.get(), np.full((3, 1), float(GRAPH_MIN_STEPS)))
    assert "capturing a training step failed" in graphs.problem
