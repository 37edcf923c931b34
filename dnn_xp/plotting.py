"""Pictures of training: the learning curve, the decision boundary, predicted vs true values.

Needs matplotlib (``pip install "dnn_xp[plot]"``). Figures are built with
:class:`matplotlib.figure.Figure` and its Agg canvas, never through ``pyplot``,
so nothing here opens a window or changes the interactive backend of a session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .backend import to_numpy
from .saving import write_atomically

INSTALL_HINT = 'pip install "dnn_xp[plot]"'
GRID_POINTS = 300
# The course's planar figure: class 0 red and class 1 blue (the ends of matplotlib's "Spectral").
# Regions and points use the same two colours, the regions lighter.
CLASS_COLORS = ("#d7191c", "#2b83ba")
REGION_ALPHA = 0.35


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

    Regions and points share the class colours (class 0 red, class 1 blue); the
    legend counts each class and the title gives the accuracy on ``(X, Y)``. The
    grid spans the points with a margin of 1, as in the course's planar figure.
    Draws on ``ax`` when given, else on a new figure. Returns the figure.
    """
    X, Y = to_numpy(X), to_numpy(Y)
    if X.ndim != 2 or X.shape[0] != 2 or net.layer_dims[0] != 2:
        raise ValueError(f"a decision boundary needs 2-D data and a network with 2 inputs; "
                         f"got X of shape {X.shape} and layer_dims {net.layer_dims}")
    if not net.output.classifies or net.layer_dims[-1] != 1:
        raise ValueError(f"a decision boundary needs one sigmoid output; this network has "
                         f"{net.layer_dims[-1]} {net.output.name} output(s): use plot_predictions")
    ax = _axes(ax)
    lows, highs = X.min(axis=1) - 1, X.max(axis=1) + 1
    xx, yy = np.meshgrid(np.linspace(lows[0], highs[0], GRID_POINTS),
                         np.linspace(lows[1], highs[1], GRID_POINTS))
    grid = np.stack([xx.ravel(), yy.ravel()])
    classes = to_numpy(net.predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, classes, levels=[-0.5, 0.5, 1.5], cmap=_class_colormap(), alpha=REGION_ALPHA)
    labels = Y.ravel()
    for value, color in enumerate(CLASS_COLORS):
        chosen = labels == value
        ax.scatter(X[0, chosen], X[1, chosen], color=color, s=12, edgecolors="k", linewidths=0.3,
                   label=f"class {value} ({int(chosen.sum())} points)")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"Decision boundary, layers {net.layer_dims}, accuracy {net.accuracy(X, Y):.4f}")
    return _finish(ax.figure, path)


def plot_predictions(net, X, Y, path=None, ax=None, title=None):
    """Scatter the predicted values against the true ones, with the line where they are equal.

    For regression networks (``output="identity"``): ``X: (n_x, m)``, ``Y: (n_L, m)``;
    the title gives the cost on ``(X, Y)``. Returns the figure.
    """
    X, Y = to_numpy(X), to_numpy(Y)
    predicted = to_numpy(net.predict(X))
    if predicted.shape != Y.shape:
        raise ValueError(f"Y must have the shape of the predictions, {predicted.shape}; got {Y.shape}")
    ax = _axes(ax)
    for row in range(Y.shape[0]):
        label = f"output {row + 1}" if Y.shape[0] > 1 else f"{Y.shape[1]} examples"
        ax.scatter(Y[row], predicted[row], s=12, alpha=0.7, label=label)
    low, high = float(min(Y.min(), predicted.min())), float(max(Y.max(), predicted.max()))
    ax.plot([low, high], [low, high], color="k", linewidth=1, label="predicted = true")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.set_title(title or f"Predicted vs true, layers {net.layer_dims}, cost {net.cost(X, Y):.4f}")
    ax.grid(True, alpha=0.3)
    return _finish(ax.figure, path)


def plot_training(net, history, X=None, Y=None, path=None):
    """The learning curve, with a picture of the fit beside it when there is one to draw.

    Beside the curve: the decision boundary for a classifier of 2-D data, or the
    predicted against the true values for a regression network. This is the
    picture ``dnn-xp train --plot FILE`` saves. Returns the figure.
    """
    panel = None
    if X is not None and Y is not None:
        if not net.output.classifies:
            panel = plot_predictions
        elif net.layer_dims[0] == 2 and net.layer_dims[-1] == 1:
            panel = plot_decision_boundary
    figure = require_matplotlib().Figure(figsize=(11 if panel else 6, 4.5), layout="constrained")
    axes = figure.subplots(1, 2 if panel else 1, squeeze=False)[0]
    plot_learning_curve(history, ax=axes[0])
    if panel:
        panel(net, X, Y, ax=axes[1])
    return _finish(figure, path)


def _class_colormap():
    from matplotlib.colors import ListedColormap

    return ListedColormap(CLASS_COLORS)


def _axes(ax):
    if ax is not None:
        return ax
    return require_matplotlib().Figure(figsize=(6, 4.5), layout="constrained").subplots()


def _finish(figure, path):
    """Save ``figure`` to ``path`` (its suffix names the format) atomically, as models are saved."""
    if path is not None:
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot save the plot: folder {str(path.parent)!r} does not exist")
        write_atomically(path, lambda handle: figure.savefig(handle, dpi=100, format=path.suffix[1:] or None))
    return figure
