"""Network.summary(), dnn-xp info --model, and the summary dnn-xp train prints first."""

from __future__ import annotations

import numpy as np
import pytest

import dnn_xp
from dnn_xp.cli import main

from conftest import make_case
from test_format_version import save_like_version_0

CAT_SUMMARY = """\
Network [12288, 20, 7, 5, 1]
Layer     Output shape  Activation   Params
===========================================
input     (12288, m)    -                 0
hidden 1  (20, m)       relu        245,780
hidden 2  (7, m)        relu            147
hidden 3  (5, m)        relu             40
output 4  (1, m)        sigmoid           6
===========================================
Total params: 245,973 (1.88 MB)
dtype: float64
backend: numpy on cpu"""


def test_the_cat_model_summary_counts_every_weight_and_bias():
    net = dnn_xp.Network([12288, 20, 7, 5, 1], init="lecun", seed=1)
    assert net.summary() == CAT_SUMMARY
    assert sum(int(np.prod(p.shape)) for p in net.parameters.values()) == 245_973


def test_the_summary_names_dtype_backend_and_device():
    make_case("array_api_strict", "device1", "float32")
    net = dnn_xp.Network([2, 4, 1], hidden="tanh", output="identity", dtype="float32",
                         backend="array_api_strict", device="device1")
    lines = net.summary().splitlines()
    assert lines[3:6] == ["input     (2, m)        -                0",
                          "hidden 1  (4, m)        tanh            12",
                          "output 2  (1, m)        identity         5"]
    assert lines[-3:] == ["Total params: 17 (68 B)", "dtype: float32", "backend: array_api_strict on device1"]


def test_info_model_prints_the_summary_and_metadata(tmp_path, capsys):
    path = tmp_path / "m.npz"
    assert main(["train", "--iterations", "20", "--quiet", "--save", str(path)]) == 0
    capsys.readouterr()
    assert main(["info", "--model", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:10] == dnn_xp.Network.load(path).summary().splitlines()
    assert out[10:] == [f"file: {path}", "format: dnn_xp-model version 1", f"written by: dnn_xp {dnn_xp.__version__}",
                        "iterations trained: 20"]


def test_info_model_reads_a_file_of_the_previous_format(tmp_path, capsys):
    params = {"W1": np.ones((3, 2)), "b1": np.zeros((3, 1)), "W2": np.ones((1, 3)), "b2": np.zeros((1, 1))}
    path = save_like_version_0(tmp_path / "old.npz", params, [2, 3, 1])
    assert main(["info", "--model", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "format: dnn_xp-model version 0 (written before format versions)" in out
    assert "iterations trained: 7" in out


def test_info_of_a_missing_model_is_one_error_line(tmp_path, capsys):
    assert main(["info", "--model", str(tmp_path / "absent.npz")]) == 2
    assert capsys.readouterr().err == f"dnn-xp: error: model file {str(tmp_path / 'absent.npz')!r} does not exist\n"


@pytest.mark.parametrize("quiet", [False, True])
def test_train_prints_the_summary_unless_quiet(capsys, quiet):
    assert main(["train", "--iterations", "2", *(["--quiet"] if quiet else [])]) == 0
    out = capsys.readouterr().out
    assert (dnn_xp.Network([2, 4, 1], "tanh").summary() in out) is not quiet
