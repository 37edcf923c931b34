"""dnn_xp: deep fully connected networks from first principles, on any Array API backend.

>>> import dnn_xp
>>> net = dnn_xp.Network([2, 4, 1], hidden="tanh")      # doctest: +SKIP
>>> history = net.fit(X, Y, learning_rate=1.2)           # doctest: +SKIP
"""

__version__ = "0.1.0"

from .backend import BACKENDS, BackendError, resolve_backend, to_numpy  # noqa: E402
from .network import History, Network  # noqa: E402
from . import optimizers, schedules  # noqa: E402
from .gradcheck import gradient_check  # noqa: E402

__all__ = ["BACKENDS", "BackendError", "History", "Network", "gradient_check", "optimizers", "resolve_backend",
           "schedules", "to_numpy", "__version__"]
