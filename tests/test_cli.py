"""The ``dnn-xp`` command, run in-process through ``main([...])`` and once as ``python -m dnn_xp``."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dnn_xp import Network, to_numpy
from dnn_xp.backend import ENV_VAR
from dnn_xp.datasets import planar_flower

from cli_support import default_backend, run, value  # noqa: F401 (default_backend: autouse)
from conftest import CAT_DIR, REPO
from test_planar import COURSE_COSTS

QUICK = ["--iterations", "300", "--record-every", "100"]




def after_summary(out):
    """The lines train prints after the model summary (the summary ends with its backend line)."""
    start = next(i for i, line in enumerate(out) if line.startswith("Network ["))
    end = next(i for i in range(start, len(out)) if out[i].startswith("backend: ") and " on " in out[i])
    return out[end + 1:]


@pytest.fixture(scope="module")
def flower_files(tmp_path_factory):
    """The flower data as a user would keep it: rows are examples, the label last."""
    folder = tmp_path_factory.mktemp("data")
    X, Y = planar_flower()
    rows = np.c_[X.T, Y.T]
    np.savetxt(folder / "flower.csv", rows, delimiter=",", header="x1,x2,label", comments="")
    np.savetxt(folder / "features.csv", X.T, delimiter=",")
    np.savez(folder / "flower.npz", X=X.T, Y=Y[0])
    return folder


# ---------------------------------------------------------------------- train
def test_train_with_no_arguments_reaches_90_percent_on_the_flower(capsys):
    code, out, err = run(capsys, "train")
    assert code == 0 and err == []
    assert out[:4] == [
        "backend: numpy, device: cpu, dtype: float64",
        "data: the flower data, 400 training examples, 2 features",
        "model: layers [2, 4, 1], hidden tanh, output sigmoid, init small, seed 2",
        "training: learning rate 1.2, 10000 iterations",
    ]
    assert out[4:14] == Network([2, 4, 1], "tanh").summary().splitlines()
    assert after_summary(out)[0] == "Cost after iteration 0: 0.6930480201239823"
    # A chaotic run: the later digits depend on the BLAS kernel, so the course's precision is pinned.
    costs = {int(line.split()[3][:-1]): float(line.split()[4]) for line in out if line.startswith("Cost after")}
    assert sorted(costs) == [*range(0, 10000, 1000), 9999]
    np.testing.assert_allclose([costs[i] for i in range(0, 8000, 1000)], COURSE_COSTS, rtol=0, atol=5e-7)
    assert costs[9999] < 0.22 and value(out, "train accuracy") >= 0.90


def test_train_quiet_prints_only_results(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--quiet", *QUICK, "--save", tmp_path / "m.npz")
    assert code == 0 and err == []
    assert out == ["train accuracy: 0.8750", f"saved model: {tmp_path / 'm.npz'}"]


def test_the_backend_comes_from_the_environment_and_flags(capsys, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "array_api_strict")
    code, out, _ = run(capsys, "train", *QUICK, "--dtype", "float32")
    assert code == 0 and out[0] == "backend: array_api_strict, device: CPU_DEVICE, dtype: float32"
    code, out, _ = run(capsys, "train", *QUICK, "--device", "device1")
    assert code == 0 and out[0] == "backend: array_api_strict, device: device1, dtype: float64"
    code, out, _ = run(capsys, "train", *QUICK, "--backend", "numpy")
    assert code == 0 and out[0] == "backend: numpy, device: cpu, dtype: float64"
    monkeypatch.delenv(ENV_VAR)
    code, out, _ = run(capsys, "train", *QUICK, "--backend", "auto")
    gpu = out[0].startswith("backend: cupy")
    assert code == 0 and (gpu or out[0] == "backend: numpy, device: cpu, dtype: float64")


def test_chunks_split_the_examples_on_dask_and_nowhere_else(capsys):
    pytest.importorskip("dask")
    argv = ["train", "--dataset", "moons", "--iterations", "3", "--record-every", "1", "--chunks", "3"]
    code, out, _ = run(capsys, *argv, "--backend", "dask", "--device", "sync")
    assert code == 0 and out[3] == "training: learning rate 1.2, 3 iterations, 3 chunks"
    reference = run(capsys, *argv[:-2], "--backend", "numpy")[1]
    costs = [[float(line.split(": ")[1]) for line in lines if line.startswith("Cost")] for lines in (out, reference)]
    np.testing.assert_allclose(*costs, rtol=1e-12)  # sums over 3 chunks round differently from one sum
    assert len(costs[0]) == 3
    code, _, err = run(capsys, *argv, "--backend", "numpy")
    assert code == 2 and "--chunks splits the examples among dask's workers" in err[-1]


def test_train_flags_shape_the_model(capsys, tmp_path):
    model = tmp_path / "m.npz"
    code, out, _ = run(capsys, "train", "--dataset", "moons", "--layers", "6,3,1", "--hidden", "relu", "--init", "he",
                       "--seed", "3", "--learning-rate", "0.5", "--iterations", "40", "--record-every", "20",
                       "--dtype", "float32", "--save", model)
    assert code == 0
    assert out[2:4] == ["model: layers [2, 6, 3, 1], hidden relu, output sigmoid, init he, seed 3",
                        "training: learning rate 0.5, 40 iterations"]
    assert [line.split(":")[0] for line in after_summary(out)[:3]] == [
        "Cost after iteration 0", "Cost after iteration 20", "Cost after iteration 39"]
    net = Network.load(model)
    assert net.layer_dims == [2, 6, 3, 1] and net.hidden.name == "relu" and net.iterations_trained == 40
    assert to_numpy(net.parameters["W1"]).dtype == np.float32
    code, out, _ = run(capsys, "train", "--dataset", "moons", "--layers", "2,6,1", "--iterations", "1", "--init", "0.5")
    assert code == 0 and out[2] == "model: layers [2, 6, 1], hidden tanh, output sigmoid, init 0.5, seed 2"


def test_train_save_predict_evaluate_on_a_csv_file(capsys, flower_files, tmp_path):
    model, predictions = tmp_path / "m.npz", tmp_path / "p.csv"
    code, out, _ = run(capsys, "train", "--data", flower_files / "flower.csv", *QUICK, "--save", model)
    assert code == 0 and out[1] == f"data: {str(flower_files / 'flower.csv')!r}, 400 training examples, 2 features"
    train_accuracy = value(out, "train accuracy")
    assert train_accuracy == 0.875

    code, out, err = run(capsys, "predict", "--model", model, "--data", flower_files / "flower.csv",
                         "--out", predictions)
    assert code == 0 and err == []
    assert value(out, "accuracy") == train_accuracy
    rows = predictions.read_text().splitlines()
    assert rows[0] == "prediction,probability" and len(rows) == 401
    labels, probabilities = np.loadtxt(predictions, delimiter=",", skiprows=1).T
    np.testing.assert_array_equal(labels, probabilities > 0.5)
    expected = to_numpy(Network.load(model).predict_proba(planar_flower()[0]))[0]
    np.testing.assert_allclose(probabilities, expected, atol=5e-7)

    code, out, err = run(capsys, "evaluate", "--model", model, "--data", flower_files / "flower.npz")
    assert code == 0 and err == []
    assert out[0] == f"model: {model}, layers [2, 4, 1], backend numpy on cpu"
    assert value(out, "accuracy") == train_accuracy and 0.2 < value(out, "cost") < 0.7


def test_predict_without_labels_writes_csv_to_stdout_and_the_summary_to_stderr(capsys, flower_files, tmp_path):
    run(capsys, "train", "--quiet", *QUICK, "--save", tmp_path / "m.npz")
    code, out, err = run(capsys, "predict", "--model", tmp_path / "m.npz", "--data", flower_files / "features.csv")
    assert code == 0 and out[0] == "prediction,probability" and len(out) == 401
    assert err == [f"predictions: 400 ({str(flower_files / 'features.csv')!r}, train examples) written to stdout"]


def test_a_model_saved_from_one_backend_evaluates_the_same_on_another(capsys, tmp_path):
    run(capsys, "train", "--quiet", *QUICK, "--backend", "torch", "--save", tmp_path / "m.npz")
    results = {}
    for backend in ("numpy", "array_api_strict", "torch"):
        code, out, _ = run(capsys, "evaluate", "--model", tmp_path / "m.npz", "--dataset", "flower",
                           "--backend", backend)
        assert code == 0
        results[backend] = (value(out, "cost"), value(out, "accuracy"))
    assert results["numpy"] == results["array_api_strict"] == results["torch"]


def test_train_checkpoints_the_final_state_and_a_rerun_says_it_is_finished(capsys, tmp_path):
    checkpoint = tmp_path / "ck.npz"
    argv = ["train", "--iterations", "250", "--record-every", "50", "--checkpoint", checkpoint]
    code, out, _ = run(capsys, *argv, "--checkpoint-every", "100")
    assert code == 0 and Network.load(checkpoint).iterations_trained == 250
    code, again, err = run(capsys, *argv)
    assert code == 0 and err == []
    assert f"{checkpoint} holds this run, finished (250 iterations): nothing is left to train" in again
    assert not any(line.startswith("Cost after") for line in again)
    assert value(again, "train accuracy") == value(out, "train accuracy")


def test_an_interrupted_run_says_where_its_progress_is_and_resumes(capsys, tmp_path, monkeypatch):
    from dnn_xp import network as network_module

    checkpoint = tmp_path / "ck.npz"
    argv = ["train", "--iterations", "250", "--record-every", "50", "--checkpoint", checkpoint]
    real_record = network_module.History.record

    def record(self, i, cost):
        if i == 150:
            raise KeyboardInterrupt
        real_record(self, i, cost)

    monkeypatch.setattr(network_module.History, "record", record)
    code, _, err = run(capsys, *argv)
    assert code == 130 and err == [
        f"dnn-xp: interrupted; progress up to iteration 150 is saved in {str(checkpoint)!r}; run the same "
        f"command again to resume from there"]
    monkeypatch.undo()
    code, resumed, _ = run(capsys, *argv)
    code, whole, _ = run(capsys, *argv[:-2])
    assert code == 0 and f"resuming from {checkpoint}" in resumed
    assert resumed[-2:] == whole[-2:]  # the last cost and the accuracy


def test_checkpoint_and_save_must_be_different_files(capsys, tmp_path):
    code, out, err = run(capsys, "train", *QUICK, "--checkpoint", tmp_path / "m.npz", "--save", tmp_path / "m.npz")
    assert code == 2 and out == [] and len(err) == 1
    assert "--checkpoint and --save name the same file" in err[0] and "give them different names" in err[0]
    run(capsys, "train", "--quiet", *QUICK, "--save", tmp_path / "m.npz")
    code, _, err = run(capsys, "train", *QUICK, "--checkpoint", tmp_path / "m.npz")
    assert code == 2 and len(err) == 1
    assert "is a saved model, not a checkpoint" in err[0] and "give the checkpoint another file name" in err[0]


def test_train_plot_writes_the_learning_curve_and_boundary(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, out, _ = run(capsys, "train", "--quiet", *QUICK, "--plot", tmp_path / "costs.png")
    assert code == 0 and out[-1] == f"saved plot: {tmp_path / 'costs.png'}"
    assert (tmp_path / "costs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "costs.png").stat().st_size > 30_000


def test_train_without_matplotlib_fails_before_training(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, out, err = run(capsys, "train", "--plot", tmp_path / "c.png")
    assert code == 2 and out == []
    assert len(err) == 1 and 'install it with pip install "dnn_xp[plot]"' in err[0]


def test_regression_output_reports_the_cost(capsys, tmp_path):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (200, 1))
    np.savetxt(tmp_path / "r.csv", np.c_[x, 3 * x[:, 0] + 1], delimiter=",")
    code, out, _ = run(capsys, "train", "--quiet", "--data", tmp_path / "r.csv", "--output", "identity",
                       "--learning-rate", "0.1", "--iterations", "500")
    assert code == 0 and len(out) == 1 and value(out, "train cost") < 0.01


def test_cat_train_reports_train_and_test_accuracy(capsys, cat_data, tmp_path):
    model = tmp_path / "cat.npz"
    code, out, _ = run(capsys, "train", "--dataset", "cat", "--data-dir", CAT_DIR, "--layers", "7,1",
                       "--iterations", "3", "--save", model)
    assert code == 0
    assert out[1] == f"data: the cat data in {str(CAT_DIR)!r}, 209 training examples, 50 test examples, 12288 features"
    assert out[2] == "model: layers [12288, 7, 1], hidden relu, output sigmoid, init lecun, seed 1"
    assert after_summary(out)[0].startswith("Cost after iteration 0: 0.69")
    net = Network.load(model)
    assert value(out, "train accuracy") == round(net.accuracy(cat_data.train_x, cat_data.train_y), 4)
    assert value(out, "test accuracy") == round(net.accuracy(cat_data.test_x, cat_data.test_y), 4)
    code, out, _ = run(capsys, "evaluate", "--model", model, "--data-dir", CAT_DIR)
    assert code == 0 and [line.split(":")[0] for line in out[1:]] == [
        "data", "train cost", "train accuracy", "test cost", "test accuracy"]
    code, out, err = run(capsys, "predict", "--model", model, "--data-dir", CAT_DIR)
    assert code == 0 and len(out) == 51
    assert err[-1] == f"accuracy: {net.accuracy(cat_data.test_x, cat_data.test_y):.4f}"


# ---------------------------------------------------------------------- info
def test_info_lists_backends_devices_and_the_default(capsys, monkeypatch):
    code, out, err = run(capsys, "info")
    assert code == 0 and err == []
    table = {line.split()[0]: line.split(None, 3) for line in out[2:6]}
    assert out[1].split() == ["backend", "installed", "usable", "devices"]
    assert table["numpy"][1:] == ["yes", "yes", "cpu"]
    assert table["array_api_strict"][1:3] == ["yes", "yes"] and "device1" in table["array_api_strict"][3]
    assert set(table) == {"numpy", "cupy", "torch", "array_api_strict"}
    assert out[-1] == f"default backend: numpy on cpu ({ENV_VAR} is not set)"
    monkeypatch.setenv(ENV_VAR, "torch")
    code, out, _ = run(capsys, "info")
    assert code == 0 and out[-1] == f"default backend: torch on cpu ({ENV_VAR}=torch)"


# ---------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, flower_files):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "nan.csv").write_text("x1,x2,label\n1,2,0\n3,nan,1\n")
    (folder / "wide.csv").write_text("1,2,3,0\n")
    (folder / "text.npz").write_text("not an archive\n")
    np.savez(folder / "other.npz", weights=np.ones(3))
    np.savez(folder / "unlabeled.npz", X=np.ones((4, 2)))
    np.savez(folder / "labels.npz", X=np.ones((4, 2)), Y=np.array([0, 1, 2, 1]))
    Network([2, 4, 1], hidden="tanh").save(folder / "model.npz")
    Network([3, 1]).save(folder / "model3.npz")
    (folder / "cut.npz").write_bytes((folder / "model.npz").read_bytes()[:400])
    (folder / "empty").mkdir()
    return folder


BAD_INPUT = [
    ([], "the following arguments are required: COMMAND"),
    (["fit"], "invalid choice: 'fit'"),
    (["train", "--dataset", "dogs"], "argument --dataset: invalid choice: 'dogs'"),
    (["train", "--hidden", "swish"], "argument --hidden: invalid choice: 'swish'"),
    (["train", "--output", "tanh"], "argument --output: invalid choice: 'tanh'"),
    (["train", "--init", "bogus"], "unknown scheme 'bogus'; choose one of zeros, small, lecun, he, glorot"),
    (["train", "--backend", "mxnet"], "argument --backend: invalid choice: 'mxnet'"),
    (["train", "--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    (["train", "--layers", "4,x,1"], "'4,x,1' is not a comma-separated list of integers"),
    (["train", "--layers", "4,0,1"], "layer sizes must be positive integers"),
    (["train", "--learning-rate", "-1"], "argument --learning-rate: '-1' is not a positive number"),
    (["train", "--iterations", "0"], "argument --iterations: '0' is not a positive integer"),
    (["train", "--unknown"], "unrecognized arguments: --unknown"),
    (["train", "--device", "cuda:0"], "backend='numpy' runs on the CPU only; got device='cuda:0'"),
    (["train", "--backend", "array_api_strict", "--device", "device9"], "has devices"),
    (["train", "--layers", "4,3"], "--layers 4,3: the last layer must have 1 unit (the data has one label per example)"),
    (["train", "--data", "{bad}/absent.csv"], "data file '{bad}/absent.csv' does not exist"),
    (["train", "--data", "{bad}/nan.csv"], "X has 1 NaN or infinite values (first in example 1"),
    (["train", "--data", "{bad}/text.npz"], "is not an .npz file"),
    (["train", "--data", "{bad}/other.npz"], "has no array named 'X' (it has weights)"),
    (["train", "--data", "{bad}/unlabeled.npz"], "has no labels (an array Y); training needs them"),
    (["train", "--data", "{bad}/labels.npz"], "'{bad}/labels.npz': the labels Y hold values other than 0 and 1 (2)"),
    (["train", "--data", "{bad}/data.txt"], "cannot tell the format of '{bad}/data.txt' from its name"),
    (["train", "--dataset", "csv"], "--dataset csv needs --data FILE"),
    (["train", "--dataset", "moons", "--data", "{bad}/nan.csv"], "--data FILE goes with --dataset npz, csv or football"),
    (["train", "--dataset", "cat"], "--dataset cat needs --data-dir DIR"),
    (["train", "--data-dir", "{bad}/empty"], "train_catvnoncat.h5' is missing"),
    (["train", "--data-dir", "{bad}/absent"], "is not a folder"),
    (["train", "--save", "{bad}/absent/m.npz"], "--save '{bad}/absent/m.npz': folder '{bad}/absent' does not exist"),
    (["train", "--save", "{bad}"], "--save '{bad}' is a folder; give a file name inside it"),
    (["predict", "--data", "{bad}/nan.csv"], "the following arguments are required: --model"),
    (["predict", "--model", "{bad}/absent.npz"], "model file '{bad}/absent.npz' does not exist"),
    (["predict", "--model", "{bad}/cut.npz"], "is not a readable dnn_xp model; it may be truncated or corrupt"),
    (["predict", "--model", "{bad}/text.npz"], "is not a dnn_xp model: it is not an .npz (zip) archive"),
    (["predict", "--model", "{bad}/other.npz"], "is an .npz file but not a dnn_xp model"),
    (["predict", "--model", "{bad}/model3.npz", "--dataset", "flower"],
     "takes 3 features per example but the flower data has 2"),
    (["predict", "--model", "{bad}/model.npz", "--data", "{bad}/wide.csv"],
     "has 4 columns, but 2 features are expected"),
    (["predict", "--model", "{bad}/model.npz", "--dataset", "flower", "--split", "test"],
     "the flower data has no test split"),
    (["evaluate", "--model", "{bad}/model3.npz", "--data", "{bad}/unlabeled.npz"],
     "has 2 features per example but 3 are expected"),
    (["evaluate", "--model", "{bad}/model.npz", "--data", "{bad}/unlabeled.npz"],
     "has no labels; evaluate needs them"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUT, ids=[" ".join(a[:3]) or "nothing" for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_that_says_what_to_fix(capsys, bad_files, argv, message):
    argv = [arg.format(bad=bad_files) for arg in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("dnn-xp: error: ")
    assert message.format(bad=bad_files) in err[0]


def test_a_bad_default_backend_in_the_environment_is_bad_input(capsys, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "mxnet")
    code, _, err = run(capsys, "train", *QUICK)
    assert code == 2 and err == [
        f"dnn-xp: error: the environment variable {ENV_VAR}='mxnet' names no backend; set it to one of "
        "numpy, cupy, torch, array_api_strict, jax, dask, auto, or unset it to use numpy"]


def test_training_that_diverges_says_to_lower_the_learning_rate(capsys, tmp_path):
    x = np.linspace(-100, 100, 50).reshape(-1, 1)
    np.savetxt(tmp_path / "big.csv", np.c_[x, x[:, 0] * 1e3], delimiter=",")
    code, _, err = run(capsys, "train", "--data", tmp_path / "big.csv", "--output", "identity",
                       "--learning-rate", "10", "--iterations", "200")
    assert code == 2 and len(err) == 1 and "training diverged" in err[0] and "smaller learning_rate" in err[0]


# ---------------------------------------------------------------------- as a program
def test_python_m_dnn_xp_runs_as_a_program(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(ENV_VAR, None)
    model = tmp_path / "m.npz"
    done = subprocess.run([sys.executable, "-m", "dnn_xp", "train", "--quiet", "--iterations", "300",
                           "--save", str(model)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["train accuracy: 0.8750", f"saved model: {model}"]
    assert done.stderr == ""
    done = subprocess.run([sys.executable, "-m", "dnn_xp", "evaluate", "--model", str(tmp_path / "absent.npz")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"dnn-xp: error: model file {str(tmp_path / 'absent.npz')!r} does not exist\n"


def test_predict_into_a_closed_pipe_stops_quietly(tmp_path):
    Network([2, 4, 1], hidden="tanh").save(tmp_path / "m.npz")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    reader = subprocess.Popen([sys.executable, "-m", "dnn_xp", "predict", "--model", str(tmp_path / "m.npz"),
                               "--dataset", "flower"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    reader.stdout.close()  # like `dnn-xp predict ... | head -0`
    assert reader.wait(timeout=120) == 141
    assert reader.stderr.read() == b""
    reader.stderr.close()
