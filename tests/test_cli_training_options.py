"""The ``dnn-xp train`` options of the second part: optimizers, mini-batches, regularization, softmax data."""

from __future__ import annotations

import pytest

from dnn_xp import Network

from cli_support import default_backend, run, value  # noqa: F401 (default_backend: autouse)
from conftest import REPO

FOOTBALL = REPO.parent / "shared" / "datasets" / "football" / "data.mat"





def test_mini_batch_adam_softmax_on_digits_with_early_stopping(capsys, tmp_path):
    model = tmp_path / "digits.npz"
    code, out, err = run(capsys, "train", "--dataset", "digits", "--output", "softmax", "--layers", "64,32,10",
                         "--hidden", "relu", "--init", "he", "--optimizer", "adam", "--batch-size", "64",
                         "--epochs", "12", "--record-every", "2", "--learning-rate", "0.003",
                         "--validation-split", "0.15", "--patience", "3", "--save", model)
    assert code == 0 and err == []
    assert out[1] == "data: the digits data (scikit-learn), 1438 training examples, 359 test examples, 64 features"
    assert out[3] == "training: learning rate 0.003, 12 epochs of batches of 64, optimizer adam"
    summary = Network([64, 32, 10], "relu", "softmax").summary().splitlines()
    assert out[4:4 + len(summary)] == summary  # dnn-xp train prints the model summary before training
    first = out[4 + len(summary)]
    assert first.startswith("Cost after epoch 0: ") and ", validation cost " in first
    assert value(out, "test accuracy") > 0.9 and value(out, "validation accuracy") > 0.9
    net = Network.load(model)
    assert net.output.name == "softmax" and net.layer_dims == [64, 32, 10]
    code, out, err = run(capsys, "evaluate", "--model", model, "--dataset", "digits", "--split", "test")
    assert code == 0 and value(out, "test accuracy") > 0.9
    code, out, err = run(capsys, "predict", "--model", model, "--dataset", "digits")
    rows = out[1:]
    assert out[0] == "prediction,probability" and len(rows) == 359
    assert all(0 <= int(r.split(",")[0]) <= 9 and 0.1 <= float(r.split(",")[1]) <= 1 for r in rows)


def test_regularized_football_reproduces_the_courses_first_cost(capsys):
    if not FOOTBALL.is_file():
        pytest.skip(f"no football data at {FOOTBALL}")
    for options, first in ((["--l2", "0.7"], 0.6974484493131264), (["--keep-prob", "0.86"], 0.6543912405149825)):
        code, out, _ = run(capsys, "train", "--dataset", "football", "--data", FOOTBALL, "--layers", "2,20,3,1",
                           "--hidden", "relu", "--init", "lecun", "--seed", "3", "--learning-rate", "0.3",
                           "--iterations", "2", *options)
        assert code == 0
        assert value(out, "Cost after iteration 0") == pytest.approx(first, rel=1e-13)
        assert value(out, "test accuracy") > 0.4


def test_schedules_and_spirals(capsys):
    code, out, _ = run(capsys, "train", "--dataset", "spirals", "--output", "softmax", "--layers", "2,16,3",
                       "--optimizer", "momentum", "--batch-size", "50", "--epochs", "3", "--record-every", "1",
                       "--lr-schedule", "staircase", "--decay-rate", "0.5", "--quiet")
    assert code == 0 and len(out) == 1 and out[0].startswith("train accuracy: ")


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "32"], "--batch-size and --epochs go together"),
    (["--patience", "3"], "--patience needs --validation-split"),
    (["--decay-rate", "0.5"], "--decay-rate goes with --lr-schedule"),
    (["--keep-prob", "0"], "argument --keep-prob: '0' is not a probability in (0, 1]"),
    (["--l2", "-1"], "argument --l2: '-1' is not a number >= 0"),
    (["--validation-split", "1"], "argument --validation-split: '1' is not a fraction strictly between 0 and 1"),
    (["--validation-split", "0.001"], "--validation-split 0.001 of 400 examples leaves 400 to train on and 0 to "
                                      "validate"),
    (["--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
    (["--output", "softmax", "--layers", "2,4,1"], "the last layer must have 2 units (one per class)"),
    (["--dataset", "football"], "--dataset football needs --data FILE"),
    (["--dataset", "digits", "--data", "x.csv"], "--data FILE goes with --dataset npz, csv or football"),
    (["--lr-schedule", "exponential", "--decay-rate", "2"], "rate must be a number in (0, 1]"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_training_options_exit_2_with_one_line(capsys, argv, message):
    code, _, err = run(capsys, "train", "--iterations", "2", *argv)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("dnn-xp: error: ") and message in err[0]
