"""The learning curve and decision boundary pictures, and the message when matplotlib is missing."""

from __future__ import annotations

import struct
import sys

import pytest

from dnn_xp import History, Network, to_numpy
from dnn_xp.datasets import moons

pytest.importorskip("matplotlib", reason="plots need matplotlib (pip install 'dnn_xp[plot]')")

from dnn_xp.plotting import plot_decision_boundary, plot_learning_curve, plot_training  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """``(width, height)`` from the PNG header, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def trained():
    X, Y = moons(n_samples=400, noise=0.2, random_state=1)
    net = Network([2, 4, 1], hidden="tanh", init="small", seed=2)
    history = net.fit(X, Y, learning_rate=1.2, num_iterations=300, record_every=30, progress=False)
    return net, history, X, Y


def test_plot_training_puts_the_boundary_beside_the_curve_for_2d_data(trained, tmp_path):
    net, history, X, Y = trained
    figure = plot_training(net, history, X, Y, tmp_path / "both.png")
    assert [ax.get_title() for ax in figure.axes] == [
        f"Learning curve (final cost {history.costs[-1]:.4f})",
        f"Decision boundary, layers [2, 4, 1], accuracy {net.accuracy(X, Y):.4f}"]
    assert png_size(tmp_path / "both.png") == (1100, 450)
    assert (tmp_path / "both.png").stat().st_size > 30_000


def test_plot_training_without_2d_data_draws_only_the_curve(tmp_path):
    history = History([0, 100, 200], [0.69, 0.4, 0.3])
    figure = plot_training(Network([5, 1]), history, path=tmp_path / "curve.png")
    (ax,) = figure.axes
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [0, 100, 200] and list(line.get_ydata()) == [0.69, 0.4, 0.3]
    assert png_size(tmp_path / "curve.png") == (600, 450)
    assert (tmp_path / "curve.png").stat().st_size > 15_000


def test_the_boundary_separates_the_grid_as_the_network_predicts(trained, tmp_path):
    net, _, X, Y = trained
    figure = plot_decision_boundary(net, X, Y, tmp_path / "boundary.png")
    ax = figure.axes[0]
    assert ax.get_xlim() == pytest.approx((X[0].min() - 1, X[0].max() + 1))
    assert ax.get_ylim() == pytest.approx((X[1].min() - 1, X[1].max() + 1))
    class_0, class_1 = ax.collections[0].get_paths()  # the filled regions, by level
    P = to_numpy(net.predict_proba(X))[0]
    sure_0, sure_1 = X[:, P < 0.1].T, X[:, P > 0.9].T
    assert len(sure_0) > 50 and len(sure_1) > 50
    assert class_0.contains_points(sure_0).all() and not class_1.contains_points(sure_0).any()
    assert class_1.contains_points(sure_1).all() and not class_0.contains_points(sure_1).any()
    assert png_size(tmp_path / "boundary.png") == (600, 450)


def test_plots_say_what_is_wrong(trained, tmp_path):
    net, history, X, Y = trained
    with pytest.raises(ValueError, match="needs 2-D data and a network with 2 inputs"):
        plot_decision_boundary(Network([3, 1]), X[:1].repeat(3, axis=0), Y)
    with pytest.raises(ValueError, match="the history is empty"):
        plot_learning_curve(History())
    with pytest.raises(FileNotFoundError, match="folder .*absent' does not exist"):
        plot_learning_curve(history, tmp_path / "absent" / "c.png")


def test_a_missing_matplotlib_names_the_extra_to_install(monkeypatch, trained):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match='install it with pip install "dnn_xp\\[plot\\]"'):
        plot_learning_curve(trained[1])




def test_a_failed_plot_save_keeps_the_previous_file_and_leaves_nothing_behind(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "curve.png"
    path.write_bytes(b"the previous plot")

    def broken(self, handle, **kwargs):
        handle.write(b"half a png")
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        plot_training(Network([5, 1]), History([0, 100], [0.69, 0.4]), path=path)
    assert path.read_bytes() == b"the previous plot" and sorted(tmp_path.iterdir()) == [path]
