"""The generated teaching sets, a user's .npz/.csv files, and the checks of load_cat."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from dnn_xp.datasets import load_cat, load_csv, load_npz, planar_flower


# ---------------------------------------------------------------------- generated sets
def test_flower_has_the_column_layout_and_balanced_classes():
    X, Y = planar_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert X.dtype == Y.dtype == np.float64
    np.testing.assert_array_equal(Y[0], np.repeat([0.0, 1.0], 200))
    X_again, _ = planar_flower()
    np.testing.assert_array_equal(X, X_again)


# ---------------------------------------------------------------------- .npz files
def test_load_npz_turns_rows_into_columns(tmp_path):
    rows = np.arange(12.0).reshape(4, 3)
    for labels in (np.array([0, 1, 1, 0]), np.array([[0], [1], [1], [0]])):
        np.savez(tmp_path / "d.npz", X=rows, Y=labels)
        X, Y = load_npz(tmp_path / "d.npz")
        np.testing.assert_array_equal(X, rows.T)
        np.testing.assert_array_equal(Y, [[0.0, 1.0, 1.0, 0.0]])
        assert X.dtype == Y.dtype == np.float64


def test_load_npz_without_labels_gives_none(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((5, 2), dtype=np.float32))
    X, Y = load_npz(tmp_path / "d.npz", n_features=2)
    assert X.shape == (2, 5) and X.dtype == np.float64 and Y is None


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"A": np.ones((3, 2))}, "no array named 'X' \\(it has A\\)"),
        ({"X": np.ones(3)}, "X must be 2-D with one example per row"),
        ({"X": np.ones((3, 2)), "Y": np.ones(4)}, "Y must hold one label per example, shape \\(3,\\)"),
        ({"X": np.ones((3, 2)), "Y": np.ones((3, 2))}, "Y must hold one label per example"),
        ({"X": np.array([[1.0, np.nan], [0, 0]]), "Y": np.ones(2)}, "X has 1 NaN or infinite values "
                                                                   "\\(first in example 0"),
        ({"X": np.ones((2, 2)), "Y": np.array([0.0, np.inf])}, "Y has 1 NaN or infinite"),
        ({"X": np.array([["a", "b"]]), "Y": np.ones(1)}, "must hold numbers"),
    ],
    ids=["no-X", "X-1d", "Y-length", "Y-2-columns", "nan-in-X", "inf-in-Y", "strings"],
)
def test_load_npz_says_what_is_wrong(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_npz(tmp_path / "d.npz")


def test_load_npz_checks_the_feature_count(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)))
    with pytest.raises(ValueError, match="has 2 features per example but 5 are expected"):
        load_npz(tmp_path / "d.npz", n_features=5)


def test_load_npz_rejects_missing_foreign_pickled_and_truncated_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file .* does not exist"):
        load_npz(tmp_path / "absent.npz")
    (tmp_path / "text.npz").write_text("X,Y\n1,0\n")
    with pytest.raises(ValueError, match="is not an .npz file"):
        load_npz(tmp_path / "text.npz")
    np.savez(tmp_path / "objects.npz", X=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a usable .npz data file: Object arrays cannot be loaded"):
        load_npz(tmp_path / "objects.npz")
    np.savez(tmp_path / "good.npz", X=np.ones((50, 4)), Y=np.zeros(50))
    (tmp_path / "cut.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:300])
    with pytest.raises(ValueError, match="not a usable .npz data file"):
        load_npz(tmp_path / "cut.npz")


# ---------------------------------------------------------------------- .csv files
def test_load_csv_reads_rows_with_the_label_last_and_skips_a_header(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,label\n0.5,-1,1\n2,3e-1,0\n\n")
    X, Y = load_csv(tmp_path / "d.csv")
    np.testing.assert_array_equal(X, [[0.5, 2.0], [-1.0, 0.3]])
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])
    (tmp_path / "plain.csv").write_text("0.5,-1,1\n2,3e-1,0\n")
    np.testing.assert_array_equal(load_csv(tmp_path / "plain.csv")[0], X)


def test_load_csv_with_n_features_reads_label_free_rows(tmp_path):
    (tmp_path / "d.csv").write_text("1,2\n3,4\n5,6\n")
    X, Y = load_csv(tmp_path / "d.csv", n_features=2)
    np.testing.assert_array_equal(X, [[1, 3, 5], [2, 4, 6]])
    assert Y is None
    X, Y = load_csv(tmp_path / "d.csv", n_features=1)
    np.testing.assert_array_equal(Y, [[2, 4, 6]])


@pytest.mark.parametrize(
    "text, n_features, message",
    [
        ("1,2,0\n3,nan,1\n", None, "X has 1 NaN or infinite values \\(first in example 1"),
        ("1,2,0\n3,4\n", None, "line 2 has 2 values, the first row 3"),
        ("1,2,0\n3,four,1\n", None, "line 2 has a value that is not a number"),
        ("a,b,label\n", None, "has no data rows"),
        ("", None, "has no data rows"),
        ("1\n0\n", None, "has one column"),
        ("1,2,3,0\n", 2, "has 4 columns, but 2 features are expected: 2 columns \\(no labels\\) or 3"),
    ],
    ids=["nan", "ragged", "not-a-number", "header-only", "empty", "one-column", "too-wide"],
)
def test_load_csv_says_what_is_wrong(tmp_path, text, n_features, message):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_csv(tmp_path / "d.csv", n_features=n_features)


def test_load_csv_rejects_binary_and_missing_files(tmp_path):
    (tmp_path / "d.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ValueError, match="is not a readable CSV text file"):
        load_csv(tmp_path / "d.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_csv(tmp_path / "absent.csv")


# ---------------------------------------------------------------------- cat files
def test_load_cat_reads_the_course_files(cat_data):
    assert cat_data.train_x.shape == (12288, 209) and cat_data.test_x.shape == (12288, 50)
    assert cat_data.train_y.shape == (1, 209) and cat_data.test_y.shape == (1, 50)
    np.testing.assert_array_equal(cat_data.train_x[:5, 0] * 255, [17, 31, 56, 22, 33])
    assert int(cat_data.train_y.sum()) == 72 and int(cat_data.test_y.sum()) == 33
    assert cat_data.classes == ["non-cat", "cat"]


def _write_cat(folder, split, images, labels, names=None):
    names = names or (f"{split}_set_x", f"{split}_set_y")
    with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
        f[names[0]], f[names[1]] = images, labels


def test_load_cat_reads_well_formed_small_files(tmp_path):
    images = np.arange(2 * 64 * 64 * 3, dtype=np.uint8).reshape(2, 64, 64, 3)
    _write_cat(tmp_path, "train", images, np.array([[1], [0]]))
    _write_cat(tmp_path, "test", images[:1], np.array([1]))
    data = load_cat(tmp_path)
    np.testing.assert_array_equal(data.train_x[:, 1], images[1].reshape(-1) / 255.0)
    np.testing.assert_array_equal(data.train_y, [[1.0, 0.0]])
    assert data.test_x.shape == (12288, 1) and data.classes == ["non-cat", "cat"]


def test_load_cat_says_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_cat(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="train_catvnoncat.h5' is missing"):
        load_cat(tmp_path)
    (tmp_path / "train_catvnoncat.h5").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\n")
    with pytest.raises(ValueError, match="is not an HDF5 file \\(a Git LFS pointer"):
        load_cat(tmp_path)
    _write_cat(tmp_path, "train", np.zeros((2, 64, 64, 3)), np.zeros(2), names=("images", "labels"))
    with pytest.raises(ValueError, match="lacks the arrays \\['train_set_x', 'train_set_y'\\]; it has "
                                         "\\['images', 'labels'\\]"):
        load_cat(tmp_path)
    _write_cat(tmp_path, "train", np.zeros((2, 32, 32, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="expected images \\(m, 64, 64, 3\\) and labels \\(m,\\), got "
                                         "\\(2, 32, 32, 3\\)"):
        load_cat(tmp_path)
    _write_cat(tmp_path, "train", np.zeros((2, 64, 64, 3)), np.array([0, 2]))
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        load_cat(tmp_path)
    _write_cat(tmp_path, "train", np.zeros((200, 64, 64, 3), dtype=np.uint8), np.zeros(200))
    whole = (tmp_path / "train_catvnoncat.h5").read_bytes()
    (tmp_path / "train_catvnoncat.h5").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="is a damaged HDF5 file .*download it again"):
        load_cat(tmp_path)
