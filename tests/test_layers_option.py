"""The rule of ``--layers``: full list, hidden-and-output sizes, or an error naming both numbers."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp.cli import PLANAR, UsageError, layer_dims, main


@pytest.mark.parametrize("spec, n_x, expected", [
    ([12288, 20, 7, 5, 1], 12288, [12288, 20, 7, 5, 1]),   # starts with the feature count: the full list
    ([20, 7, 5, 1], 12288, [12288, 20, 7, 5, 1]),          # hidden and output sizes
    ([4, 3, 1], 3, [3, 4, 3, 1]),                          # below 10 features no entry is "close"
    ([2, 1], 2, [2, 1]),                                   # logistic regression on 2 features
    ([2, 2, 1], 2, [2, 2, 1]),
    ([1], 2, [2, 1]),                                      # the output alone
    ([1], 1, [1, 1]),                                      # one entry is never a full list
    ([111, 1], 100, [100, 111, 1]),                        # more than 10% away: a hidden size
    ([89, 1], 100, [100, 89, 1]),
    ([100, 110, 1], 100, [100, 110, 1]),                   # the full list is always unambiguous
])
def test_the_layer_list_rule(spec, n_x, expected):
    assert layer_dims(spec, n_x, 1, PLANAR) == expected


@pytest.mark.parametrize("spec, n_x", [([12289, 20, 7, 5, 1], 12288), ([12188, 1], 12288), ([110, 1], 100),
                                       ([90, 1], 100), ([11, 1], 10)])
def test_a_first_entry_close_to_the_feature_count_is_an_error_naming_both(spec, n_x):
    with pytest.raises(UsageError, match=rf"the first entry {spec[0]} is close to but not the data's {n_x} "
                                         rf"features; start the list with {n_x} .* or write {n_x},"):
        layer_dims(spec, n_x, 1, PLANAR)


def test_the_last_layer_must_have_one_unit():
    with pytest.raises(UsageError, match="the last layer must have 1 unit"):
        layer_dims([4, 2], 2, 1, PLANAR)


def test_the_cli_reports_a_mistyped_input_size_in_one_line(tmp_path, capsys):
    rows = np.c_[np.random.default_rng(0).standard_normal((30, 20)), np.arange(30) % 2]
    np.savetxt(tmp_path / "d.csv", rows, delimiter=",")
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--layers", "21,1"]) == 2
    assert capsys.readouterr().err == ("dnn-xp: error: --layers 21,1: the first entry 21 is close to but not the "
                                       "data's 20 features; start the list with 20 for the full list, or write "
                                       "20,21,1 for a first hidden layer of 21 units\n")
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--layers", "20,21,1", "--iterations", "1",
                 "--quiet"]) == 0


def test_the_first_entry_rule_holds_with_several_outputs_and_the_last_entry_is_their_count():
    assert layer_dims([20, 7, 3], 12288, 3, PLANAR) == [12288, 20, 7, 3]
    assert layer_dims([64, 10, 10], 64, 10, PLANAR, softmax=True) == [64, 10, 10]
    with pytest.raises(UsageError, match="the first entry 60 is close to but not the data's 64 features"):
        layer_dims([60, 10], 64, 10, PLANAR, softmax=True)
    with pytest.raises(UsageError, match=r"the last layer must have 10 units \(one per class\); got 3"):
        layer_dims([20, 3], 64, 10, PLANAR, softmax=True)
    with pytest.raises(UsageError, match=r"must have 2 units \(the data has 2 labels per example\); got 1"):
        layer_dims([20, 1], 12288, 2, PLANAR)
