"""Pictures of training: the learning curve and, for 2-D data, the decision boundary.

Needs matplotlib (``pip install "dnn_xp[plot]"``). Figures are built with
:class:`matplotlib.figure.Figure` and its Agg canvas, never through ``pyplot``,
so nothing here opens a window or changes the interactive backend of a session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .backend import to_numpy

INSTALL_HINT = 'pip install "dnn_xp[plot]"'
GRID_POINTS = 300
# The course's planar figure: Spectral colours, class 0 red and class 1 blue.
COLORMAP = "Spectral"


def require_matplotlib():
    """The ``matplotlib.figure`` module, or an ImportError that says how to install it."""
    try:
        from matplotlib import figure
    except ImportError as exc:
        raise ImportError(f"plots need matplotlib, which is not installed ({exc}); "
                          f"install it with {INSTALL_HINT}") from None
    return figure


def plot_learning_curve(history, path=None, ax=None, title=None):
    """Plot ``history.costs`` against ``history.iterations``; save to ``path`` if given.

    Draws on ``ax`` when given, else on a new figure. Returns the figure.
    """
    ax = _axes(ax)
    if not history.iterations:
        raise ValueError("the history is empty: nothing was recorded, so there is no curve to plot")
    ax.plot(history.iterations, history.costs, marker="." if len(history.costs) <= 50 else None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    ax.set_title(title or f"Learning curve (final cost {history.costs[-1]:.4f})")
    ax.grid(True, alpha=0.3)
    return _finish(ax.figure, path)


def plot_decision_boundary(net, X, Y, path=None, ax=None, title=None):
    """Colour the plane by ``net.predict`` and scatter ``X: (2, m)`` coloured by ``Y: (1, m)``.

    The grid spans the points with a margin of 1, as in the course's planar
    figure. Draws on ``ax`` when given, else on a new figure. Returns the figure.
    """
    X, Y = to_numpy(X), to_numpy(Y)
    if X.ndim != 2 or X.shape[0] != 2 or net.layer_dims[0] != 2:
        raise ValueError(f"a decision boundary needs 2-D data and a network with 2 inputs; "
                         f"got X of shape {X.shape} and layer_dims {net.layer_dims}")
    ax = _axes(ax)
    lows, highs = X.min(axis=1) - 1, X.max(axis=1) + 1
    xx, yy = np.meshgrid(np.linspace(lows[0], highs[0], GRID_POINTS),
                         np.linspace(lows[1], highs[1], GRID_POINTS))
    grid = np.stack([xx.ravel(), yy.ravel()])
    classes = to_numpy(net.predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, classes, levels=[-0.5, 0.5, 1.5], cmap=COLORMAP, alpha=0.8)
    ax.scatter(X[0], X[1], c=Y.ravel(), cmap=COLORMAP, vmin=0, vmax=1, s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"Decision boundary, layers {net.layer_dims}")
    return _finish(ax.figure, path)


def plot_training(net, history, X=None, Y=None, path=None):
    """The learning curve, with the decision boundary beside it when ``X`` is 2-D data.

    This is the picture ``dnn-xp train --plot FILE`` saves. Returns the figure.
    """
    two_d = X is not None and Y is not None and net.layer_dims[0] == 2
    figure = require_matplotlib().Figure(figsize=(11 if two_d else 6, 4.5), layout="constrained")
    axes = figure.subplots(1, 2 if two_d else 1, squeeze=False)[0]
    plot_learning_curve(history, ax=axes[0])
    if two_d:
        plot_decision_boundary(net, X, Y, ax=axes[1])
    return _finish(figure, path)


def _axes(ax):
    if ax is not None:
        return ax
    return require_matplotlib().Figure(figsize=(6, 4.5), layout="constrained").subplots()


def _finish(figure, path):
    if path is not None:
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot save the plot: folder {str(path.parent)!r} does not exist")
        figure.savefig(path, dpi=100)
    return figure
