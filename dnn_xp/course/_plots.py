"""The course's ``plot_decision_boundary(model, X, y)``, drawn through pyplot as its notebooks expect.

Unlike :mod:`dnn_xp.plotting` (which never touches pyplot), this draws on pyplot's current
figure and calls ``plt.show()``, which is what the course's notebooks rely on. Needs matplotlib.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..plotting import require_matplotlib

STEP = 0.01  # the course's grid spacing
COLORMAP = "Spectral"  # the course's plt.cm.Spectral


def plot_decision_boundary(model, X, y):
    """Colour the plane by ``model(points)`` and scatter ``X: (2, m)`` coloured by ``y: (1, m)``.

    ``model`` takes host points as rows, ``(k, 2)``, and returns one 0/1 prediction per
    point, e.g. ``lambda x: predict_dec(parameters, x.T)``; the grid spans ``X`` with a
    margin of 1, spaced 0.01.
    """
    require_matplotlib()
    from matplotlib import pyplot as plt

    X, y = to_numpy(X), to_numpy(y)
    x_min, x_max = X[0, :].min() - 1, X[0, :].max() + 1
    y_min, y_max = X[1, :].min() - 1, X[1, :].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, STEP), np.arange(y_min, y_max, STEP))
    Z = to_numpy(model(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    plt.contourf(xx, yy, Z, cmap=COLORMAP)
    plt.ylabel("x2")
    plt.xlabel("x1")
    plt.scatter(X[0, :], X[1, :], c=y.ravel(), cmap=COLORMAP)
    plt.show()
