"""What the benchmarks time: problem sizes, the step implementations, the baselines and the paired timer.

Every implementation is built from the same host float64 weights (drawn by
:func:`dnn_xp.initializers.initial_layers`) and the same data, and is returned as
a zero-argument callable that runs one training iteration and waits for the
device (GPU work is asynchronous). Like :meth:`dnn_xp.Network.fit`, each call
trains on from the weights the previous call left: repeating a step from the
same weights and dropping its result is not what training does, and it makes
glibc hand the freed buffers back to the OS, so the next step page-faults them
in again (about 1 ms a step for the cat shape in float64). Data are synthetic with the course's shapes:
``X`` uniform in [0, 1) like pixels / 255, ``Y`` 0/1 labels.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

from dnn_xp import core, loops
from dnn_xp.activations import get_activation
from dnn_xp.backend import Backend, BackendError, resolve_backend
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output


class Shape(NamedTuple):
    """A network and data size: ``layer_dims``, ``m`` examples, hidden activation, init, learning rate."""

    dims: list[int]
    m: int
    hidden: str
    init: Any
    learning_rate: float


# The course's networks (with their initializations and learning rates) and a larger one.
SHAPES = {
    "cat": Shape([12288, 20, 7, 5, 1], 209, "relu", "lecun", 0.0075),
    "two-layer": Shape([12288, 7, 1], 209, "relu", 0.01, 0.0075),
    "planar": Shape([2, 4, 1], 400, "tanh", 0.01, 1.2),
    "large": Shape([784, 512, 256, 1], 10000, "relu", "he", 0.01),
}
SMOKE_SHAPES = {
    "cat": Shape([96, 20, 7, 5, 1], 9, "relu", "lecun", 0.0075),
    "two-layer": Shape([96, 7, 1], 9, "relu", 0.01, 0.0075),
    "planar": Shape([2, 4, 1], 16, "tanh", 0.01, 1.2),
    "large": Shape([48, 32, 16, 1], 20, "relu", "he", 0.01),
}
# The GPU target's large network (GPU only: about a TFLOP per iteration).
GPU_LARGE, SMOKE_GPU_LARGE = (Shape([4096, 4096, 4096, 1], 16384, "relu", "he", 0.01),
                              Shape([64, 64, 64, 1], 32, "relu", "he", 0.01))

# Scaling curves: m grows on a fixed network; the hidden width grows at fixed m.
SCALING_M_DIMS = [784, 128, 64, 1]
SCALING_M = [16, 64, 256, 1024, 4096, 16384]
SCALING_WIDTH_M = 256
SCALING_WIDTHS = [16, 64, 256, 1024]
SMOKE_SCALING_M_DIMS = [16, 8, 4, 1]
SMOKE_SCALING_M = [4, 16]
SMOKE_SCALING_WIDTHS = [4, 8]

DEMO_N, SMOKE_DEMO_N = 1_000_000, 1_000


class Problem(NamedTuple):
    """One shape's weights and data, on the host (float64) and on a backend in a dtype."""

    shape: Shape
    host_layers: list
    host_X: np.ndarray
    host_Y: np.ndarray
    backend: Backend | None
    dtype: str
    layers: list
    X: Any
    Y: Any


def resolve(name: str, device=None) -> Backend:
    """The backend, or a skip saying why it is not usable here (e.g. no GPU)."""
    try:
        return resolve_backend(name, device)
    except BackendError as exc:
        pytest.skip(f"{name} on {device} is not usable here: {exc}")


def host_problem(shape: Shape, seed: int = 0):
    """Float64 host ``(layers, X, Y)`` for ``shape``; weights from the shape's init scheme."""
    rng = np.random.RandomState(seed)
    X = rng.rand(shape.dims[0], shape.m)
    Y = (rng.rand(shape.dims[-1], shape.m) < 0.35).astype(np.float64)
    return initial_layers(shape.dims, shape.init, seed=1), X, Y


def make_problem(shape: Shape, backend: Backend | None, dtype: str = "float64") -> Problem:
    """The problem moved to ``backend`` in ``dtype`` (``backend=None``: host only, for the scalar loops)."""
    host_layers, X, Y = host_problem(shape)
    if backend is None:
        return Problem(shape, host_layers, X, Y, None, dtype, host_layers, X, Y)
    to = lambda a: backend.asarray(a, backend.dtype(dtype))  # noqa: E731
    layers = [(to(W), to(b)) for W, b in host_layers]
    return Problem(shape, host_layers, X, Y, backend, dtype, layers, to(X), to(Y))


def synchronizer(backend: Backend | None) -> Callable[[], None]:
    """A function that waits until the backend's device has finished its queued work."""
    if backend is None or backend.device is None or str(backend.device) == "cpu":
        return lambda: None
    if backend.name == "cupy":
        import cupy

        return cupy.cuda.Device(backend.device).synchronize
    import torch

    return lambda: torch.cuda.synchronize(backend.device)


# --------------------------------------------------------------------------- implementations
def _training(step: Callable, layers: list, sync: Callable[[], None] = lambda: None) -> Callable:
    """A callable running ``layers = step(layers)[0]``, one iteration per call; returns the new layers."""
    state = [layers]

    def iteration():
        state[0] = step(state[0])[0]
        sync()
        return state[0]

    return iteration


def vectorized(p: Problem) -> Callable:
    """``core.train_step`` on the whole batch."""
    hidden, output, lr, xp = get_activation(p.shape.hidden), get_output("sigmoid"), p.shape.learning_rate, p.backend.xp
    add = p.backend.accumulate
    return _training(lambda layers: core.train_step(layers, p.X, p.Y, lr, hidden, output, xp, add), p.layers,
                     synchronizer(p.backend))


def per_example(p: Problem) -> Callable:
    """:func:`dnn_xp.loops.per_example_step`: a Python loop over the m columns."""
    hidden, lr, xp, add = p.shape.hidden, p.shape.learning_rate, p.backend.xp, p.backend.accumulate
    return _training(lambda layers: loops.per_example_step(layers, p.X, p.Y, lr, hidden, "sigmoid", xp, add),
                     p.layers, synchronizer(p.backend))


def scalar(p: Problem) -> Callable:
    """:func:`dnn_xp.loops.scalar_step`: Python loops over examples, units and weights."""
    hidden, lr = p.shape.hidden, p.shape.learning_rate
    return _training(lambda layers: loops.scalar_step(layers, p.host_X, p.host_Y, lr, hidden, "sigmoid"),
                     p.host_layers)


class TorchEager:
    """The peer: the same network, weights and data trained with PyTorch eager (autograd + ``torch.optim.SGD``)."""

    def __init__(self, p: Problem, device: str = "cpu"):
        import torch

        self.torch = torch
        dtype = getattr(torch, p.dtype)
        self.params = [torch.tensor(a, dtype=dtype, device=device, requires_grad=True)
                       for W, b in p.host_layers for a in (W, b)]
        self.X = torch.tensor(p.host_X, dtype=dtype, device=device)
        self.Y = torch.tensor(p.host_Y, dtype=dtype, device=device)
        self.hidden = {"relu": torch.relu, "tanh": torch.tanh}[p.shape.hidden]
        self.optimizer = torch.optim.SGD(self.params, lr=p.shape.learning_rate)
        self.device = torch.device(device)

    def step(self):
        """Forward, cost from the logits, backward and update; returns the cost before the update."""
        A, params = self.X, self.params
        for W, b in zip(params[0:-2:2], params[1:-2:2]):
            A = self.hidden(W @ A + b)
        Z = params[-2] @ A + params[-1]
        loss = self.torch.nn.functional.binary_cross_entropy_with_logits(Z, self.Y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)
        return loss

    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The current weights as host arrays ``[(W1, b1), ...]``."""
        host = [t.detach().cpu().numpy() for t in self.params]
        return list(zip(host[0::2], host[1::2]))


def handwritten_step(layers, X, Y, learning_rate):
    """A minimal NumPy step for ``[LINEAR -> tanh] -> LINEAR -> sigmoid``: the core's ops, written out.

    ``layers = [(W1, b1), (W2, b2)]`` NumPy arrays; returns the updated layers.
    """
    (W1, b1), (W2, b2) = layers
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    E = np.exp(-np.abs(Z2))
    A2 = np.where(Z2 >= 0, 1.0, E) / (1.0 + E)
    dZ2 = (A2 - Y) * (learning_rate / X.shape[1])
    dW2 = dZ2 @ A1.T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * (1.0 - A1 * A1)
    dW1 = dZ1 @ X.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return [(W1 - dW1, b1 - db1), (W2 - dW2, b2 - db2)]


def handwritten(layers, X, Y, learning_rate) -> Callable:
    """:func:`handwritten_step` training on from ``layers`` (NumPy arrays)."""
    return _training(lambda current: (handwritten_step(current, X, Y, learning_rate),), layers)


def matmuls(p: Problem) -> Callable:
    """Only the matrix products a training step needs, on operands of the step's shapes and layouts.

    Forward ``W_l @ A_{l-1}``, backward ``dZ_l @ A_{l-1}.T`` for every layer and
    ``W_l.T @ dZ_l`` for layers 2..L (``dA_0`` is never needed).
    """
    rng = np.random.RandomState(1)
    Ws = [W for W, _ in p.layers]
    As = [p.X] + [p.backend.asarray(rng.rand(n, p.shape.m), p.backend.dtype(p.dtype)) for n in p.shape.dims[1:-1]]
    dZs = [p.backend.asarray(rng.randn(n, p.shape.m), p.backend.dtype(p.dtype)) for n in p.shape.dims[1:]]

    sync, matmul = synchronizer(p.backend), p.backend.xp.matmul  # the products the step computes with

    def products():
        out = [matmul(W, A) for W, A in zip(Ws, As)]
        out += [matmul(dZ, A.T) for dZ, A in zip(dZs, As)]
        out += [matmul(W.T, dZ) for W, dZ in zip(Ws[1:], dZs[1:])]
        sync()
        return out

    return products


# --------------------------------------------------------------------------- measuring
def measure(benchmark, fn: Callable, rounds: int | None = None):
    """Time ``fn`` with pytest-benchmark: auto-calibrated after one warm-up call, or ``rounds`` single calls.

    ``rounds`` is for cases that take seconds per call (no warm-up then).
    """
    if rounds is not None and not benchmark.disabled:
        return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
    if not benchmark.disabled:
        fn()
    return benchmark(fn)


def _summary(times: list[float]) -> dict:
    return {"min": min(times), "median": statistics.median(times), "rounds": len(times)}


def _block(fn: Callable, seconds: float) -> list[float]:
    """Seconds taken by each of back-to-back calls of ``fn`` for about ``seconds`` (at least one call)."""
    times = []
    end = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        fn()
        now = time.perf_counter()
        times.append(now - start)
        if now >= end:
            return times


def paired(benchmark, numerator: Callable, denominator: Callable, names: tuple[str, str], target: float,
           what: str, blocks: int, block_seconds: float = 0.5) -> dict:
    """Time two functions side by side in this process and record their ratio in ``extra_info["ratio"]``.

    The two sides run in alternating blocks of back-to-back calls, ``blocks``
    blocks each, the order swapping every round so that drifts in clock speed
    hit both. Blocks last ``block_seconds`` because a threaded library keeps its
    threads spinning for a while after a call (OpenMP's default block time is
    200 ms) and would slow the other side's first calls. The ratio is
    numerator / denominator with the same statistic on both sides: the min over
    all calls, and the median. ``target`` is the largest acceptable ratio.
    pytest-benchmark's own entry times the whole measurement.
    """
    times: tuple[list, list] = ([], [])
    sides = (numerator, denominator)

    def measurement():
        numerator(), denominator()
        for r in range(blocks):
            for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                times[side].extend(_block(sides[side], block_seconds))

    benchmark.pedantic(measurement, rounds=1, iterations=1, warmup_rounds=0)
    top, bottom = _summary(times[0]), _summary(times[1])
    info = {
        "what": what,
        "numerator": names[0],
        "denominator": names[1],
        names[0]: top,
        names[1]: bottom,
        "ratio_min": top["min"] / bottom["min"],
        "ratio_median": top["median"] / bottom["median"],
        "target": target,
    }
    benchmark.extra_info["ratio"] = info
    return info


def traced_peak(fn: Callable) -> int:
    """Peak bytes allocated while ``fn`` runs, as tracemalloc sees them (NumPy reports its buffers)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
