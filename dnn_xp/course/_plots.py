"""The pictures the course's ``*_utils.py`` draw, through pyplot as its notebooks expect.

Unlike :mod:`dnn_xp.plotting` (which never touches pyplot), these draw on pyplot's current
figure, as the course's helpers do. Need matplotlib (``pip install 'dnn_xp[plot]'``).
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..plotting import require_matplotlib

STEP = 0.01  # the course's grid spacing
COLORMAP = "Spectral"  # the course's plt.cm.Spectral
MISLABELED_FIGSIZE = (40.0, 40.0)  # the default figure size the course's print_mislabeled_images sets
IMAGE_SHAPE = (64, 64, 3)


def _pyplot():
    require_matplotlib()
    from matplotlib import pyplot as plt

    return plt


def decision_boundary(model, X, y, show):
    """Colour the plane by ``model(points)`` and scatter ``X: (2, m)`` coloured by ``y: (1, m)``.

    ``model`` takes host points as rows, ``(k, 2)``, and returns one 0/1 prediction per
    point, e.g. ``lambda x: predict(parameters, x.T)``; the grid spans ``X`` with a margin
    of 1, spaced 0.01. ``show``: end with ``plt.show()``, as course 2's helpers do (week 3's
    does not, so its notebook can title the figure and draw it in a grid of subplots).
    """
    plt = _pyplot()
    X, y = to_numpy(X), to_numpy(y)
    x_min, x_max = X[0, :].min() - 1, X[0, :].max() + 1
    y_min, y_max = X[1, :].min() - 1, X[1, :].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, STEP), np.arange(y_min, y_max, STEP))
    Z = to_numpy(model(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    plt.contourf(xx, yy, Z, cmap=COLORMAP)
    plt.ylabel("x2")
    plt.xlabel("x1")
    plt.scatter(X[0, :], X[1, :], c=y.ravel(), cmap=COLORMAP)
    if show:
        plt.show()


def plot_decision_boundary(model, X, y):
    """The decision regions of ``model`` and the points ``X: (2, m)`` by label ``y: (1, m)``, then ``plt.show()``.

    ``model`` maps host points as rows ``(k, 2)`` to predictions, e.g.
    ``lambda x: predict_dec(parameters, x.T)``.
    """
    decision_boundary(model, X, y, show=True)


def print_mislabeled_images(classes, X, y, p):
    """Draw every image where the prediction differs from the label, titled with both class names.

    ``X: (12288, m)`` holds the images flattened as columns, ``y`` and ``p: (1, m)`` the labels
    and the 0/1 predictions, ``classes`` the class names (bytes, as the course's loader gives
    them, or text). One row of subplots in pyplot's current figure; like the course, it first
    sets pyplot's default figure size to 40 x 40 inches.
    """
    plt = _pyplot()
    X, y, p = to_numpy(X), to_numpy(y), to_numpy(p)
    mislabeled = np.asarray(np.where(p + y == 1))[1]
    plt.rcParams["figure.figsize"] = MISLABELED_FIGSIZE
    for i, index in enumerate(mislabeled):
        plt.subplot(2, len(mislabeled), i + 1)
        plt.imshow(X[:, index].reshape(IMAGE_SHAPE), interpolation="nearest")
        plt.axis("off")
        plt.title("Prediction: " + _name(classes[int(p[0, index])]) + " \n Class: " + _name(classes[int(y[0, index])]))


def _name(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
