"""``Network``: the everyday API. Validates at the boundary; the loop itself is :mod:`dnn_xp.training`.

Examples are columns: ``X`` is ``(n_x, m)`` and ``Y`` is ``(1, m)``. Inputs may be
NumPy arrays (moved to the backend's device once per call) or arrays already on
the backend. Inside :meth:`Network.fit` the device-to-host reads are the cost at
the recorded iterations (every ``record_every``), which is also where a diverging
run is detected, one finiteness check of the final weights after the loop, and
the checkpoints. A checkpoint records what identifies its run, and only that run
resumes from it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .activations import get_activation
from .backend import DTYPES, Backend, BackendError, even_chunks, resolve_backend, to_numpy
from .core import cost, forward, probabilities
from .initializers import check_layer_dims, initial_layers
from .losses import accuracy, class_ids, constant_cost_array, get_output, one_hot
from .optimizers import state_arrays, state_from_arrays
from .options import FitOptions
from .saving import read_model, write_model
from .training import Diverged, EarlyStopping, compiled, train, train_epochs, validation_scores
from .validation import (check_class_labels, check_count, check_finite, check_labels, check_matrix,
                         check_positive_number, check_real_dtype, host_array, training_data_flag)


# fit warns when a run of at least this many iterations ends with a cost above this
# fraction of the cost of a constant prediction (shorter runs are steps, not trainings).
STALL_MIN_ITERATIONS = 100
STALL_FRACTION = 0.95


class TrainingWarning(UserWarning):
    """Training finished but did not learn: its message says what to change."""


@dataclass
class History:
    """Costs recorded during :meth:`Network.fit`, before the update of each listed iteration.

    With a ``batch_size`` the entries of ``iterations`` are epochs and each cost is
    the epoch average. With ``validation`` data, ``validation_costs`` (and, for
    classifiers, ``validation_accuracies``) are recorded at the same points, after
    the recorded epoch; ``best_iteration`` is where the validation cost was lowest
    (the weights early stopping restores).
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    start: int = 0  # the iteration this fit began at: > 0 when resumed, where the run ended when already finished
    validation_costs: list[float] = field(default_factory=list)
    validation_accuracies: list[float] = field(default_factory=list)
    best_iteration: int | None = None

    def record(self, iteration: int, value: float) -> None:
        self.iterations.append(iteration)
        self.costs.append(value)

    def record_validation(self, value: float, accuracy: float | None) -> None:
        self.validation_costs.append(value)
        if accuracy is not None:
            self.validation_accuracies.append(accuracy)


def _dtype_name(dtype) -> str | None:
    if dtype is None:
        return None
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got dtype={dtype!r}")
    return name


def _on_device(method):
    """Run a public method with the backend's device current (CuPy launches on the current GPU)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.backend.activate():
            return method(self, *args, **kwargs)

    return wrapper


class Network:
    """A fully connected network ``[LINEAR -> hidden] x (L-1) -> LINEAR -> output``.

    ``layer_dims = [n_x, n_1, ..., n_L]``; ``hidden`` is any activation of
    :mod:`dnn_xp.activations`; ``output`` is ``"sigmoid"`` (0/1 labels,
    cross-entropy) or ``"identity"`` (regression, squared error). Weights are drawn
    on the host with ``init`` and ``seed`` and moved to ``backend``/``device`` once.
    ``iterations_trained`` counts the iterations of the last :meth:`fit` (the
    position a checkpoint resumes from); ``iterations_total`` those of every fit.

    Several output units (``n_L > 1``) are independent outputs: one sigmoid per
    row of ``Y: (n_L, m)`` (multi-label), or one regression target per row.
    :meth:`standardize` makes the network scale its inputs; ``trained_on`` is
    a JSON-ready description of the training data kept in saved models.
    """

    def __init__(self, layer_dims, hidden="relu", output="sigmoid", init="he", seed=0,
                 backend=None, device=None, dtype=None):
        self.layer_dims = check_layer_dims(layer_dims)
        self.hidden = get_activation(hidden, "hidden")
        self.output = get_output(output)
        if self.output.name == "softmax" and self.layer_dims[-1] < 2:
            raise ValueError(f"output='softmax' needs at least 2 output units (one per class); layer_dims ends "
                             f"with {self.layer_dims[-1]}: use output='sigmoid' for two classes with one unit")
        self.backend: Backend = resolve_backend(backend, device)
        self.dtype = _dtype_name(dtype)
        self.init, self.seed = init, seed
        host_dtype = self.backend.dtype(self.dtype or self.backend.default_float)
        self._layers = [
            (self.backend.asarray(W, host_dtype), self.backend.asarray(b, host_dtype))
            for W, b in initial_layers(self.layer_dims, init, seed)
        ]
        self.iterations_trained = 0
        self.iterations_total = 0
        self.trained_on: dict | None = None
        self._scaling = None  # (mean, scale), each (n_x, 1) on the backend, or None
        self._checkpoint: dict | None = None
        self._checkpoint_arrays: dict = {}

    # ------------------------------------------------------------------ parameters
    @property
    def parameters(self) -> dict[str, Any]:
        """``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` as arrays of the backend."""
        params = {}
        for l, (W, b) in enumerate(self._layers, start=1):
            params[f"W{l}"], params[f"b{l}"] = W, b
        return params

    @classmethod
    def from_parameters(cls, parameters, hidden="relu", output="sigmoid", backend=None,
                        device=None, dtype=None) -> "Network":
        """A network holding the given ``W1, b1, ...`` (NumPy or backend arrays), which must be finite."""
        if not isinstance(parameters, Mapping):
            raise TypeError(f"parameters must be a dict {{'W1': ..., 'b1': ..., ...}}; "
                            f"got {type(parameters).__name__}")
        count = len(parameters) // 2
        if count == 0 or set(parameters) != {f"{k}{l}" for l in range(1, count + 1) for k in "Wb"}:
            raise ValueError(f"parameters must be W1, b1, ..., WL, bL; got keys {sorted(map(str, parameters))}")
        parameters = {k: host_array(v, k) for k, v in parameters.items()}
        if any(len(v.shape) != 2 for v in parameters.values()):
            raise ValueError(f"every parameter must be 2-D; got shapes "
                             f"{ {k: tuple(v.shape) for k, v in parameters.items()} }")
        shapes = [tuple(parameters[f"W{l}"].shape) for l in range(1, count + 1)]
        dims = [shapes[0][1]] + [rows for rows, _ in shapes]
        net = cls(dims, hidden, output, init="zeros", backend=backend, device=device, dtype=dtype)
        dtype_name = net.dtype or net._float_dtype_name(parameters["W1"])
        layers = []
        for l in range(1, count + 1):
            W, b = parameters[f"W{l}"], parameters[f"b{l}"]
            if tuple(W.shape) != (dims[l], dims[l - 1]) or tuple(b.shape) != (dims[l], 1):
                raise ValueError(
                    f"W{l} has shape {tuple(W.shape)} and b{l} {tuple(b.shape)}; expected "
                    f"({dims[l]}, {dims[l - 1]}) and ({dims[l]}, 1)"
                )
            layer = (net._to_backend(W, dtype_name, f"W{l}"), net._to_backend(b, dtype_name, f"b{l}"))
            for name, value in zip((f"W{l}", f"b{l}"), layer):
                check_finite(value, name, net.backend.xp, "a network's parameters must be finite "
                             "(they come from a run that diverged?)")
            layers.append(layer)
        net._layers = layers
        return net

    # ------------------------------------------------------------------ inputs
    def _to_backend(self, array, dtype_name: str, name: str):
        """``array`` (host data or this backend's array) on the device in ``dtype_name``."""
        return self.backend.asarray(self._accept(array, name), self.backend.dtype(dtype_name), name)

    def _accept(self, array, name: str):
        """``array`` as a plain NumPy array (lists, matrices, masked arrays, pandas) or this backend's own.

        NumPy's subclasses count as host data even on the NumPy backend: a matrix or
        a masked array must not reach the math as it is. An array of another library
        passes through unchanged for :meth:`Backend.asarray` to refuse by name.
        """
        if isinstance(array, np.ndarray) or not self.backend.owns(array):
            return host_array(array, name)
        check_real_dtype(array.dtype, name, self.backend.xp)
        return array

    def _float_dtype_name(self, array, name: str = "X") -> str:
        """``"float32"``/``"float64"`` for such an array of NumPy or the backend, else the backend's default."""
        array = self._accept(array, name)
        if self.backend.owns(array):
            return next((n for n in self.backend.float_dtypes if array.dtype == self.backend.dtype(n)),
                        self.backend.default_float)
        found = array.dtype.name if isinstance(array, np.ndarray) else self.backend.default_float
        return found if found in DTYPES else self.backend.default_float

    def _working_dtype(self, X) -> str:
        """``dtype=`` if given, else X's float32/float64, else the backend's default (float64 where it has it)."""
        return self.dtype or self._float_dtype_name(X)

    def _parameter_dtype(self) -> str:
        return self._float_dtype_name(self._layers[0][0])

    def _inputs(self, X, dtype_name: str, chunks=None):
        """X as the first layer sees it: checked, on the backend in ``dtype_name``, scaled if :meth:`standardize`d.

        ``chunks``: how dask splits the examples (see :meth:`dnn_xp.backend.Backend.examples`).
        """
        return self._scaled(self._raw_inputs(X, dtype_name, chunks), dtype_name)

    def _scaled(self, X, dtype_name: str):
        """``X`` as the first layer sees it: scaled if :meth:`standardize`d."""
        if self._scaling is None:
            return X
        mean, scale = (self._cast(a, dtype_name) for a in self._scaling)
        return (X - mean) / scale

    def _raw_inputs(self, X, dtype_name: str, chunks=None, values: bool = True):
        """X checked (its values too, unless ``values=False``) and on the backend in ``dtype_name``."""
        X = self._accept(X, "X")
        check_matrix(X, "X", rows=self.layer_dims[0])
        X = self.backend.examples(X, self.backend.dtype(dtype_name), "X", chunks=chunks)
        check_matrix(X, "X", xp=self.backend.xp if values else None)
        return X

    def _training_data(self, X, Y, dtype_name: str, chunks=None):
        """``fit``'s X (scaled) and Y, checked and on the backend, their values with one device read.

        :func:`dnn_xp.validation.training_data_flag`, compiled, checks both; only
        when it fails do the checks run that name what is wrong.
        """
        X = self._raw_inputs(X, dtype_name, chunks, values=False)
        Y = self._labels(Y, X.shape[1], dtype_name, like=X, values=False)
        xp = self.backend.xp  # softmax labels are one-hot 0/1 by now
        if not bool(compiled(self.backend, training_data_flag, xp=xp, binary=self.output.classifies)(X, Y)):
            check_finite(X, "X", xp)
            check_labels(Y, X.shape[1], self.layer_dims[-1], self.output.classifies, xp)
        return self._scaled(X, dtype_name), Y

    def _labels(self, Y, m: int, dtype_name: str, like=None, values: bool = True):
        """Y checked (its values too, unless ``values=False``) and on the backend, split along the examples as
        ``like`` (X) is on dask. Softmax class labels are always checked: they become one-hot here."""
        Y = self._accept(Y, "Y")
        if len(getattr(Y, "shape", ())) == 1:
            shapes = f"(1, m) class ids or ({self.layer_dims[-1]}, m) one-hot" if self.output.name == "softmax" \
                else f"({self.layer_dims[-1]}, m)"
            raise ValueError(f"Y must be 2-D, shape {shapes}; got shape {tuple(Y.shape)} (use Y.reshape(1, -1))")
        Y = self.backend.examples(Y, self.backend.dtype(dtype_name), "Y", like=like)
        if self.output.name == "softmax":
            check_class_labels(Y, m, self.layer_dims[-1], self.backend.xp)
            return one_hot(self.backend.xp, Y, self.layer_dims[-1])
        check_labels(Y, m, self.layer_dims[-1], self.output.classifies, self.backend.xp if values else None)
        return Y

    # ------------------------------------------------------------------ input scaling
    @_on_device
    def standardize(self, X) -> "Network":
        """Scale inputs by the mean and standard deviation of each feature of ``X: (n_x, m)``.

        Compute them on the training data only; from then on :meth:`fit`,
        :meth:`predict` and the other methods take raw inputs and apply
        ``(X - mean) / scale`` first. A constant feature gets scale 1. Saved
        models keep ``mean`` and ``scale`` as plain ``(n_x, 1)`` arrays.
        Returns the network.
        """
        X = self._raw_inputs(X, "float64")
        xp = self.backend.xp
        mean = xp.mean(X, axis=1, keepdims=True)
        spread = xp.std(X, axis=1, keepdims=True)
        scale = xp.where(spread > 0, spread, xp.ones_like(spread))
        self._scaling = (mean, scale)
        return self

    @property
    def input_scaling(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mean, scale)`` as host ``(n_x, 1)`` float64 arrays, or None when inputs are used as given."""
        if self._scaling is None:
            return None
        return tuple(np.asarray(to_numpy(a), dtype=np.float64) for a in self._scaling)

    # ------------------------------------------------------------------ training
    @_on_device
    def fit(self, X, Y, learning_rate=0.0075, num_iterations=2500, record_every=100, *,
            optimizer="gd", batch_size=None, epochs=None, schedule=None, l2=0.0, keep_prob=1.0,
            validation=None, patience=None, shuffle_seed=10, dropout_rng=1, batch_order=None, chunks=None,
            print_cost=False, progress=None, checkpoint_path=None, checkpoint_every=None,
            resume=False, curve_points=None) -> History:
        """Train; returns the recorded costs. By default full-batch gradient descent.

        Costs are recorded before the update at iterations ``0, record_every, ...``
        and at the last one. ``progress`` shows a tqdm bar (default: when stderr is
        a terminal); ``print_cost`` prints course-style lines at recorded iterations.
        ``curve_points`` records (without printing) about that many more costs,
        evenly spaced, for a smooth learning curve: each is one device-to-host read.
        With ``checkpoint_path`` and ``checkpoint_every`` the model is saved every
        that many iterations; ``resume=True`` continues from that file if it
        exists, giving the same result as an uninterrupted run.

        The defaults are the course's deep (L-layer) recipe; small networks usually
        need a larger ``learning_rate`` (the course's planar model:
        ``Network([2, 4, 1], hidden="tanh", init="small", seed=2)`` with
        ``learning_rate=1.2, num_iterations=10000``). A run of at least
        ``STALL_MIN_ITERATIONS`` iterations that ends no better than always
        predicting the mean label issues a :class:`TrainingWarning` saying so.

        Training options (see the README's "Training options"):

        - ``optimizer``: ``"gd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"`` or an
          object of :mod:`dnn_xp.optimizers` (``adam(beta1=0.8)``); its state is checkpointed.
        - ``batch_size`` and ``epochs``: mini-batches; then ``epochs`` counts passes
          over the data (and ``record_every``, ``checkpoint_every`` count epochs),
          epoch ``e`` is shuffled with ``RandomState(shuffle_seed + 1 + e)`` and the
          recorded cost is the epoch average. Without them an epoch is one full-batch
          iteration and ``num_iterations`` counts them.
        - ``schedule``: a name or :mod:`dnn_xp.schedules` object, ``lr = schedule(learning_rate, epoch)``.
        - ``l2``: adds ``l2 / (2m) * sum(W**2)`` to the cost; ``keep_prob``: inverted
          dropout on the hidden layers (a float or one per hidden layer), masks drawn
          on the host with ``RandomState(dropout_rng + epoch)``, the same on every backend;
          ``dropout_rng="device"`` draws them with the device's generator instead (faster,
          not reproducible across backends; not on array_api_strict).
        - ``batch_order``: ``"course"`` (the default, except on dask) cuts each epoch's
          permutation of all examples into consecutive batches; ``"chunks"`` (dask's
          default) shuffles within each chunk of examples and takes every batch from
          all chunks in step, so on a cluster no example leaves its worker; see
          :func:`dnn_xp.batching.chunked_batches`. The same order on any backend
          gives the same run.
        - ``chunks``: how the examples are split, a count or the column counts of
          each chunk. On dask, NumPy ``X`` and ``Y`` are scattered in that many
          chunks (default: one per worker thread); a dask ``X`` keeps its own. With
          ``batch_order="chunks"`` on other backends it names the chunks (default 1).
        - ``validation=(X_val, Y_val)``: its cost (and accuracy) is recorded at the
          recorded epochs; with ``patience`` training stops after that many records
          without a new lowest validation cost, and the best weights are kept.
        """
        learning_rate = check_positive_number(learning_rate, "learning_rate")
        num_iterations = check_count(num_iterations, "num_iterations")
        record_every = check_count(record_every, "record_every")
        options = FitOptions.check(len(self.layer_dims) - 2, optimizer=optimizer, batch_size=batch_size,
                                   epochs=epochs, schedule=schedule, l2=l2, keep_prob=keep_prob,
                                   shuffle_seed=shuffle_seed, dropout_rng=dropout_rng, patience=patience,
                                   validation=validation)
        if checkpoint_every is not None:
            checkpoint_every = check_count(checkpoint_every, "checkpoint_every")
            if checkpoint_path is None:
                raise ValueError("checkpoint_every needs checkpoint_path, the file to save to")
        batch_order = self._batch_order(batch_order, chunks, batch_size)
        dtype_name = self._working_dtype(X)
        X, Y = self._training_data(X, Y, dtype_name, chunks)
        if batch_order == "chunks" and options.batch_size is not None:
            options = options.in_chunks(self.backend.column_chunks(X) or _chunk_sizes(X.shape[1], chunks))
        if not options.plain or validation is not None:
            return self._fit_epochs(X, Y, dtype_name, learning_rate, num_iterations, record_every, options,
                                    validation, print_cost, progress, checkpoint_path, checkpoint_every, resume)

        history, start = History(), 0
        run = self._run_identity(X, Y, dtype_name, learning_rate) if checkpoint_path is not None else None
        if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
            history, start, _ = self._restore_checkpoint(checkpoint_path, run, num_iterations)
        layers = [(self._cast(W, dtype_name), self._cast(b, dtype_name)) for W, b in self._layers]
        before = self.iterations_total  # iterations of earlier fits
        if start == num_iterations:  # the checkpoint holds this very run, finished
            self._layers, self.iterations_trained = layers, num_iterations
            self.iterations_total = before + num_iterations
            return history

        def save(current, iteration):
            self._layers, self.iterations_trained = current, iteration
            self.iterations_total = before + iteration
            self.save(checkpoint_path, _checkpoint={"iterations": history.iterations, "costs": history.costs,
                                                    "run": run})

        curve_every = None
        if curve_points is not None:
            curve_every = max(1, num_iterations // check_count(curve_points, "curve_points"))
        with self._training_run(progress, num_iterations, start, before) as bar:
            layers = train(layers, X, Y, self.backend, self.hidden, self.output, learning_rate, start=start,
                           stop=num_iterations, record_every=record_every, history=history, print_cost=print_cost,
                           bar=bar, checkpoint_every=checkpoint_every,
                           save=save if checkpoint_path is not None else None, curve_every=curve_every)
        self._layers = layers
        self.iterations_trained = num_iterations
        self.iterations_total = before + num_iterations
        if num_iterations - start >= STALL_MIN_ITERATIONS:
            self._warn_if_stalled(history, Y, learning_rate)
        return history

    def _batch_order(self, batch_order, chunks, batch_size) -> str:
        """``fit``'s batch order, checked: the default is ``"chunks"`` on dask and ``"course"`` elsewhere."""
        if batch_order is not None and batch_size is None:
            raise ValueError("batch_order orders mini-batches: give batch_size and epochs too")
        if batch_order is None:
            batch_order = "chunks" if self.backend.name == "dask" else "course"
        if batch_order not in ("course", "chunks"):
            raise ValueError(f"batch_order must be 'course' or 'chunks'; got batch_order={batch_order!r}")
        if batch_order == "chunks" and batch_size is not None and self.backend.name == "jax":
            raise ValueError("batch_order='chunks' picks each batch from Python, which jax.jit cannot trace; "
                             "use batch_order='course' on backend='jax'")
        if chunks is not None and self.backend.name != "dask" and (batch_order != "chunks" or batch_size is None):
            raise ValueError("chunks splits the examples on backend='dask', or names the chunks of "
                             "batch_order='chunks' with a batch_size; drop it, or use one of those")
        return batch_order

    def _warn_if_stalled(self, history: History, Y, learning_rate: float) -> None:
        """A TrainingWarning when the final cost is no better than predicting the mean label."""
        final = history.costs[-1]
        baseline = float(compiled(self.backend, constant_cost_array, self.backend.xp, output=self.output)(Y))
        if baseline > 0 and final > STALL_FRACTION * baseline:
            warnings.warn(
                f"after {history.iterations[-1] + 1} iterations the cost is {final:.4f}, no better than "
                f"{baseline:.4f}, the cost of always predicting the mean label: the network has not learned. "
                f"Try a larger learning_rate than {learning_rate}, more iterations, or another hidden "
                f"activation or init (the course's planar model: hidden='tanh', init='small', seed=2, "
                f"learning_rate=1.2, num_iterations=10000)", TrainingWarning, stacklevel=3)

    def _fit_epochs(self, X, Y, dtype_name, learning_rate, num_iterations, record_every, options: FitOptions,
                    validation, print_cost, progress, checkpoint_path, checkpoint_every, resume) -> History:
        """``fit`` through :func:`dnn_xp.training.train_epochs`: optimizers, mini-batches, regularization."""
        stop = options.epochs if options.batch_size is not None else num_iterations
        validate = stopping = None
        if validation is not None:
            validate = self._validator(validation, dtype_name)
            stopping = EarlyStopping(options.patience)
        run = {**self._run_identity(X, Y, dtype_name, learning_rate), **options.identity()}
        history, start, opt_state = History(), 0, None
        if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
            history, start, saved = self._restore_checkpoint(checkpoint_path, run, stop)
            opt_state, stopping = self._restore_training_state(saved, stopping)
        layers = [(self._cast(W, dtype_name), self._cast(b, dtype_name)) for W, b in self._layers]
        before = self.iterations_total  # iterations (epochs) of earlier fits
        if start == stop or (stopping is not None and stopping.stopped):  # the checkpoint holds this run, finished
            return self._finish_epochs(layers, history, stopping, options.patience, before, start)
        if opt_state is None:
            opt_state = options.optimizer.init(layers, self.backend.xp)

        def save(current, state, epoch):
            self._layers, self.iterations_trained = current, epoch
            self.iterations_total = before + epoch
            arrays = {f"optimizer.{k}": v for k, v in state_arrays(state).items()}
            progress_meta = {"iterations": history.iterations, "costs": history.costs, "run": run,
                             "validation_costs": history.validation_costs,
                             "validation_accuracies": history.validation_accuracies}
            if stopping is not None and stopping.best_layers is not None:
                progress_meta["best"] = {"cost": stopping.best_cost, "epoch": stopping.best_epoch,
                                         "waited": stopping.waited}
                for l, (W, b) in enumerate(stopping.best_layers, start=1):
                    arrays[f"best.W{l}"], arrays[f"best.b{l}"] = W, b
            self.save(checkpoint_path, _checkpoint=progress_meta, _arrays=arrays)

        with self._training_run(progress, stop, start, before) as bar:
            layers, opt_state, last = train_epochs(
                layers, opt_state, X, Y, self.backend, options.recipe(self.hidden, self.output), learning_rate,
                options.schedule, start=start, stop=stop, record_every=record_every, history=history,
                shuffle_seed=options.shuffle_seed, mask_seed=options.dropout_seed,
                device_masks=options.dropout_on_device, validate=validate,
                stopping=stopping, print_cost=print_cost, bar=bar, checkpoint_every=checkpoint_every,
                save=save if checkpoint_path is not None else None)
        return self._finish_epochs(layers, history, stopping, options.patience, before, last + 1)

    def _finish_epochs(self, layers, history: History, stopping: EarlyStopping | None, patience, before: int,
                       done: int) -> History:
        """Keep a finished run's weights (with ``patience``, the best ones) after its ``done`` epochs."""
        if stopping is not None and stopping.best_layers is not None:
            history.best_iteration = stopping.best_epoch
            if patience is not None:
                layers = stopping.best_layers
        self._layers, self.iterations_trained = layers, done
        self.iterations_total = before + done
        return history

    def _validator(self, validation, dtype_name: str):
        """``validate(layers) -> (cost, accuracy or None)`` on the validation data, moved to the device once."""
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, Y_val) with examples as columns")
        X_val = self._inputs(validation[0], dtype_name)
        Y_val = self._labels(validation[1], X_val.shape[1], dtype_name)
        return functools.partial(validation_scores, X=X_val, Y=Y_val, hidden=self.hidden, output=self.output,
                                 xp=self.backend.xp)

    @contextlib.contextmanager
    def _training_run(self, progress, total: int, start: int, before: int):
        """The run's progress bar; on divergence the network keeps the last finite weights the loop found."""
        bar = _progress_bar(progress, total, start)
        try:
            yield bar
        except Diverged as exc:
            self._layers, self.iterations_trained = exc.layers, exc.iteration
            self.iterations_total = before + exc.iteration
            exc.layers = None
            raise
        finally:
            if bar is not None:
                bar.close()

    def _cast(self, array, dtype_name: str):
        dtype = self.backend.dtype(dtype_name)
        return array if array.dtype == dtype else self.backend.xp.astype(array, dtype)

    def _run_identity(self, X, Y, dtype_name: str, learning_rate: float) -> dict:
        """What makes a run this run, as a checkpoint records it (JSON): network, settings and data."""
        return {
            "layer_dims": self.layer_dims,
            "hidden": self.hidden.name,
            "output": self.output.name,
            "dtype": dtype_name,
            "init": self.init if isinstance(self.init, str) else float(self.init),
            "seed": None if self.seed is None else int(self.seed),
            "learning_rate": learning_rate,
            "data_shape": [int(n) for n in X.shape],
            "data_fingerprint": _fingerprint(X, Y),
        }

    def _restore_checkpoint(self, path, run: dict, num_iterations: int):
        """Load the weights and cost history saved at iteration ``k``; returns ``(history, k, checkpoint)``.

        The checkpoint must come from the same run (:meth:`_run_identity`); ``k``
        equals ``num_iterations`` when it holds the finished run. ``checkpoint`` is the
        loaded file, whose training state :meth:`_restore_training_state` reads.
        """
        saved = Network.load(path, backend=self.backend.name, device=self.backend.device)
        if saved._checkpoint is None:
            raise ValueError(f"{str(path)!r} is a saved model, not a checkpoint (it holds no training "
                             f"progress); give the checkpoint another file name than the saved model, "
                             f"or delete that file to train from the start")
        found = saved._checkpoint["run"]
        different = [key for key in run if found.get(key) != run[key]]
        if different:
            diff = ", ".join(f"{key} {found.get(key)!r} vs {run[key]!r}" for key in different)
            raise ValueError(f"checkpoint {str(path)!r} is from another run (checkpoint vs this run: {diff}); "
                             f"delete it or pass another checkpoint_path")
        if saved.iterations_trained > num_iterations:
            raise ValueError(f"checkpoint {str(path)!r} is at iteration {saved.iterations_trained}, "
                             f"past num_iterations={num_iterations}; ask for at least that many iterations "
                             f"or pass another checkpoint_path")
        self._layers = saved._layers
        self.iterations_trained = saved.iterations_trained
        self.iterations_total = saved.iterations_total - saved.iterations_trained
        progress = saved._checkpoint
        history = History(list(progress["iterations"]), list(progress["costs"]), start=saved.iterations_trained,
                          validation_costs=list(progress.get("validation_costs", [])),
                          validation_accuracies=list(progress.get("validation_accuracies", [])))
        return history, saved.iterations_trained, saved

    def _restore_training_state(self, saved: "Network", stopping: EarlyStopping | None):
        """The optimizer state and early-stopping record of the checkpoint ``saved``, on the device."""
        dtype = self._layers[0][0].dtype
        on_device = {k: self.backend.asarray(v, dtype, k) if v.ndim else int(v)  # 0-d: a step counter
                     for k, v in saved._checkpoint_arrays.items()}
        opt_state = state_from_arrays({k.removeprefix("optimizer."): v for k, v in on_device.items()
                                       if k.startswith("optimizer.")})
        best = saved._checkpoint.get("best")
        if stopping is not None and best is not None:
            count = len(self.layer_dims) - 1
            stopping.best_layers = [(on_device[f"best.W{l}"], on_device[f"best.b{l}"]) for l in range(1, count + 1)]
            stopping.best_cost, stopping.best_epoch, stopping.waited = best["cost"], best["epoch"], best["waited"]
        return opt_state, stopping

    # ------------------------------------------------------------------ inference
    def _logits(self, X):
        X = self._inputs(X, self._parameter_dtype())
        return forward(self._layers, X, self.hidden, self.backend.xp)[0]

    @_on_device
    def predict_proba(self, X):
        """The output activation of the last layer, ``(n_L, m)``, on the backend."""
        return probabilities(self._logits(X), self.output, self.backend.xp)

    @_on_device
    def predict(self, X):
        """Class 1 where the probability is above 0.5, else 0: ``(1, m)`` in the parameters' dtype.

        For ``output="softmax"`` the most probable class id of each column, ``(1, m)``;
        for ``output="identity"`` the regression output itself.
        """
        P = self.predict_proba(X)
        if self.output.name == "softmax":
            return class_ids(self.backend.xp, P, P.dtype)
        if not self.output.classifies:
            return P
        return self.backend.xp.astype(P > 0.5, P.dtype)

    @_on_device
    def accuracy(self, X, Y) -> float:
        """Fraction of columns where :meth:`predict` equals ``Y`` (class ids or one-hot for softmax)."""
        if not self.output.classifies:
            raise ValueError("accuracy needs output='sigmoid' or 'softmax'; use cost() for a regression network")
        P = self.predict(X)
        return accuracy(self.backend.xp, P, self._labels(Y, P.shape[1], self._parameter_dtype()), self.output.name)

    @_on_device
    def cost(self, X, Y) -> float:
        """The output layer's cost (cross-entropy for sigmoid) on ``(X, Y)``."""
        Z = self._logits(X)
        Y = self._labels(Y, Z.shape[1], self._parameter_dtype())
        return float(cost(Z, Y, self.output, self.backend.xp))

    # ------------------------------------------------------------------ files
    def save(self, path, *, _checkpoint: dict | None = None, _arrays: dict | None = None) -> Path:
        """Write the model to ``path`` (``.npz``, no pickle) atomically; returns the path.

        Parameters holding NaN or Inf are refused (such a model could not be loaded).
        A checkpoint adds its training state as further arrays (``optimizer.v.0``, ...).
        """
        arrays = {name: to_numpy(value) for name, value in {**self.parameters, **(_arrays or {})}.items()}
        for name, value in arrays.items():
            if not np.isfinite(value).all():
                raise ValueError(f"{name} contains NaN or Inf; a model with non-finite parameters "
                                 f"is not saved")
        if self.input_scaling is not None:
            arrays["mean"], arrays["scale"] = self.input_scaling
        meta = {
            "version": __version__,
            "layer_dims": self.layer_dims,
            "hidden": self.hidden.name,
            "output": self.output.name,
            "dtype": self._parameter_dtype(),
            "iterations_trained": self.iterations_trained,
            "iterations_total": self.iterations_total,
        }
        if self.trained_on is not None:
            meta["trained_on"] = self.trained_on
        if _checkpoint is not None:
            meta["checkpoint"] = _checkpoint
        return write_model(path, arrays, meta)

    @classmethod
    def load(cls, path, backend=None, device=None) -> "Network":
        """Read a model saved by :meth:`save` onto any backend, parameters bit for bit."""
        arrays, meta = read_model(path)
        scaling = [arrays.pop(name) for name in ("mean", "scale") if name in arrays]
        extra = {k: arrays.pop(k) for k in list(arrays) if "." in k}  # a checkpoint's training state
        try:
            _check_description(meta)
            net = cls.from_parameters(arrays, meta["hidden"], meta["output"], backend, device, meta["dtype"])
            if net.layer_dims != meta["layer_dims"]:
                raise ValueError(f"arrays give layer_dims {net.layer_dims}, description {meta['layer_dims']}")
            net.iterations_trained = meta.get("iterations_trained", 0)
            net.iterations_total = meta.get("iterations_total", net.iterations_trained)
            net.trained_on = meta.get("trained_on")
            if scaling:
                net._scaling = net._stored_scaling(scaling)
            net._checkpoint = _checked_progress(meta.get("checkpoint"))
        except BackendError:
            raise
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} is an inconsistent dnn_xp model: {exc}") from None
        net._checkpoint_arrays = extra
        return net

    def _stored_scaling(self, arrays):
        """Saved ``mean`` and ``scale`` arrays, checked, on the backend."""
        n_x = self.layer_dims[0]
        if len(arrays) != 2 or any(a.shape != (n_x, 1) for a in arrays):
            raise ValueError(f"mean and scale must both be stored, each of shape ({n_x}, 1); "
                             f"got shapes {[a.shape for a in arrays]}")
        mean, scale = (np.asarray(a, dtype=np.float64) for a in arrays)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("mean must be finite and scale finite and positive")
        return tuple(self._to_backend(a, "float64", name) for a, name in ((mean, "mean"), (scale, "scale")))

    def summary(self) -> str:
        """A Keras-style table: each layer's output shape, activation and parameter count,
        the total, the dtype and the backend/device (see :mod:`dnn_xp.summary`)."""
        from .summary import format_summary

        return format_summary(self.layer_dims, self.hidden.name, self.output.name, self._parameter_dtype(),
                              self.backend.name, self.backend.device_label)

    def to_onnx(self, path) -> Path:
        """Write the inference graph to ``path`` as ONNX (needs ``onnx``): ``X: (N, n_x)`` rows in,
        ``(N, n_L)`` out, standardized first as :meth:`standardize` set; see :mod:`dnn_xp.onnx_export`.
        Returns the path."""
        from .onnx_export import network_to_onnx, save_onnx

        layers = [(to_numpy(W), to_numpy(b)) for W, b in self._layers]
        return save_onnx(network_to_onnx(layers, self.hidden.name, self.output.name, self.input_scaling), path)

    def __repr__(self) -> str:
        return (f"Network({self.layer_dims}, hidden={self.hidden.name!r}, output={self.output.name!r}, "
                f"backend={self.backend.name!r}, dtype={self._parameter_dtype()!r})")


_DESCRIPTION = {"layer_dims": list, "hidden": str, "output": str, "dtype": str}
_PROGRESS = {"iterations": list, "costs": list, "run": dict}
FINGERPRINT_ROWS, FINGERPRINT_COLUMNS = 64, 1024  # the part of X sampled into a checkpoint's fingerprint


def _chunk_sizes(m: int, chunks) -> tuple[int, ...]:
    """The column counts ``chunks`` names on a backend without chunks: a count (default 1) or the counts."""
    if chunks is None or isinstance(chunks, int):
        return even_chunks(m, 1 if chunks is None else chunks)
    sizes = tuple(int(c) for c in chunks)
    if sum(sizes) != m or min(sizes) < 1:
        raise ValueError(f"chunks={chunks!r} must be positive column counts that add up to the {m} examples")
    return sizes


def _fingerprint(X, Y) -> str:
    """A cheap fingerprint of the data: a hash of the shapes, all of ``Y`` and an evenly strided sample of ``X``.

    ``Y`` (one row per output) and at most ``64 x 1024`` entries of ``X`` come to the
    host, once per ``fit`` with a checkpoint; a change to ``X`` outside the sample
    goes unnoticed.
    """
    rows, columns = X.shape
    sample = X[:: max(1, rows // FINGERPRINT_ROWS), :: max(1, columns // FINGERPRINT_COLUMNS)]
    digest = hashlib.sha256(repr((tuple(X.shape), tuple(Y.shape))).encode())
    for part in (sample, Y):
        digest.update(np.ascontiguousarray(to_numpy(part), dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def _check_description(meta: dict) -> None:
    """The model description's keys and types, so that nothing below meets a surprise."""
    _check_keys(meta, _DESCRIPTION, "its description")
    if meta["dtype"] not in DTYPES:
        raise ValueError(f"its description names dtype {meta['dtype']!r}, not one of {', '.join(DTYPES)}")
    for key in ("iterations_trained", "iterations_total"):
        count = meta.get(key, 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"its description gives {key}={count!r}, not a whole number >= 0")


def _checked_progress(progress):
    """A checkpoint's record (``None`` for a plain model), its keys and types checked."""
    if progress is None:
        return None
    if not isinstance(progress, dict):
        raise ValueError(f"its checkpoint record is {type(progress).__name__}, not an object")
    _check_keys(progress, _PROGRESS, "its checkpoint record")
    iterations, costs = progress["iterations"], progress["costs"]
    if (len(iterations) != len(costs) or not all(type(i) is int for i in iterations)
            or not all(type(c) in (int, float) for c in costs)):
        raise ValueError("its checkpoint record's iterations and costs are not two lists of numbers "
                         "of the same length")
    return progress


def _check_keys(record: dict, types: dict, what: str) -> None:
    for key, kind in types.items():
        if key not in record:
            raise ValueError(f"{what} lacks {key!r}")
        if isinstance(record[key], bool) or not isinstance(record[key], kind):
            raise ValueError(f"{what} has {key}={record[key]!r}, which is not a {_kind_name(kind)}")


def _kind_name(kind) -> str:
    return {list: "list", str: "text", dict: "object"}.get(kind, "number")


def _progress_bar(progress, total: int, start: int):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, desc="training", unit="it", leave=False)
