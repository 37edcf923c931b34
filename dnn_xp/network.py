"""``Network``: the everyday API. Validates at the boundary; the loop itself is :mod:`dnn_xp.training`.

Examples are columns: ``X`` is ``(n_x, m)`` and ``Y`` is ``(1, m)``. Inputs may be
NumPy arrays (moved to the backend's device once per call) or arrays already on
the backend. Inside :meth:`Network.fit` the only device-to-host read is the cost
at the recorded iterations (every ``record_every``), which is also where a
diverging run is detected.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .activations import get_activation
from .backend import DTYPES, Backend, BackendError, resolve_backend, to_numpy
from .core import cost, forward, probabilities
from .initializers import check_layer_dims, initial_layers
from .losses import get_output
from .saving import read_model, write_model
from .training import train
from .validation import check_count, check_labels, check_matrix, check_positive_number


@dataclass
class History:
    """Costs recorded during :meth:`Network.fit`, before the update of each listed iteration."""

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)

    def record(self, iteration: int, value: float) -> None:
        self.iterations.append(iteration)
        self.costs.append(value)


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
    position a checkpoint resumes from).
    """

    def __init__(self, layer_dims, hidden="relu", output="sigmoid", init="he", seed=0,
                 backend=None, device=None, dtype=None):
        self.layer_dims = check_layer_dims(layer_dims)
        self.hidden = get_activation(hidden, "hidden")
        self.output = get_output(output)
        self.backend: Backend = resolve_backend(backend, device)
        self.dtype = _dtype_name(dtype)
        self.init, self.seed = init, seed
        host_dtype = self.backend.dtype(self.dtype or self.backend.default_float)
        self._layers = [
            (self.backend.asarray(W, host_dtype), self.backend.asarray(b, host_dtype))
            for W, b in initial_layers(self.layer_dims, init, seed)
        ]
        self.iterations_trained = 0
        self._checkpoint: dict | None = None

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
        """A network holding the given ``W1, b1, ...`` (NumPy or backend arrays)."""
        count = len(parameters) // 2
        if count == 0 or set(parameters) != {f"{k}{l}" for l in range(1, count + 1) for k in "Wb"}:
            raise ValueError(f"parameters must be W1, b1, ..., WL, bL; got keys {sorted(parameters)}")
        parameters = {k: v if hasattr(v, "shape") else np.asarray(v) for k, v in parameters.items()}
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
            layers.append((net._to_backend(W, dtype_name, f"W{l}"), net._to_backend(b, dtype_name, f"b{l}")))
        net._layers = layers
        return net

    # ------------------------------------------------------------------ inputs
    def _to_backend(self, array, dtype_name: str, name: str):
        return self.backend.asarray(array, self.backend.dtype(dtype_name), name)

    def _float_dtype_name(self, array) -> str:
        """``"float32"``/``"float64"`` for such an array of NumPy or the backend, else the backend's default."""
        if self.backend.owns(array):
            return next((n for n in self.backend.float_dtypes if array.dtype == self.backend.dtype(n)),
                        self.backend.default_float)
        name = np.asarray(array).dtype.name
        return name if name in DTYPES else self.backend.default_float

    def _working_dtype(self, X) -> str:
        """``dtype=`` if given, else X's float32/float64, else the backend's default (float64 where it has it)."""
        return self.dtype or self._float_dtype_name(X)

    def _parameter_dtype(self) -> str:
        return self._float_dtype_name(self._layers[0][0])

    def _inputs(self, X, dtype_name: str):
        if not hasattr(X, "shape"):
            X = np.asarray(X)
        check_matrix(X, "X", rows=self.layer_dims[0])
        X = self._to_backend(X, dtype_name, "X")
        check_matrix(X, "X", xp=self.backend.xp)
        return X

    def _labels(self, Y, m: int, dtype_name: str):
        if not hasattr(Y, "shape"):
            Y = np.asarray(Y)
        if len(Y.shape) == 1:
            raise ValueError(f"Y must be 2-D, shape ({self.layer_dims[-1]}, m); got shape {tuple(Y.shape)} "
                             f"(use Y.reshape(1, -1))")
        Y = self._to_backend(Y, dtype_name, "Y")
        check_labels(Y, m, self.layer_dims[-1], self.output.classifies, self.backend.xp)
        return Y

    # ------------------------------------------------------------------ training
    @_on_device
    def fit(self, X, Y, learning_rate=0.0075, num_iterations=2500, record_every=100, *,
            print_cost=False, progress=None, checkpoint_path=None, checkpoint_every=None,
            resume=False) -> History:
        """Train by full-batch gradient descent; returns the recorded costs.

        Costs are recorded before the update at iterations ``0, record_every, ...``
        and at the last one. ``progress`` shows a tqdm bar (default: when stderr is
        a terminal); ``print_cost`` prints course-style lines at recorded iterations.
        With ``checkpoint_path`` and ``checkpoint_every`` the model is saved every
        that many iterations; ``resume=True`` continues from that file if it
        exists, giving the same result as an uninterrupted run.
        """
        learning_rate = check_positive_number(learning_rate, "learning_rate")
        num_iterations = check_count(num_iterations, "num_iterations")
        record_every = check_count(record_every, "record_every")
        if checkpoint_every is not None:
            checkpoint_every = check_count(checkpoint_every, "checkpoint_every")
            if checkpoint_path is None:
                raise ValueError("checkpoint_every needs checkpoint_path, the file to save to")
        dtype_name = self._working_dtype(X)
        X = self._inputs(X, dtype_name)
        Y = self._labels(Y, X.shape[1], dtype_name)

        history, start = History(), 0
        if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
            history, start = self._restore_checkpoint(checkpoint_path, dtype_name, learning_rate, num_iterations)
        layers = [(self._cast(W, dtype_name), self._cast(b, dtype_name)) for W, b in self._layers]

        def save(current, iteration):
            self._layers, self.iterations_trained = current, iteration
            self.save(checkpoint_path, _checkpoint={"iterations": history.iterations, "costs": history.costs,
                                                    "learning_rate": learning_rate})

        bar = _progress_bar(progress, num_iterations, start)
        try:
            layers = train(layers, X, Y, self.backend, self.hidden, self.output, learning_rate, start=start,
                           stop=num_iterations, record_every=record_every, history=history, print_cost=print_cost,
                           bar=bar, checkpoint_every=checkpoint_every, save=save)
        finally:
            if bar is not None:
                bar.close()
        self._layers = layers
        self.iterations_trained = num_iterations
        return history

    def _cast(self, array, dtype_name: str):
        dtype = self.backend.dtype(dtype_name)
        return array if array.dtype == dtype else self.backend.xp.astype(array, dtype)

    def _restore_checkpoint(self, path, dtype_name: str, learning_rate: float, num_iterations: int):
        """Load the weights and cost history saved at iteration ``k``; returns ``(history, k)``.

        The checkpoint must come from the same run: same network, dtype and learning rate.
        """
        saved = Network.load(path, backend=self.backend.name, device=self.backend.device)
        progress = saved._checkpoint or {}
        found = (saved.layer_dims, saved.hidden.name, saved.output.name, saved._parameter_dtype(),
                 progress.get("learning_rate"))
        wanted = (self.layer_dims, self.hidden.name, self.output.name, dtype_name, learning_rate)
        if found != wanted:
            labels = ("layer_dims", "hidden", "output", "dtype", "learning_rate")
            diff = ", ".join(f"{k} {f!r} vs {w!r}" for k, f, w in zip(labels, found, wanted) if f != w)
            raise ValueError(f"checkpoint {str(path)!r} is from another run ({diff}); "
                             f"delete it or pass another checkpoint_path")
        if saved.iterations_trained >= num_iterations:
            raise ValueError(f"checkpoint {str(path)!r} is at iteration {saved.iterations_trained}, "
                             f"not before num_iterations={num_iterations}; nothing is left to resume")
        self._layers = saved._layers
        history = History(list(progress["iterations"]), list(progress["costs"]))
        return history, saved.iterations_trained

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

        For ``output="identity"`` this is the regression output itself.
        """
        P = self.predict_proba(X)
        if not self.output.classifies:
            return P
        return self.backend.xp.astype(P > 0.5, P.dtype)

    @_on_device
    def accuracy(self, X, Y) -> float:
        """Fraction of columns where :meth:`predict` equals ``Y``."""
        if not self.output.classifies:
            raise ValueError("accuracy needs output='sigmoid'; use cost() for a regression network")
        xp = self.backend.xp
        P = self.predict(X)
        Y = self._labels(Y, P.shape[1], self._parameter_dtype())
        return int(xp.sum(xp.astype(P == Y, self.backend.integer_dtype))) / math.prod(P.shape)  # exact in any dtype

    @_on_device
    def cost(self, X, Y) -> float:
        """The output layer's cost (cross-entropy for sigmoid) on ``(X, Y)``."""
        Z = self._logits(X)
        Y = self._labels(Y, Z.shape[1], self._parameter_dtype())
        return float(cost(Z, Y, self.output, self.backend.xp))

    # ------------------------------------------------------------------ files
    def save(self, path, *, _checkpoint: dict | None = None) -> Path:
        """Write the model to ``path`` (``.npz``, no pickle) atomically; returns the path."""
        arrays = {name: to_numpy(value) for name, value in self.parameters.items()}
        meta = {
            "version": __version__,
            "layer_dims": self.layer_dims,
            "hidden": self.hidden.name,
            "output": self.output.name,
            "dtype": self._parameter_dtype(),
            "iterations_trained": self.iterations_trained,
        }
        if _checkpoint is not None:
            meta["checkpoint"] = _checkpoint
        return write_model(path, arrays, meta)

    @classmethod
    def load(cls, path, backend=None, device=None) -> "Network":
        """Read a model saved by :meth:`save` onto any backend, parameters bit for bit."""
        arrays, meta = read_model(path)
        try:
            net = cls.from_parameters(arrays, meta["hidden"], meta["output"], backend, device, meta["dtype"])
            if net.layer_dims != meta["layer_dims"]:
                raise ValueError(f"arrays give layer_dims {net.layer_dims}, description {meta['layer_dims']}")
            net.iterations_trained = int(meta.get("iterations_trained", 0))
        except BackendError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} is an inconsistent dnn_xp model: {exc}") from None
        net._checkpoint = meta.get("checkpoint")
        return net

    def __repr__(self) -> str:
        return (f"Network({self.layer_dims}, hidden={self.hidden.name!r}, output={self.output.name!r}, "
                f"backend={self.backend.name!r}, dtype={self._parameter_dtype()!r})")


def _progress_bar(progress, total: int, start: int):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, desc="training", unit="it", leave=False)
