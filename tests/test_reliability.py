"""Hostile input, as a table: never a silently wrong result, never a traceback from the CLI.

API rows assert the exception type and that the message names the argument; CLI
rows assert exit 2, exactly one ``dnn-xp: error:`` line on stderr and no traceback.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest

from dnn_xp import Network, course, to_numpy
from dnn_xp.backend import ENV_VAR
from dnn_xp.cli import main
from dnn_xp.datasets import load_cat, load_csv, planar_flower

from conftest import REPO

RNG = np.random.RandomState(0)
X = RNG.randn(3, 5)
Y = np.array([[0.0, 1.0, 0.0, 1.0, 1.0]])
GOOD = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W2": np.ones((1, 2)), "b2": np.zeros((1, 1))}


def _with(array, index, value):
    copy = np.array(array, dtype=np.result_type(array, value))
    copy[index] = value
    return copy


def fit(X=X, Y=Y, **network):
    return Network([3, 2, 1], **{"seed": 1, **network}).fit(X, Y, num_iterations=2)


def masked(data, mask):
    return np.ma.masked_array(data, mask=mask)


def row(name, error, message, call):
    return pytest.param(call, error, message, id=name)


API = [
    row("init-nan", ValueError, r"init=nan would make every weight NaN", lambda: Network([3, 1], init=float("nan"))),
    row("init-inf", ValueError, r"init=inf would make every weight", lambda: Network([3, 1], init=float("inf"))),
    row("init-minus-inf", ValueError, r"init=-inf", lambda: Network([3, 1], init=-np.inf)),
    row("init-overflows", ValueError, r"init=1e\+308 is too large: weights of layer 1 overflow",
        lambda: Network([3, 4, 1], init=1e308)),
    row("from_parameters-W-nan", ValueError, r"W1 contains NaN or Inf; a network's parameters must be finite",
        lambda: Network.from_parameters({**GOOD, "W1": _with(GOOD["W1"], (0, 0), np.nan)})),
    row("from_parameters-b-inf", ValueError, r"b2 contains NaN or Inf",
        lambda: Network.from_parameters({**GOOD, "b2": np.full((1, 1), np.inf)})),
    row("from_parameters-complex", TypeError, r"W2 is complex \(complex128\)",
        lambda: Network.from_parameters({**GOOD, "W2": GOOD["W2"] + 1j})),
    row("from_parameters-list", TypeError, r"parameters must be a dict", lambda: Network.from_parameters([1, 2])),
    row("from_parameters-strings", TypeError, r"b1 must hold numbers",
        lambda: Network.from_parameters({**GOOD, "b1": np.array([["a"], ["b"]])})),
    row("X-complex", TypeError, r"X is complex \(complex128\); pass real numbers", lambda: fit(X=X + 0j)),
    row("Y-complex", TypeError, r"Y is complex", lambda: fit(Y=Y.astype(complex))),
    row("X-complex-torch", TypeError, r"X is complex",
        lambda: fit(X=__import__("torch").asarray(X + 1j), backend="torch")),
    row("X-objects", TypeError, r"X must hold numbers; got dtype object", lambda: fit(X=X.astype(object))),
    row("X-ragged", ValueError, r"X is not a rectangular array", lambda: fit(X=[[1.0, 2.0], [3.0]])),
    row("X-masked", ValueError, r"X is a masked array with 1 masked entries; fill them",
        lambda: fit(X=masked(X, _with(np.zeros(X.shape, bool), (1, 1), True)))),
    row("X-masked-nan", ValueError, r"X is a masked array with 1 masked entries",
        lambda: fit(X=masked(_with(X, (0, 0), np.nan), _with(np.zeros(X.shape, bool), (0, 0), True)))),
    row("X-masked-array-holding-nan", ValueError, r"X contains NaN or Inf",
        lambda: fit(X=masked(_with(X, (0, 0), np.nan), False))),
    row("Y-pandas-series", ValueError, r"Y must be 2-D", lambda: fit(Y=__import__("pandas").Series(Y[0]))),
    row("X-pandas-rows-as-examples", ValueError, r"X has 5 rows but the network expects 3.*shape \(3, m\)",
        lambda: fit(X=__import__("pandas").DataFrame(X.T))),
    row("X-pandas-missing", ValueError, r"X contains NaN or Inf",
        lambda: fit(X=__import__("pandas").DataFrame(X).astype("Float64").mask(X > 1))),
    row("X-pandas-text", TypeError, r"X holds values that are not numbers",
        lambda: fit(X=__import__("pandas").DataFrame(X).astype(object).mask(X > 1, "dog"))),
    row("seed-float", TypeError, r"seed must be an integer \(or None\); got 1.5", lambda: Network([3, 1], seed=1.5)),
    row("seed-str", TypeError, r"seed must be an integer", lambda: Network([3, 1], seed="1")),
    row("seed-bool", TypeError, r"seed must be an integer", lambda: Network([3, 1], seed=True)),
    row("seed-negative", ValueError, r"seed must be between 0 and 2\*\*32 - 1; got -1", lambda: Network([3, 1], seed=-1)),
    row("seed-too-big", ValueError, r"seed must be between", lambda: Network([3, 1], seed=2**32)),
    row("layer_dims-bool", ValueError, r"layer_dims must be positive integers", lambda: Network([3, True, 1])),
    row("layer_dims-inf", ValueError, r"layer_dims must be positive integers", lambda: Network([3, float("inf"), 1])),
    row("layer_dims-nan", ValueError, r"layer_dims must be positive integers", lambda: Network([3, float("nan"), 1])),
    row("layer_dims-complex", TypeError, r"layer_dims must be a sequence", lambda: Network([3, 2j, 1])),
    row("layer_dims-huge", ValueError, r"layer_dims \[2, 1000000000000, 1\] would need 4,000,000,000,001 numbers, "
        r"32.0 TB, more than this machine's memory", lambda: Network([2, 10**12, 1])),
    row("planar_flower-m-1", ValueError, r"m must be at least 2, one example of each class; got m=1",
        lambda: planar_flower(m=1)),
    row("planar_flower-m-float", TypeError, r"m must be an integer", lambda: planar_flower(m=10.0)),
    row("course-L_layer_model-Y-column", ValueError, r"Y has 5 rows but the network expects 1.*\(1, m\)",
        lambda: course.L_layer_model(X, Y.T, [3, 2, 1], num_iterations=1)),
    row("course-two_layer_model-Y-column", ValueError, r"Y has 5 rows",
        lambda: course.two_layer_model(X, Y.T, (3, 2, 1), num_iterations=1)),
    row("course-compute_cost-Y-column", ValueError, r"Y has shape \(5, 1\) but AL \(1, 5\)",
        lambda: course.compute_cost(np.full((1, 5), 0.5), Y.T)),
]


@pytest.mark.parametrize("call, error, message", API)
def test_the_api_refuses_with_the_argument_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.filterwarnings("ignore:the matrix subclass is not the recommended way:PendingDeprecationWarning")
@pytest.mark.parametrize("convert", [np.asmatrix, lambda A: masked(A, False),
                                     lambda A: __import__("pandas").DataFrame(A)],
                         ids=["matrix", "masked-nothing", "pandas"])
def test_matrices_unmasked_arrays_and_data_frames_train_as_plain_arrays(convert):
    plain, other = Network([3, 2, 1], seed=1), Network([3, 2, 1], seed=1)
    assert plain.fit(X, Y, num_iterations=3).costs == other.fit(convert(X), convert(Y), num_iterations=3).costs
    np.testing.assert_array_equal(to_numpy(plain.predict(X)), to_numpy(other.predict(convert(X))))


@pytest.mark.parametrize("m", [2, 5, 401])
def test_planar_flower_of_odd_size_splits_the_points(m):
    X, Y = planar_flower(m=m)
    assert X.shape == (2, m) and Y.shape == (1, m)
    assert int(Y.sum()) == m - m // 2 and (Y[0, : m // 2] == 0).all()
    assert np.hypot(*X).min() > 0  # no point left at the origin
    if m == 401:  # class 0 draws the same numbers as in the 400-point data set
        np.testing.assert_array_equal(X[:, :200], planar_flower(m=400)[0][:, :200])


def test_the_course_models_take_the_course_shapes():
    parameters, costs = course.L_layer_model(X, Y, [3, 2, 1], num_iterations=1)
    assert len(costs) == 1 and np.isfinite(costs[0]) and parameters["W1"].shape == (2, 3)


# ---------------------------------------------------------------------- CSV details
@pytest.mark.parametrize("text, message", [
    (",1,0\n2,3,1\n", "line 1, column 1 is empty (a missing value)"),
    ("NA,1,0\n2,3,1\n", "line 1, column 1 holds 'NA', not a number"),
    ("x1,x2,label\n2,,1\n", "line 2, column 2 is empty (a missing value)"),
    ("1,2,0\n3,4,NA\n", "line 2, column 3 holds 'NA', not a number"),
], ids=["first-row-missing", "first-row-NA", "missing", "NA-label"])
def test_csv_missing_values_are_named_by_row_and_column(tmp_path, text, message):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"d.csv' {message}; fill in or remove missing values")):
        load_csv(tmp_path / "d.csv")


@pytest.mark.parametrize("text", ["\ufeff1,2,0\n3,4,1\n", "\ufeffx1,x2,label\n1,2,0\n3,4,1\n"], ids=["data", "header"])
def test_csv_byte_order_mark_is_skipped(tmp_path, text):
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    X, Y = load_csv(tmp_path / "d.csv")
    np.testing.assert_array_equal(X, [[1, 3], [2, 4]])
    np.testing.assert_array_equal(Y, [[0, 1]])


# ---------------------------------------------------------------------- hostile files
def _huge_header_model(path):
    """A model archive whose W1 header declares 10^10 float64 (80 GB) backed by 64 bytes."""
    Network([2, 4, 1]).save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (100000, 100000)})
    members["W1.npy"] = header.getvalue() + bytes(64)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def _edit_description(path, edit):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["__meta__"] = np.array(edit(str(arrays["__meta__"])))
    with open(path, "wb") as handle:  # np.savez(path) would add .npz to a name without it
        np.savez(handle, **arrays)


def _infinite_iterations(path):
    Network([2, 4, 1]).save(path)
    _edit_description(path, lambda text: text.replace('"iterations_trained": 0', '"iterations_trained": Infinity'))


def _nan_model(path):
    Network([2, 4, 1]).save(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["W2"][0, 1] = np.nan
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _checkpoint_without(key):
    def make(path):
        Network([2, 4, 1], hidden="tanh", init="small", seed=2).fit(
            *planar_flower(), learning_rate=1.2, num_iterations=3, checkpoint_path=path, checkpoint_every=1)

        def drop(text):
            meta = json.loads(text)
            del meta["checkpoint"][key]
            return json.dumps(meta)

        _edit_description(path, drop)
    return make


def _cat_files(images, labels, classes=None):
    def make(folder):
        folder.mkdir()
        for split in ("train", "test"):
            with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
                f[f"{split}_set_x"], f[f"{split}_set_y"] = images, labels
                if classes is not None:
                    f["list_classes"] = classes
    return make


def _sparse_cat_files(folder):
    """A 2 KB HDF5 file declaring 12 TB of images (HDF5 allocates chunks only when written)."""
    folder.mkdir()
    for split in ("train", "test"):
        with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
            f.create_dataset(f"{split}_set_x", shape=(10**9, 64, 64, 3), dtype="u1", chunks=(1, 64, 64, 3))
            f[f"{split}_set_y"] = np.zeros(2)


def test_a_nan_model_is_refused_instead_of_predicting_class_0(tmp_path):
    _nan_model(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"m.npz' is an inconsistent dnn_xp model: W2 contains NaN or Inf"):
        Network.load(tmp_path / "m.npz")


def test_a_header_larger_than_its_data_is_refused_before_allocating(tmp_path):
    _huge_header_model(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"array 'W1' declares shape \(100000, 100000\) of float64 "
                                         r"\(80000000000 bytes\) but the archive holds 64 bytes"):
        Network.load(tmp_path / "m.npz")


@pytest.mark.parametrize("images, labels, classes, message", [
    (np.full((2, 64, 64, 3), b"x"), np.zeros(2), None, r"'train_set_x' holds \|S1 values, not numbers"),
    (np.zeros((2, 64, 64, 3), np.uint8), np.array([b"0", b"1"]), None, r"'train_set_y' holds \|S1 values"),
    (np.zeros((2, 64, 64, 3), np.uint8), np.zeros(2), np.array([0, 1]), r"'list_classes' holds int64 values, not text"),
], ids=["string-images", "string-labels", "integer-class-names"])
def test_cat_files_with_the_wrong_dtypes_are_named(tmp_path, images, labels, classes, message):
    _cat_files(images, labels, classes)(tmp_path / "cat")
    with pytest.raises(ValueError, match=message):
        load_cat(tmp_path / "cat")


# ---------------------------------------------------------------------- the CLI: exit 2, one line
@pytest.fixture(autouse=True)
def default_backend(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


CLI = [
    ("layers-too-big", None, ["train", "--layers", "2,1000000000000,1"],
     "layer_dims [2, 1000000000000, 1] would need 4,000,000,000,001 numbers"),
    ("init-nan", None, ["train", "--init", "nan"], "init=nan would make every weight NaN or Inf"),
    ("model-huge-header", _huge_header_model, ["evaluate", "--model", "{file}"],
     "array 'W1' declares shape (100000, 100000)"),
    ("model-infinity", _infinite_iterations, ["evaluate", "--model", "{file}"],
     "has a corrupt model description: it holds Infinity"),
    ("model-nan", _nan_model, ["predict", "--model", "{file}"], "W2 contains NaN or Inf"),
    ("checkpoint-without-run", _checkpoint_without("run"), ["train", "--iterations", "3", "--checkpoint", "{file}"],
     "its checkpoint record lacks 'run'"),
    ("checkpoint-without-costs", _checkpoint_without("costs"),
     ["train", "--iterations", "3", "--checkpoint", "{file}"], "its checkpoint record lacks 'costs'"),
    ("cat-string-images", _cat_files(np.full((2, 64, 64, 3), b"x"), np.zeros(2)),
     ["train", "--data-dir", "{file}"], "'train_set_x' holds |S1 values, not numbers"),
    ("cat-integer-class-names", _cat_files(np.zeros((2, 64, 64, 3), np.uint8), np.zeros(2), np.array([0, 1])),
     ["train", "--data-dir", "{file}"], "'list_classes' holds int64 values, not text"),
    ("cat-huge-sparse-images", _sparse_cat_files, ["train", "--data-dir", "{file}"],
     "'train_set_x' of shape (1000000000, 64, 64, 3) would need 12,288,000,000,000 numbers"),
    ("csv-first-row-missing", lambda path: path.write_text(",1,0\n2,3,1\n"), ["train", "--data", "{file}.csv"],
     "line 1, column 1 is empty (a missing value)"),
    ("npz-data-huge-header", _huge_header_model, ["train", "--dataset", "npz", "--data", "{file}"],
     "array 'W1' declares shape (100000, 100000)"),
]


@pytest.mark.parametrize("make, argv, message", [pytest.param(*case[1:], id=case[0]) for case in CLI])
def test_the_cli_exits_2_with_one_line(capsys, tmp_path, make, argv, message):
    target = tmp_path / "file"
    if make is not None:
        make(target.with_suffix(".csv") if any(a == "{file}.csv" for a in argv) else target)
    argv = [a.format(file=target) for a in argv]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("dnn-xp: error: ") and "Traceback" not in err
    assert message in err


def _program(*argv, stdout_closed=False, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(ENV_VAR, None)
    command = [sys.executable, "-m", "dnn_xp", *argv]
    if stdout_closed:  # as a shell does for `dnn-xp ... >&-`
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    return subprocess.run(command, capture_output=not stdout_closed, stderr=subprocess.PIPE if stdout_closed else None,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_predict_with_stdout_closed_exits_2_with_one_line(tmp_path):
    Network([2, 4, 1], hidden="tanh").save(tmp_path / "m.npz")
    done = _program("predict", "--model", str(tmp_path / "m.npz"), stdout_closed=True)
    assert done.returncode == 2
    assert done.stderr == ("dnn-xp: error: standard output is closed; dnn-xp writes its results there: "
                           "redirect it (> FILE or > /dev/null) instead of closing it\n")


def test_a_bug_is_one_line_and_exit_1_not_a_traceback(capsys, monkeypatch):
    from dnn_xp import cli

    def broken(args):
        raise RuntimeError("something the code did not expect")

    monkeypatch.setattr(cli, "run_info", broken)
    assert main(["info"]) == 1
    out, err = capsys.readouterr()
    assert err == "dnn-xp: error: internal error, please report it: RuntimeError: something the code did not expect\n"


def test_predict_out_is_written_atomically(capsys, tmp_path, monkeypatch):
    from dnn_xp import saving

    Network([2, 4, 1], hidden="tanh").save(tmp_path / "m.npz")
    out = tmp_path / "p.csv"
    out.write_text("previous predictions\n")

    def disk_full(handle, *args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saving.os, "fsync", disk_full)
    code = main(["predict", "--model", str(tmp_path / "m.npz"), "--dataset", "flower", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert out.read_text() == "previous predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "p.csv"]
