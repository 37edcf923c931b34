"""The training loops: full-batch gradient descent, and epochs of (mini-)batches with an optimizer.

The second loop (:func:`train_epochs`) runs when ``fit`` gets an optimizer other
than plain gradient descent, a ``batch_size``, a schedule, L2, dropout or
validation data; it is described at its section below. Of the first:

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
from dataclasses import dataclass
from typing import Any, Callable

from .backend import Backend, host_rng
from .batching import chunked_batches, epoch_permutation, shuffle_columns
from .core import backward, cost, forward, probabilities, train_step
from .losses import accuracy, class_ids
from .optimizers import Optimizer
from .regularization import add_l2_gradients, draw_masks, l2_cost
from .validation import array_finite_flag


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
    """A 0-d bool array: whether every weight and bias is finite (one host read when converted)."""
    return functools.reduce(operator.and_, [array_finite_flag(A, xp) for W, b in layers for A in (W, b)])


@functools.lru_cache(maxsize=64)
def compiled(backend: Backend, fn: Callable, *leading, **options) -> Callable:
    """``fn(*leading, *arrays, **options)`` through :meth:`Backend.compile_function`.

    Made once per backend, function and bound arguments (hashable: namespaces,
    network kinds), so JAX traces it once per shapes, not once per call.
    """
    return backend.compile_function(functools.partial(fn, *leading, **options))


def weights_finite(layers, backend: Backend) -> bool:
    """Whether every weight and bias is finite: :func:`finite_flag`, compiled, and one host read."""
    return bool(compiled(backend, finite_flag, xp=backend.xp)(layers))


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
        if not weights_finite(current, backend):
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
    if not weights_finite(layers, backend):  # the last update: its cost is never computed
        raise diverged(f"the weights after the last update (iteration {stop - 1}) are not finite")
    if save is not None:
        save(layers, stop)
    return layers


# ---------------------------------------------------------------------- mini-batches, optimizers, regularization
@dataclass(frozen=True)
class Recipe:
    """What one step of the general loop does: the network kind, the optimizer and the regularization.

    ``batch_size=None`` is full batch (an epoch is one step on the unshuffled data);
    ``keep_probs`` holds one keep probability per hidden layer. ``batch_chunks``
    (column counts) selects the chunked batch order over those chunks
    (:func:`dnn_xp.batching.chunked_batches`); None is the course's.
    """

    hidden: Any
    output: Any
    optimizer: Optimizer
    l2: float = 0.0
    keep_probs: tuple = ()
    batch_size: int | None = None
    batch_chunks: tuple | None = None

    @property
    def drops(self) -> bool:
        return any(p < 1 for p in self.keep_probs)


def batch_step(layers, opt_state, X, Y, learning_rate, masks, *, recipe: Recipe, xp, record: bool):
    """One update on the batch ``X: (n_0, b)``, ``Y: (n_L, b)``: ``(layers, opt_state, summed cost or None)``.

    ``masks`` holds a 0/1 ``(n_l, b)`` array (or ``None``) per hidden layer, or is
    ``None`` without dropout. The summed cost (``b`` times the batch's mean cost,
    L2 term included) is computed only when ``record``; it is from before the update.
    """
    b = X.shape[1]
    dropout = None if masks is None else [None if D is None else (D, p) for D, p in zip(masks, recipe.keep_probs)]
    Z, cache = forward(layers, X, recipe.hidden, xp, dropout)
    grads = backward(layers, cache, Y, recipe.hidden, recipe.output, xp, dropout=dropout)
    total = None
    if record:
        total = cost(Z, Y, recipe.output, xp)
        if recipe.l2:
            total = total + l2_cost(layers, recipe.l2, b, xp)
        total = total * b
    if recipe.l2:
        grads = add_l2_gradients(grads, layers, recipe.l2, b)
    layers, opt_state = recipe.optimizer.update(layers, grads, opt_state, learning_rate, xp)
    return layers, opt_state, total


def run_epoch(layers, opt_state, X, Y, masks, learning_rate, *, recipe: Recipe, xp, record: bool, repeat):
    """One pass over already shuffled ``X: (n_0, m)``, ``Y``: ``(layers, opt_state, epoch cost or None)``.

    The ``m // b`` full batches are column ranges, run as ``repeat(count, step, carry)``
    (the backend's loop; a compiled one indexes them with a traced counter through a
    ``(n, count, b)`` view); the partial batch of the remaining columns follows. The
    epoch cost is the sum of the batches' summed costs over ``m``.
    """
    m = X.shape[1]
    b = m if recipe.batch_size is None else min(recipe.batch_size, m)
    count, tail = m // b, m % b

    def split(A):
        return xp.reshape(A[:, :count * b], (A.shape[0], count, b)), A[:, count * b:]

    (X_full, X_tail), (Y_full, Y_tail) = split(X), split(Y)
    mask_parts = None if masks is None else [None if D is None else split(D) for D in masks]

    def batch_masks(part):
        return None if mask_parts is None else [None if p is None else part(p) for p in mask_parts]

    def batch(current, state, k):
        return batch_step(current, state, X_full[:, k, :], Y_full[:, k, :], learning_rate,
                          batch_masks(lambda p: p[0][:, k, :]), recipe=recipe, xp=xp, record=record)

    def step(carry):
        current, state, k, total = carry
        current, state, J = batch(current, state, k)
        return current, state, k + 1, (total + J if record else total)

    layers, opt_state, total = batch(layers, opt_state, 0)  # the first outside: its cost starts the sum
    layers, opt_state, _, total = repeat(count - 1, step, (layers, opt_state, 1, total))
    if tail:
        layers, opt_state, J = batch_step(layers, opt_state, X_tail, Y_tail, learning_rate,
                                          batch_masks(lambda p: p[1]), recipe=recipe, xp=xp, record=record)
        total = total + J if record else total
    return layers, opt_state, (total / m if record else None)


def run_chunked_epoch(layers, opt_state, X, Y, masks, learning_rate, batches, *, recipe: Recipe, xp, record: bool,
                      repeat, take):
    """One pass in the chunked order: batch ``k`` is the columns ``batches[k]`` (host index arrays).

    ``take(A, index)`` is :meth:`dnn_xp.backend.Backend.take_columns`, which on dask
    takes each column where its chunk lies. Returns ``(layers, opt_state, epoch cost or None)``.
    """

    def batch(current, state, index):
        batch_masks = None if masks is None else [None if D is None else take(D, index) for D in masks]
        return batch_step(current, state, take(X, index), take(Y, index), learning_rate, batch_masks,
                          recipe=recipe, xp=xp, record=record)

    def step(carry):
        current, state, k, total = carry
        current, state, J = batch(current, state, batches[k])
        return current, state, k + 1, (total + J if record else total)

    layers, opt_state, total = batch(layers, opt_state, batches[0])
    layers, opt_state, _, total = repeat(len(batches) - 1, step, (layers, opt_state, 1, total))
    return layers, opt_state, (total / X.shape[1] if record else None)


def compiled_epochs(backend: Backend, recipe: Recipe) -> dict[bool, Callable]:
    """:func:`run_epoch` (or :func:`run_chunked_epoch`) through the backend's compile hook, one version recording
    the cost and one not: ``run[record](layers, opt_state, X, Y, masks, learning_rate[, batches])``."""
    if recipe.batch_size is not None and recipe.batch_chunks is not None:
        epoch = functools.partial(run_chunked_epoch, take=backend.take_columns)
    else:
        epoch = run_epoch
    return {record: backend.compile(functools.partial(epoch, recipe=recipe, xp=backend.xp, record=record))
            for record in (False, True)}


def validation_scores(layers, *, X, Y, hidden, output, xp) -> tuple[float, float | None]:
    """The cost (no L2 term) and, for classifiers, the accuracy of ``layers`` on held-out ``X``, ``Y``."""
    Z = forward(layers, X, hidden, xp)[0]
    value = float(cost(Z, Y, output, xp))
    if not output.classifies:
        return value, None
    P = probabilities(Z, output, xp)
    predicted = class_ids(xp, P, P.dtype) if output.name == "softmax" else xp.astype(P > 0.5, P.dtype)
    return value, accuracy(xp, predicted, Y, output.name)


@dataclass
class EarlyStopping:
    """The best validation cost seen, where, with which layers, and how many records since."""

    patience: int | None
    best_cost: float = math.inf
    best_epoch: int = -1
    best_layers: Any = None
    waited: int = 0

    @property
    def stopped(self) -> bool:
        """True once ``patience`` records in a row did not improve on the best: the run is over."""
        return self.patience is not None and self.waited >= self.patience

    def should_stop(self, value: float, epoch: int, layers) -> bool:
        """Record a validation cost; returns :attr:`stopped`."""
        if value < self.best_cost:
            self.best_cost, self.best_epoch, self.best_layers, self.waited = value, epoch, layers, 0
        else:
            self.waited += 1
        return self.stopped


def train_epochs(layers, opt_state, X, Y, backend: Backend, recipe: Recipe, learning_rate: float, schedule, *,
                 start: int, stop: int, record_every: int, history, shuffle_seed: int, mask_seed: int,
                 device_masks: bool = False, validate: Callable | None = None,
                 stopping: EarlyStopping | None = None, print_cost=False, bar=None,
                 checkpoint_every: int | None = None, save: Callable | None = None):
    """Epochs ``start .. stop - 1`` of the general loop; returns ``(layers, opt_state, last epoch run)``.

    Per epoch, on the host: the learning rate ``schedule(learning_rate, epoch)``, the
    permutation (with a ``batch_size``; see :mod:`dnn_xp.batching`) and the dropout
    masks (``RandomState(mask_seed + epoch)``, see :func:`dnn_xp.regularization.draw_masks`;
    with ``device_masks`` the device's own generator draws them instead); each crosses
    to the device once. At recorded epochs (multiples of ``record_every`` and the last)
    the epoch cost is read and ``validate(layers) -> (cost, accuracy)``, when given, feeds
    ``history`` and ``stopping``, which may end the run early.
    With ``checkpoint_every``, ``save(layers, opt_state, epoch + 1)`` runs after each multiple.
    """
    run = compiled_epochs(backend, recipe)
    good_layers, good_epoch = layers, start

    def diverged(problem: str) -> Diverged:
        return Diverged(f"training diverged: {problem}; try a smaller learning_rate than {learning_rate}. "
                        f"The network keeps its last finite weights, those of {unit} {good_epoch}",
                        good_layers, good_epoch)

    def checked_save(current, state, done):
        if not weights_finite(current, backend):
            raise diverged(f"the weights after {unit} {done - 1} are not finite")
        save(current, state, done)

    m = X.shape[1]
    hidden_sizes = [W.shape[0] for W, _ in layers[:-1]]
    unit = "iteration" if recipe.batch_size is None else "epoch"
    epoch = start - 1
    for epoch in range(start, stop):
        record = epoch % record_every == 0 or epoch == stop - 1
        Xe, Ye, order = X, Y, ()
        if recipe.batch_size is not None and recipe.batch_chunks is not None:
            order = (chunked_batches(shuffle_seed, epoch, recipe.batch_chunks, recipe.batch_size),)
        elif recipe.batch_size is not None:
            permutation = backend.asarray(epoch_permutation(shuffle_seed, epoch, m), name="permutation")
            Xe, Ye = shuffle_columns((X, Y), permutation, backend.xp)
        masks = _epoch_masks(backend, mask_seed + epoch, device_masks, hidden_sizes, m, recipe.keep_probs,
                             X) if recipe.drops else None
        before = layers
        layers, opt_state, J = run[record](layers, opt_state, Xe, Ye, masks, schedule(learning_rate, epoch), *order)
        stop_now = False
        if record:
            value = float(J)  # with validate below, the loop's only device-to-host reads
            if not math.isfinite(value):
                raise diverged(f"the cost is {value} at {unit} {epoch}")
            good_layers, good_epoch = before, epoch  # the epoch's first batch ran on them: finite
            history.record(epoch, value)
            message = f"Cost after {unit} {epoch}: {value}"
            if validate is not None:
                val_cost, val_accuracy = validate(layers)
                history.record_validation(val_cost, val_accuracy)
                message += f", validation cost {val_cost}"
                stop_now = stopping.should_stop(val_cost, epoch, layers)
            if print_cost:
                print(message, flush=True)
            if bar is not None:
                bar.set_postfix(cost=f"{value:.6f}", refresh=False)
        if bar is not None:
            bar.update()
        if stop_now:
            break
        if save is not None and checkpoint_every and (epoch + 1) % checkpoint_every == 0 and epoch + 1 < stop:
            checked_save(layers, opt_state, epoch + 1)
    if not weights_finite(layers, backend):  # the last update: its cost is never computed
        raise diverged(f"the weights after the last update ({unit} {epoch}) are not finite")
    if save is not None:
        save(layers, opt_state, epoch + 1)
    return layers, opt_state, epoch


def _epoch_masks(backend: Backend, seed: int, on_device: bool, sizes, m: int, keep_probs, X) -> list:
    """One epoch's 0/1 dropout masks ``(n_l, m)`` on the device, split like ``X`` (``None`` for layers that keep
    every unit)."""
    dtype = X.dtype
    if not on_device:
        return [None if D is None else backend.examples(D, dtype, "dropout mask", like=X)
                for D in draw_masks(host_rng(seed), sizes, m, keep_probs)]
    dropped = [(n, p) for n, p in zip(sizes, keep_probs) if p < 1]
    draws = iter(backend.uniforms(seed, [(n, m) for n, _ in dropped], dtype))
    return [None if p == 1 else backend.xp.astype(next(draws) < p, dtype) for p in keep_probs]
