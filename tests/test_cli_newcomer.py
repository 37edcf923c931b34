"""The CLI and the API as a new user meets them (issue 14): data kept with models, test splits,
scaling, several outputs, messages, help, pipes, progress, pictures and the Python defaults."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from dnn_xp import Network, TrainingWarning, to_numpy
from dnn_xp.backend import ENV_VAR
from dnn_xp.cli import CURVE_POINTS, GENERATED, build_parser, main
from dnn_xp.datasets import planar_flower

from cli_support import default_backend, run, value  # noqa: F401 (default_backend: autouse)
from conftest import REPO

QUICK = ["--iterations", "300", "--record-every", "100"]





def error(capsys, *argv) -> str:
    """The one error line of a command that must exit 2."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and len(err) == 1 and err[0].startswith("dnn-xp: error: "), (code, out, err)
    return err[0]


@pytest.fixture
def flower_csv(tmp_path):
    X, Y = planar_flower()
    path = tmp_path / "flower.csv"
    np.savetxt(path, np.c_[X.T, Y.T], delimiter=",", header="x1,x2,label", comments="")
    return path


# ---------------------------------------------------------------------- saved models remember their data
def test_evaluate_and_predict_default_to_the_data_the_model_was_trained_on(capsys, tmp_path):
    model = tmp_path / "circles.npz"
    code, out, _ = run(capsys, "train", "--quiet", "--dataset", "circles", *QUICK, "--save", model)
    assert code == 0
    trained = value(out, "train accuracy")
    assert Network.load(model).trained_on == {"dataset": "circles"}
    code, out, _ = run(capsys, "evaluate", "--model", model)
    assert code == 0 and out[1] == "data: the circles data (recorded in the model)"
    assert value(out, "accuracy") == trained
    X, Y = GENERATED["circles"]()
    assert value(out, "accuracy") == round(Network.load(model).accuracy(X, Y), 4)
    code, out, err = run(capsys, "predict", "--model", model)
    assert code == 0 and len(out) == 401
    assert err[0] == "predictions: 400 (the circles data (recorded in the model), train examples) written to stdout"


def test_a_file_is_recorded_by_its_path_and_shape_and_checked_when_reused(capsys, tmp_path, flower_csv):
    model = tmp_path / "m.npz"
    assert run(capsys, "train", "--quiet", "--data", flower_csv, *QUICK, "--save", model)[0] == 0
    assert Network.load(model).trained_on == {"dataset": "csv", "path": str(flower_csv.resolve()),
                                              "examples": 400, "features": 2}
    code, out, _ = run(capsys, "evaluate", "--model", model)
    assert code == 0 and out[1] == f"data: {str(flower_csv)!r} (recorded in the model)"
    X, Y = planar_flower()
    np.savetxt(flower_csv, np.c_[X.T, Y.T][:300], delimiter=",")
    message = error(capsys, "evaluate", "--model", model)
    assert f"the data recorded in {str(model)!r} cannot be used" in message
    assert "has changed since training: then 400 examples of 2 features, now 300 of 2" in message
    flower_csv.unlink()
    message = error(capsys, "predict", "--model", model)
    assert "does not exist" in message and "name the data with --dataset, --data or --data-dir" in message


def test_a_model_that_records_no_data_is_not_evaluated_on_a_guess(capsys, tmp_path):
    Network([2, 4, 1], hidden="tanh").save(tmp_path / "python.npz")
    for command in ("predict", "evaluate"):
        message = error(capsys, command, "--model", tmp_path / "python.npz")
        assert message == (f"dnn-xp: error: {str(tmp_path / 'python.npz')!r} does not record the data it was "
                           f"trained on (only models saved by dnn-xp train do); name the data with --dataset, "
                           f"--data or --data-dir")


# ---------------------------------------------------------------------- labels
def test_an_unlabeled_csv_names_the_file_and_the_column_taken_as_the_label(capsys, tmp_path):
    path = tmp_path / "features.csv"
    np.savetxt(path, np.random.RandomState(0).rand(20, 3) + 2, delimiter=",", fmt="%.2f")
    message = error(capsys, "train", "--data", path)
    assert f"{str(path)!r} has no 0/1 label column: train took its last column (column 3 of 3) as the label" in message
    assert "--output sigmoid needs labels 0 or 1" in message and "--output identity" in message


def test_text_labels_say_how_to_encode_them(capsys, tmp_path):
    X, _ = planar_flower()
    with pytest.raises(TypeError, match=r"Y must hold numbers; got dtype <U3: encode the classes as 0 and 1"):
        Network([2, 4, 1]).fit(X, np.array([["dog", "cat"] * 200]), num_iterations=1)
    np.savez(tmp_path / "pets.npz", X=X.T, Y=np.array(["dog", "cat"] * 200))
    message = error(capsys, "train", "--data", tmp_path / "pets.npz")
    assert "Y must hold numbers; got dtype <U3 (text labels such as 'cat', 'dog'); encode the classes" in message


def test_an_npz_in_the_column_layout_is_said_to_look_transposed(capsys, tmp_path):
    X, Y = planar_flower()
    np.savez(tmp_path / "columns.npz", X=X, Y=Y)
    message = error(capsys, "train", "--data", tmp_path / "columns.npz")
    assert "X of shape (2, 400) looks transposed" in message and "save X.T and Y.T" in message
    model = tmp_path / "m.npz"
    run(capsys, "train", "--quiet", *QUICK, "--save", model)
    np.savez(tmp_path / "columns_x.npz", X=X)
    message = error(capsys, "predict", "--model", model, "--data", tmp_path / "columns_x.npz")
    assert "has 400 features per example but 2 are expected; X of shape (2, 400) looks transposed" in message


# ---------------------------------------------------------------------- test parts and scaling
def test_test_split_is_seeded_and_reported_and_evaluate_reproduces_it(capsys, tmp_path, flower_csv):
    model = tmp_path / "m.npz"
    argv = ["train", "--data", flower_csv, *QUICK, "--test-split", "0.25"]
    code, out, _ = run(capsys, *argv, "--save", model)
    assert code == 0 and out[1] == f"data: {str(flower_csv)!r}, 300 training examples, 100 test examples, 2 features"
    assert run(capsys, *argv)[1][-2:] == out[-3:-1]  # same seed, same split, same accuracies
    other = run(capsys, *argv, "--split-seed", "5")[1]
    assert other[-1] != out[-2] or other[-2] != out[-3]
    code, again, _ = run(capsys, "evaluate", "--model", model)
    assert code == 0
    assert value(again, "train accuracy") == value(out, "train accuracy")
    assert value(again, "test accuracy") == value(out, "test accuracy")
    record = Network.load(model).trained_on
    assert record["test_split"] == 0.25 and record["split_seed"] == 0
    code, _, err = run(capsys, "predict", "--model", model)
    assert code == 0 and "100 (" in err[0] and "test examples" in err[0]


def test_test_data_from_a_second_file(capsys, tmp_path, flower_csv):
    X, Y = GENERATED["moons"]()
    np.savez(tmp_path / "test.npz", X=X.T[:50], Y=Y[0, :50])
    code, out, _ = run(capsys, "train", "--data", flower_csv, *QUICK, "--test-data", tmp_path / "test.npz",
                       "--save", tmp_path / "m.npz")
    assert code == 0 and "400 training examples, 50 test examples" in out[1]
    net = Network.load(tmp_path / "m.npz")
    assert value(out, "test accuracy") == round(net.accuracy(X[:, :50], Y[:, :50]), 4)
    assert net.trained_on["test_data"]["path"] == str((tmp_path / "test.npz").resolve())
    code, again, _ = run(capsys, "evaluate", "--model", tmp_path / "m.npz")
    assert code == 0 and value(again, "test accuracy") == value(out, "test accuracy")


def test_standardize_uses_the_training_part_and_the_model_applies_it(capsys, tmp_path):
    X, Y = planar_flower()
    X = X * [[100.0], [0.01]] + [[5.0], [-3.0]]
    np.savez(tmp_path / "scaled.npz", X=X.T, Y=Y[0])
    model = tmp_path / "m.npz"
    code, out, _ = run(capsys, "train", "--data", tmp_path / "scaled.npz", *QUICK, "--test-split", "0.2",
                       "--standardize", "--save", model)
    assert code == 0 and out[1].endswith("2 features, standardized on the training examples")
    order = np.random.RandomState(0).permutation(400)
    train = np.sort(order[80:])
    with np.load(model) as stored:
        np.testing.assert_allclose(stored["mean"], X[:, train].mean(axis=1, keepdims=True), rtol=1e-12)
        np.testing.assert_allclose(stored["scale"], X[:, train].std(axis=1, keepdims=True), rtol=1e-12)
        plain = Network.from_parameters({k: stored[k] for k in ("W1", "b1", "W2", "b2")}, "tanh")
        standardized = (X - stored["mean"]) / stored["scale"]
    net = Network.load(model)
    np.testing.assert_allclose(to_numpy(net.predict_proba(X)), to_numpy(plain.predict_proba(standardized)),
                               rtol=1e-12)
    assert value(out, "train accuracy") == round(net.accuracy(X[:, train], Y[:, train]), 4) > 0.8
    code, again, _ = run(capsys, "evaluate", "--model", model)
    assert code == 0 and value(again, "test accuracy") == value(out, "test accuracy")


def test_standardize_in_python_equals_training_on_scaled_inputs():
    X, Y = planar_flower()
    X = X * [[10.0], [0.1]]
    mean, scale = X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)
    net = Network([2, 4, 1], hidden="tanh", init="small", seed=2).standardize(X)
    by_hand = Network([2, 4, 1], hidden="tanh", init="small", seed=2)
    costs = net.fit(X, Y, 1.2, 200, 50).costs
    assert costs == pytest.approx(by_hand.fit((X - mean) / scale, Y, 1.2, 200, 50).costs, rel=1e-12)
    np.testing.assert_allclose(net.input_scaling[0], mean, rtol=1e-12)
    np.testing.assert_array_equal(Network([2, 1]).standardize(np.ones((2, 3))).input_scaling[1], np.ones((2, 1)))


@pytest.mark.parametrize("argv, message", [
    (["--test-split", "0.2", "--test-data", "x.npz"], "--test-data and --test-split both name test data"),
    (["--split-seed", "3"], "--split-seed needs --test-split F"),
    (["--test-split", "1.5"], "'1.5' is not a fraction strictly between 0 and 1, such as 0.2"),
    (["--test-split", "0.001"], "--test-split 0.001 of 400 examples leaves 400 to train on and 0 to test"),
    (["--data", "x.csv", "--data-dir", "."], "--data FILE and --data-dir DIR name two different data sets"),
    (["--checkpoint-every", "5"], "--checkpoint-every needs --checkpoint FILE.npz"),
    (["--test-data", "x.txt"], "cannot tell the format of 'x.txt' from its name; name it .npz or .csv"),
], ids=["both-test-options", "seed-alone", "fraction", "empty-side", "data-and-dir", "checkpoint-every"
        "-alone", "test-format"])
def test_options_that_would_be_ignored_are_errors(capsys, argv, message):
    assert message in error(capsys, "train", *argv)


# ---------------------------------------------------------------------- several outputs
def test_several_sigmoid_outputs_go_through_every_command(capsys, tmp_path):
    X, Y = GENERATED["moons"]()
    labels = np.c_[Y.T, X.T[:, :1] > 0.5]  # (400, 2): two independent 0/1 labels
    np.savez(tmp_path / "two.npz", X=X.T, Y=labels)
    model = tmp_path / "m.npz"
    code, out, _ = run(capsys, "train", "--data", tmp_path / "two.npz", *QUICK, "--save", model)
    assert code == 0 and out[2].startswith("model: layers [2, 4, 2],")
    net = Network.load(model)
    assert value(out, "train accuracy") == round(net.accuracy(X, labels.T), 4)
    code, rows, _ = run(capsys, "predict", "--model", model)
    assert code == 0 and rows[0] == "prediction_1,probability_1,prediction_2,probability_2" and len(rows) == 401
    table = np.loadtxt(rows[1:], delimiter=",")
    P = to_numpy(net.predict_proba(X))
    np.testing.assert_allclose(table[:, [1, 3]], P.T, atol=5e-7)
    np.testing.assert_array_equal(table[:, [0, 2]], P.T > 0.5)
    code, out, _ = run(capsys, "evaluate", "--model", model)
    assert code == 0 and value(out, "accuracy") == round(net.accuracy(X, labels.T), 4)
    np.savetxt(tmp_path / "one.csv", np.c_[X.T, Y.T], delimiter=",")
    message = error(capsys, "evaluate", "--model", model, "--data", tmp_path / "one.csv")
    assert "has 2 outputs but" in message and "has 1 label per example" in message
    assert "must have 2 units (the data has 2 labels per example)" in error(
        capsys, "train", "--data", tmp_path / "two.npz", "--layers", "4,1")


def test_a_regression_model_writes_every_output(capsys, tmp_path):
    net = Network([2, 3, 2], output="identity", seed=1)
    net.save(tmp_path / "r.npz")
    X, _ = planar_flower()
    np.savez(tmp_path / "x.npz", X=X.T)
    code, rows, _ = run(capsys, "predict", "--model", tmp_path / "r.npz", "--data", tmp_path / "x.npz")
    assert code == 0 and rows[0] == "prediction_1,prediction_2" and len(rows) == 401
    np.testing.assert_allclose(np.loadtxt(rows[1:], delimiter=","), to_numpy(net.predict(X)).T, rtol=1e-7)


# ---------------------------------------------------------------------- messages
def test_files_that_are_not_models_say_what_they_are(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"weight": torch.ones(2)}, tmp_path / "model.pt")
    message = error(capsys, "predict", "--model", tmp_path / "model.pt", "--dataset", "flower")
    assert f"{str(tmp_path / 'model.pt')!r} is a PyTorch file (torch.save), not a dnn_xp model" in message
    message = error(capsys, "evaluate", "--model", tmp_path, "--dataset", "flower")
    assert message == (f"dnn-xp: error: model file {str(tmp_path)!r} is a folder; give the .npz file inside it "
                       f"that dnn-xp train --save or Network.save wrote")


def test_a_bad_backend_variable_is_named(capsys, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "bogus")
    assert f"the environment variable {ENV_VAR}='bogus' names no backend" in error(capsys, "train", *QUICK)


# ---------------------------------------------------------------------- help
def _subcommands():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


def test_every_option_has_help_with_its_default_and_every_command_examples():
    for name, sub in _subcommands().items():
        assert sub.description, f"{name} has no description"
        assert "examples:" in sub.epilog and f"dnn-xp {name}" in sub.epilog
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            words = action.help or ""
            assert words, f"{name} {action.option_strings} has no help"
            assert "default" in words or "required" in words, f"{name} {action.option_strings}: {words}"


def test_help_prints_the_examples(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "on the data the model was trained on" in text and "--model FILE.npz" in text


# ---------------------------------------------------------------------- pipes and progress
@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED=1"])
def test_predict_into_a_reader_that_leaves_exits_141(tmp_path, unbuffered):
    net = Network([2, 4, 1], hidden="tanh")
    net.trained_on = {"dataset": "flower"}
    net.save(tmp_path / "m.npz")
    np.savetxt(tmp_path / "many.csv", np.random.RandomState(0).randn(60_000, 2), delimiter=",", fmt="%.3f")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": unbuffered}
    env.pop(ENV_VAR, None)
    reader = subprocess.Popen([sys.executable, "-m", "dnn_xp", "predict", "--model", str(tmp_path / "m.npz"),
                               "--data", str(tmp_path / "many.csv")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert reader.stdout.readline() == b"prediction,probability\n"
    reader.stdout.readline()
    reader.stdout.close()  # like `dnn-xp predict ... | head -2`
    assert reader.wait(timeout=120) == 141
    assert reader.stderr.read() == b""
    reader.stderr.close()


def test_unbuffered_stdout_gets_every_row(tmp_path):
    net = Network([2, 4, 1], hidden="tanh")
    net.save(tmp_path / "m.npz")
    np.savetxt(tmp_path / "many.csv", np.random.RandomState(0).randn(30_000, 2), delimiter=",", fmt="%.3f")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-m", "dnn_xp", "predict", "--model", str(tmp_path / "m.npz"),
                           "--data", str(tmp_path / "many.csv")], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 30_001


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_in_a_terminal_a_summary_line_stays_after_the_bar(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    code = main(["train", *QUICK])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and not any(line.startswith("Cost after") for line in out)
    (summary,) = [line for line in out if line.startswith("trained ")]
    assert summary.startswith("trained 300 iterations in ") and " iterations/s); cost 0.693048 at iteration 0, " in summary
    assert summary.endswith(" at iteration 299") and out[-1] == "train accuracy: 0.8750"


def test_training_that_does_not_learn_warns_in_python_and_on_the_command_line(capsys):
    X, Y = planar_flower()
    with pytest.warns(TrainingWarning, match="the cost is 0.6765, no better than 0.6931, the cost of always "
                                             "predicting the mean label.*Try a larger learning_rate than 0.0075"):
        Network([2, 4, 1]).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Network([2, 4, 1], hidden="tanh", init="small", seed=2).fit(X, Y, learning_rate=1.2)  # learns: no warning
        Network([2, 4, 1]).fit(X, Y, num_iterations=99)  # a few steps are not a training
    code, _, err = run(capsys, "train", "--quiet", "--hidden", "relu", "--init", "he", "--seed", "0",
                       "--learning-rate", "0.0075", "--iterations", "2500")
    assert code == 0 and len(err) == 1 and err[0].startswith("dnn-xp: warning: after 2500 iterations the cost is")


# ---------------------------------------------------------------------- iterations
def test_iterations_total_counts_every_fit_and_is_saved(tmp_path):
    X, Y = planar_flower()
    net = Network([2, 4, 1], hidden="tanh", init="small", seed=2)
    net.fit(X, Y, 1.2, 100, 50)
    net.fit(X, Y, 1.2, 30, 10)
    assert (net.iterations_trained, net.iterations_total) == (30, 130)
    net.save(tmp_path / "m.npz")
    loaded = Network.load(tmp_path / "m.npz")
    assert (loaded.iterations_trained, loaded.iterations_total) == (30, 130)
    loaded.fit(X, Y, 1.2, 20, 10, checkpoint_path=tmp_path / "ck.npz", checkpoint_every=10)
    # the final state is checkpointed too (issue 8), so the checkpoint ends where the fit did
    assert Network.load(tmp_path / "ck.npz").iterations_total == 150 and loaded.iterations_total == 150


# ---------------------------------------------------------------------- pictures
def test_the_plotted_curve_has_a_fixed_number_of_points_and_few_host_reads(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from dnn_xp import plotting

    drawn = {}
    monkeypatch.setattr(plotting, "plot_learning_curve",
                        lambda history, ax=None, **kw: drawn.setdefault("history", history))
    code, out, _ = run(capsys, "train", "--iterations", "2000", "--record-every", "1000", "--plot",
                       tmp_path / "c.png")
    assert code == 0 and [line for line in out if line.startswith("Cost after")] == [
        line for line in out if line.split(":")[0] in ("Cost after iteration 0", "Cost after iteration 1000",
                                                       "Cost after iteration 1999")]
    iterations = drawn["history"].iterations
    assert iterations[:3] == [0, 10, 20] and iterations[-1] == 1999 and len(iterations) == CURVE_POINTS + 1


def test_the_regression_picture_plots_predicted_against_true(tmp_path):
    pytest.importorskip("matplotlib")
    from dnn_xp.plotting import plot_training

    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (1, 100))
    Y = 3 * X + 1
    net = Network([1, 3, 1], output="identity", seed=1)
    history = net.fit(X, Y, 0.1, 300, 100)
    figure = plot_training(net, history, X, Y, tmp_path / "r.png")
    curve, panel = figure.axes
    assert panel.get_xlabel() == "true value" and panel.get_ylabel() == "predicted value"
    assert panel.get_title() == f"Predicted vs true, layers [1, 3, 1], cost {net.cost(X, Y):.4f}"
    points = panel.collections[0].get_offsets()
    np.testing.assert_allclose(points[:, 0], Y[0])
    np.testing.assert_allclose(points[:, 1], to_numpy(net.predict(X))[0])


def test_the_boundary_regions_and_points_share_the_class_colours(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_rgba

    from dnn_xp.plotting import CLASS_COLORS, plot_decision_boundary

    X, Y = GENERATED["moons"]()
    net = Network([2, 4, 1], hidden="tanh", init="small", seed=2)
    net.fit(X, Y, 1.2, 300, 100)
    ax = plot_decision_boundary(net, X, Y).axes[0]
    regions, *points = ax.collections
    region_colors = [tuple(c[:3]) for c in regions.get_facecolor()]
    assert region_colors == [to_rgba(c)[:3] for c in CLASS_COLORS]
    assert [tuple(p.get_facecolor()[0][:3]) for p in points] == [to_rgba(c)[:3] for c in CLASS_COLORS]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0 (200 points)", "class 1 (200 points)"]
    assert ax.get_title().endswith(f"accuracy {net.accuracy(X, Y):.4f}")
