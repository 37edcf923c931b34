"""The training loop: full-batch gradient descent, the one place that mutates.

The iterations run in chunks. A chunk starts at a recorded iteration (or where a
run starts or a checkpoint was saved) and runs up to the next such point as ONE
call of :func:`run_steps`, which returns the new layers and the cost before the
chunk's first step. That function goes through the backend's one compile hook,
:meth:`dnn_xp.backend.Backend.compile`, so a backend may compile the whole chunk
(JAX: one jitted ``fori_loop`` per call); the others run it eagerly. Reading the
cost at recorded iterations is the loop's only device-to-host transfer, besides
one finiteness check of the weights after the loop and at each checkpoint.

Shapes: ``X: (n_0, m)``, ``Y: (n_L, m)``, ``layers = [(W1, b1), ..., (WL, bL)]``.
"""

from __future__ import annotations

import functools
import math
import operator
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


def chunks(start: int, stop: int, record_every: int, checkpoint_every: int | None = None,
           curve_every: int | None = None) -> list[tuple[int, int]]:
    """``[(first, end), ...]`` covering ``range(start, stop)`` with ``start < stop``.

    A chunk ends before each recorded iteration (multiples of ``record_every`` or
    ``curve_every``, and ``stop - 1``) and at each checkpoint (multiples of
    ``checkpoint_every``).
    """
    edges = {start, stop, stop - 1}
    for every in (record_every, checkpoint_every, curve_every):
        if every:
            edges.update(range(-(-start // every) * every, stop, every))
    edges = sorted(edges)
    return list(zip(edges[:-1], edges[1:]))


class Diverged(FloatingPointError):
    """Training diverged. ``layers`` are the last weights known to be finite, those of ``iteration``."""

    def __init__(self, message: str, layers, iteration: int):
        super().__init__(message)
        self.layers, self.iteration = layers, iteration


def finite_flag(layers, xp):
    """A 0-d bool array: whether every weight and bias is finite (one host read when converted).

    ``max`` and ``min`` propagate NaN and reach +-Inf, so no array of the weights' size is made.
    """
    flags = [xp.isfinite(xp.max(A)) & xp.isfinite(xp.min(A)) for W, b in layers for A in (W, b)]
    return functools.reduce(operator.and_, flags)


def train(layers, X, Y, backend: Backend, hidden, output, learning_rate: float, *, start: int, stop: int,
          record_every: int, history, print_cost: bool = False, bar=None, checkpoint_every: int | None = None,
          save: Callable | None = None, curve_every: int | None = None):
    """Train from iteration ``start`` to ``stop``; returns the final layers.

    Costs are recorded in ``history`` (``history.record(i, value)``) before the
    update of iterations ``0, record_every, ...`` and ``stop - 1``; ``print_cost``
    prints them course-style and ``bar`` (a tqdm bar) shows them. ``curve_every``
    records (without printing) at its multiples too, for a finer learning curve. With ``save``,
    ``save(layers, i)`` is called after each multiple ``i`` of ``checkpoint_every``
    before ``stop``, and with the final layers at ``stop``; weights are checked
    finite before each such save.

    A run that diverges raises :class:`Diverged` carrying the last layers known to
    be finite: those whose cost was read at a recorded iteration (the loop's only
    host reads), or the starting ones. One more check after the loop covers the
    last update, whose cost is never computed.
    """
    run = compiled_steps(backend, hidden, output)
    good_layers, good_iteration = layers, start

    def diverged(problem: str) -> Diverged:
        return Diverged(f"training diverged: {problem}; try a smaller learning_rate than {learning_rate}. "
                        f"The network keeps its last finite weights, those of iteration {good_iteration}",
                        good_layers, good_iteration)

    def checked_save(current, iteration):
        if not bool(finite_flag(current, backend.xp)):
            raise diverged(f"the weights after iteration {iteration - 1} are not finite")
        save(current, iteration)

    for first, end in chunks(start, stop, record_every, checkpoint_every, curve_every):
        before = layers
        layers, J = run(before, X, Y, learning_rate, end - first)
        shown = first % record_every == 0 or first == stop - 1
        if shown or (curve_every and first % curve_every == 0):
            value = float(J)  # the loop's one device-to-host read per recorded iteration
            if not math.isfinite(value):
                raise diverged(f"the cost is {value} at iteration {first}")
            good_layers, good_iteration = before, first
            history.record(first, value)
            if print_cost and shown:
                print(f"Cost after iteration {first}: {value}", flush=True)
            if bar is not None:
                bar.set_postfix(cost=f"{value:.6f}", refresh=False)
        if bar is not None:
            bar.update(end - first)
        if save is not None and checkpoint_every and end % checkpoint_every == 0 and end < stop:
            checked_save(layers, end)
    if not bool(finite_flag(layers, backend.xp)):  # the last update: its cost is never computed
        raise diverged(f"the weights after the last update (iteration {stop - 1}) are not finite")
    if save is not None:
        save(layers, stop)
    return layers
