"""scikit-learn estimators over :class:`~dnn_xp.Network`: ``DNNClassifier`` and ``DNNRegressor``.

They follow scikit-learn's conventions, not the library's: ``X`` is
``(n_samples, n_features)`` with examples as **rows** (transposed to dnn_xp's
columns inside), the constructor only stores hyperparameters, ``fit`` returns
``self``. Needs scikit-learn (``pip install "dnn_xp[sklearn]"``).

Where training runs: NumPy (and other array-likes) train on ``backend``/``device``
(default: ``$DNN_XP_BACKEND``, else NumPy). With
``sklearn.set_config(array_api_dispatch=True)``, arrays of torch, CuPy or
array_api_strict train where they are, on their own device, and every result
(``predict``, ``predict_proba``) comes back in the namespace and on the device of
``X`` — ``backend`` and ``device`` then do not apply. Labels ``y`` are read to the
host once per ``fit`` (to find the classes); the training loop never copies.
"""

from __future__ import annotations

import numbers

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised only without the optional extra
    raise ImportError('dnn_xp.sklearn needs scikit-learn: pip install "dnn_xp[sklearn]"') from None

from .backend import backend_of, to_numpy
from .network import Network

SEED_RANGE = 2**31 - 1


class _DNNEstimator(BaseEstimator):
    """What both estimators share: hyperparameters, data conversion, the network and pickling."""

    _output_kinds: tuple[str, ...]

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", init="he", optimizer="adam",
                 learning_rate=0.001, batch_size=200, epochs=200, l2=0.0, keep_prob=1.0,
                 early_stopping=False, validation_fraction=0.1, patience=10, backend=None, device=None,
                 dtype=None, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.l2 = l2
        self.keep_prob = keep_prob
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    # ------------------------------------------------------------------ inputs
    def _validate(self, X, y=None, *, reset: bool, **options):
        """Validated ``X`` (and ``y``): 2-D, finite, numeric, dense; records ``n_features_in_`` on reset."""
        if y is None and not reset:
            return validate_data(self, X, reset=False, accept_sparse=False, dtype="numeric")
        return validate_data(self, X, y, reset=reset, accept_sparse=False, dtype="numeric", **options)

    def _where(self, X) -> tuple:
        """``(backend, device)`` for training on ``X``: X's own under array_api_dispatch, else the parameters'."""
        if sklearn.get_config()["array_api_dispatch"] and not isinstance(X, np.ndarray):
            own = backend_of(X)
            return own.name, own.device
        return self.backend, self.device

    @staticmethod
    def _place(X) -> tuple[str, str]:
        """``(library, device)`` of ``X`` as array_api_dispatch sees it; NumPy when dispatch is off."""
        if not sklearn.get_config()["array_api_dispatch"]:
            return "numpy", "None"
        own = backend_of(X)
        return own.name, str(own.device)

    def _check_same_namespace(self, X, method: str) -> None:
        """Under array_api_dispatch, refuse inputs of another namespace or device than ``fit`` had."""
        found, fitted = self._place(X), self._fit_input_
        if found != fitted:
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the same namespace and device "
                f"as those passed to fit(): fit had {fitted[0]} on {fitted[1]}, this call {found[0]} on {found[1]}"
            )

    def _columns(self, X):
        """``X: (n_samples, n_features)`` as the network's ``(n_features, n_samples)``."""
        return X.T

    def _result(self, array, X):
        """``array`` in the namespace of the caller's ``X``: NumPy unless X is an array of the network's backend."""
        return array if self.network_.backend.owns(X) else to_numpy(array)

    def _host_targets(self, y) -> np.ndarray:
        return np.asarray(to_numpy(y)) if not isinstance(y, np.ndarray) else y

    # ------------------------------------------------------------------ training
    def _draw_seed(self) -> int:
        """The seed of the weights, shuffles and dropout masks: ``random_state`` itself when an int."""
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(SEED_RANGE))

    def _check_hyperparameters(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(f"hidden_layer_sizes must be a tuple of positive ints; "
                            f"got {self.hidden_layer_sizes!r}") from None
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive ints; got {self.hidden_layer_sizes!r}")
        for name in ("epochs", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        return sizes

    def _new_network(self, X, n_out: int, output: str) -> Network:
        sizes = self._check_hyperparameters()
        backend, device = self._where(X)
        self._seed_ = self._draw_seed()
        self._fit_input_ = self._place(X)
        self.n_iter_ = 0
        return Network([X.shape[1], *sizes, n_out], hidden=self.activation, output=output, init=self.init,
                       seed=self._seed_, backend=backend, device=device, dtype=self.dtype)

    def _train(self, X, Y, epochs: int) -> None:
        """Train ``network_`` from its current weights on ``X: (n_samples, n_x)``, ``Y: (n_out, n_samples)``.

        With ``early_stopping`` a ``validation_fraction`` of the rows (drawn with the
        estimator's seed) is held out, and training stops after ``patience`` epochs
        without a lower validation cost, keeping the best weights.
        """
        net = self.network_
        self._check_hyperparameters()
        seed = self._seed_ + self.n_iter_  # each partial_fit call shuffles anew
        validation = patience = None
        if self.early_stopping:
            X, Y, validation = self._hold_out(X, Y, seed)
            patience = self.patience
        mini_batches = self.batch_size is not None
        history = net.fit(self._columns(X), Y, learning_rate=self.learning_rate, record_every=1,
                          num_iterations=epochs, optimizer=self.optimizer,
                          batch_size=min(self.batch_size, X.shape[0]) if mini_batches else None,
                          epochs=epochs if mini_batches else None, l2=self.l2, keep_prob=self.keep_prob,
                          validation=validation, patience=patience, shuffle_seed=seed, dropout_rng=seed,
                          progress=False)
        self.loss_curve_ = list(history.costs)
        if validation is not None:
            self.validation_scores_ = list(history.validation_costs)
            self.best_epoch_ = history.best_iteration
        self.n_iter_ += len(history.costs)

    def _hold_out(self, X, Y, seed: int):
        """``(X_train, Y_train, (X_val: columns, Y_val))``: a seeded ``validation_fraction`` of the rows."""
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            raise ValueError(f"validation_fraction must be between 0 and 1; got {fraction!r}")
        m = X.shape[0]
        n_val = int(round(fraction * m))
        if not 1 <= n_val < m:
            raise ValueError(f"early_stopping holds out validation_fraction={fraction} of {m} examples, "
                             f"{n_val}; that leaves no validation or no training data")
        order = check_random_state(seed).permutation(m)
        net = self.network_
        on_device = net.backend.owns(X)
        take_rows = (lambda A, rows: net.backend.xp.take(A, net.backend.asarray(rows), axis=0)) if on_device \
            else (lambda A, rows: A[rows])
        take_columns = (lambda A, rows: net.backend.xp.take(A, net.backend.asarray(rows), axis=1)) \
            if net.backend.owns(Y) else (lambda A, rows: A[:, rows])
        val, train = order[:n_val], order[n_val:]
        X_val = take_rows(X, val)
        return take_rows(X, train), take_columns(Y, train), (self._columns(X_val), take_columns(Y, val))

    # ------------------------------------------------------------------ export, pickling
    def to_onnx(self, path):
        """Write the fitted estimator's inference graph to ``path`` as ONNX; see :mod:`dnn_xp.onnx_export`."""
        check_is_fitted(self)
        from .onnx_export import save_onnx

        return save_onnx(self._onnx_model(), path)

    def _host_layers(self):
        params = self.network_.parameters
        return [(to_numpy(params[f"W{l}"]), to_numpy(params[f"b{l}"])) for l in range(1, len(params) // 2 + 1)]

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns __dict__ itself
        if "network_" in state:
            net = self.network_
            state["network_"] = {
                "parameters": {k: to_numpy(v) for k, v in net.parameters.items()},
                "hidden": net.hidden.name, "output": net.output.name,
                "backend": net.backend.name,
                "device": None if net.backend.name == "numpy" else net.backend.device_label,
            }
        return state

    def __setstate__(self, state):
        saved = state.get("network_")
        if isinstance(saved, dict):
            state = dict(state)
            state["network_"] = Network.from_parameters(saved["parameters"], saved["hidden"], saved["output"],
                                                        backend=saved["backend"], device=saved["device"])
        super().__setstate__(state)


class DNNClassifier(ClassifierMixin, _DNNEstimator):
    """A deep fully connected classifier: sigmoid output for two classes, softmax for more.

    ``classes_`` holds the sorted labels (any values, strings too); ``predict_proba``
    returns ``(n_samples, n_classes)``. Hyperparameters mirror :class:`~dnn_xp.Network`
    and :meth:`~dnn_xp.Network.fit`; ``epochs`` passes over the data per ``fit``, one per
    ``partial_fit``.
    """

    def fit(self, X, y):
        """Train a fresh network on ``X: (n_samples, n_features)`` and labels ``y: (n_samples,)``."""
        X, y = self._validate(X, y, reset=True)
        labels = self._host_targets(y)
        check_classification_targets(labels)
        self.classes_ = np.unique(labels)
        self._start(X)
        self._train(X, self._encode(labels), self.epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)`` from the current weights; the first call needs ``classes``."""
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError("the first call to partial_fit needs classes=, all the labels y may take")
        X, y = self._validate(X, y, reset=first)
        labels = self._host_targets(y)
        check_classification_targets(labels)
        if first:
            self.classes_ = np.unique(np.asarray(classes))
            self._start(X)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the first call's {self.classes_!r}")
        self._train(X, self._encode(labels), 1)
        return self

    def _start(self, X) -> None:
        if len(self.classes_) < 2:
            raise ValueError(f"DNNClassifier needs at least 2 classes in y; got 1 class ({self.classes_[0]!r})")
        binary = len(self.classes_) == 2
        self.network_ = self._new_network(X, 1 if binary else len(self.classes_), "sigmoid" if binary else "softmax")

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        """Host labels as the network's targets: ``(1, m)`` of 0/1, or one-hot ``(C, m)``."""
        index = np.searchsorted(self.classes_, labels)
        index = np.minimum(index, len(self.classes_) - 1)
        unknown = self.classes_[index] != labels
        if np.any(unknown):
            raise ValueError(f"y holds labels not among classes_ {self.classes_.tolist()}: "
                             f"{np.unique(labels[unknown]).tolist()}")
        if len(self.classes_) == 2:
            return index.reshape(1, -1).astype(np.float64)
        return (np.arange(len(self.classes_))[:, None] == index[None, :]).astype(np.float64)

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        self._check_same_namespace(X, "predict_proba")
        return self._result(self._proba(X), X)

    def _proba(self, X):
        net = self.network_
        P = net.predict_proba(self._columns(X)).T
        if P.shape[1] == 1:
            return net.backend.xp.concat([1.0 - P, P], axis=1)
        return P

    def predict(self, X):
        """The most probable class of each example, ``(n_samples,)``, as values of ``classes_``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        self._check_same_namespace(X, "predict")
        net = self.network_
        xp = net.backend.xp
        index = xp.argmax(self._proba(X), axis=1)
        if net.backend.owns(X) and self.classes_.dtype.kind in "biuf":
            return xp.take(net.backend.asarray(self.classes_), index)
        return self.classes_[to_numpy(index)]

    def _onnx_model(self):
        from .onnx_export import classifier_to_onnx

        return classifier_to_onnx(self._host_layers(), self.network_.hidden.name, self.network_.output.name,
                                  self.classes_)


class DNNRegressor(RegressorMixin, _DNNEstimator):
    """A deep fully connected regressor: identity output and half squared error, one or several targets."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train a fresh network on ``X: (n_samples, n_features)`` and ``y: (n_samples,)`` or ``(n_samples, k)``."""
        X, y = self._validate(X, y, reset=True, y_numeric=True, multi_output=True)
        self._start(X, y)
        self._train(X, self._targets(y), self.epochs)
        return self

    def partial_fit(self, X, y):
        """One epoch on ``(X, y)`` from the current weights (a fresh network on the first call)."""
        first = not hasattr(self, "network_")
        X, y = self._validate(X, y, reset=first, y_numeric=True, multi_output=True)
        if first:
            self._start(X, y)
        self._train(X, self._targets(y), 1)
        return self

    def _start(self, X, y) -> None:
        self._single_output_ = len(y.shape) == 1
        self.network_ = self._new_network(X, 1 if self._single_output_ else y.shape[1], "identity")

    def _targets(self, y):
        """``y`` as ``(k, n_samples)``, on the network's device (or the host, which fit moves once)."""
        net = self.network_
        if not (net.backend.owns(y) and str(backend_of(y).device) == str(net.backend.device)):
            y = self._host_targets(y)
        expected = 1 if self._single_output_ else net.layer_dims[-1]
        columns = 1 if len(y.shape) == 1 else y.shape[1]
        if columns != expected or (len(y.shape) == 1) != self._single_output_:
            raise ValueError(f"y has {columns} targets per example but the first fit had {expected}")
        xp = net.backend.xp if net.backend.owns(y) else np
        return xp.reshape(y, (1, -1)) if len(y.shape) == 1 else y.T

    def predict(self, X):
        """Predictions ``(n_samples,)`` for one target, ``(n_samples, k)`` for several."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        self._check_same_namespace(X, "predict")
        net = self.network_
        Y = net.predict_proba(self._columns(X))
        Y = net.backend.xp.reshape(Y, (-1,)) if self._single_output_ else Y.T
        return self._result(Y, X)

    def _onnx_model(self):
        from .onnx_export import regressor_to_onnx

        return regressor_to_onnx(self._host_layers(), self.network_.hidden.name, self._single_output_)
