"""The training loop: full-batch gradient descent, the one place that mutates.

The iterations run in chunks. A chunk starts at a recorded iteration (or where a
run starts or a checkpoint was saved) and runs up to the next such point as ONE
call of :func:`run_steps`, which returns the new layers and the cost before the
chunk's first step. That function goes through the backend's one compile hook,
:meth:`dnn_xp.backend.Backend.compile`, so a backend may compile the whole chunk
(JAX: one jitted ``fori_loop`` per call); the others run it eagerly. Reading the
cost at recorded iterations is the loop's only device-to-host transfer.

Shapes: ``X: (n_0, m)``, ``Y: (n_L, m)``, ``layers = [(W1, b1), ..., (WL, bL)]``.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

from .backend import Backend
from .core import cost, train_step


def run_steps(layers, X, Y, learning_rate, count, *, hidden, output, xp, accumulate, repeat):
    """``count >= 1`` gradient-descent steps from ``layers``: ``(new_layers, J)``.

    ``J`` is the cost before the first step (a 0-d array). The steps after the
    first run as ``repeat(count - 1, step, layers)``, the backend's loop. Pure:
    ``layers``, ``X`` and ``Y`` are left untouched.
    """

    def step(current):
        return train_step(current, X, Y, learning_rate, hidden, output, xp, accumulate)[0]

    layers, Z = train_step(layers, X, Y, learning_rate, hidden, output, xp, accumulate)
    return repeat(count - 1, step, layers), cost(Z, Y, output, xp)


@functools.lru_cache(maxsize=32)
def compiled_steps(backend: Backend, hidden, output) -> Callable:
    """:func:`run_steps` for one backend and network kind, through the backend's compile hook.

    Cached, so a backend that compiles (JAX) does it once per configuration and
    shapes, not once per call: ``run(layers, X, Y, learning_rate, count)``.
    """
    return backend.compile(functools.partial(run_steps, hidden=hidden, output=output, xp=backend.xp,
                                             accumulate=backend.accumulate))


def chunks(start: int, stop: int, record_every: int, checkpoint_every: int | None = None) -> list[tuple[int, int]]:
    """``[(first, end), ...]`` covering ``range(start, stop)`` with ``start < stop``.

    A chunk ends before each recorded iteration (multiples of ``record_every`` and
    ``stop - 1``) and at each checkpoint (multiples of ``checkpoint_every``).
    """
    edges = {start, stop, stop - 1}
    edges.update(range(-(-start // record_every) * record_every, stop, record_every))
    if checkpoint_every:
        edges.update(range(-(-start // checkpoint_every) * checkpoint_every, stop, checkpoint_every))
    edges = sorted(edges)
    return list(zip(edges[:-1], edges[1:]))


def train(layers, X, Y, backend: Backend, hidden, output, learning_rate: float, *, start: int, stop: int,
          record_every: int, history, print_cost: bool = False, bar=None, checkpoint_every: int | None = None,
          save: Callable | None = None):
    """Train from iteration ``start`` to ``stop``; returns the final layers.

    Costs are recorded in ``history`` (``history.record(i, value)``) before the
    update of iterations ``0, record_every, ...`` and ``stop - 1``; ``print_cost``
    prints them course-style and ``bar`` (a tqdm bar) shows them. With
    ``checkpoint_every``, ``save(layers, i)`` is called after each multiple ``i``
    of it before ``stop``. A cost that is not finite raises FloatingPointError.
    """
    run = compiled_steps(backend, hidden, output)
    for first, end in chunks(start, stop, record_every, checkpoint_every):
        layers, J = run(layers, X, Y, learning_rate, end - first)
        if first % record_every == 0 or first == stop - 1:
            value = float(J)  # the loop's only device-to-host read
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"training diverged: the cost is {value} at iteration {first}; "
                    f"try a smaller learning_rate than {learning_rate}"
                )
            history.record(first, value)
            if print_cost:
                print(f"Cost after iteration {first}: {value}", flush=True)
            if bar is not None:
                bar.set_postfix(cost=f"{value:.6f}", refresh=False)
        if bar is not None:
            bar.update(end - first)
        if checkpoint_every and end % checkpoint_every == 0 and end < stop:
            save(layers, end)
    return layers
