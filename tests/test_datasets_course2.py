"""The second part's data: moons and circles draw as scikit-learn does, spirals, digits, football."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnn_xp.datasets import circles, digits, load_football, moons, spirals

FOOTBALL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "football" / "data.mat"
sk_datasets = pytest.importorskip("sklearn.datasets")


@pytest.mark.parametrize("kwargs", [
    {"n_samples": 300, "noise": 0.2},
    {"n_samples": 7},
    {"n_samples": (3, 5), "noise": 0.1, "shuffle": False},
    {"n_samples": 50, "noise": 0.3, "random_state": 4},
], ids=["course", "odd-no-noise", "pair-unshuffled", "seeded"])
@pytest.mark.parametrize("ours, theirs", [(moons, "make_moons"), (circles, "make_circles")], ids=["moons", "circles"])
def test_draws_equal_scikit_learn_from_the_same_global_seed(ours, theirs, kwargs):
    np.random.seed(5)
    X, Y = ours(**kwargs)
    np.random.seed(5)
    X_sk, y_sk = getattr(sk_datasets, theirs)(**kwargs)
    np.testing.assert_array_equal(X, X_sk.T)
    np.testing.assert_array_equal(Y, y_sk.reshape(1, -1).astype(np.float64))
    assert X.dtype == Y.dtype == np.float64
    assert np.random.rand() == (np.random.seed(5), getattr(sk_datasets, theirs)(**kwargs), np.random.rand())[2]


def test_circles_factor_matches_scikit_learn_and_is_checked():
    np.random.seed(0)
    X, _ = circles(n_samples=20, factor=0.3)
    np.random.seed(0)
    np.testing.assert_array_equal(X, sk_datasets.make_circles(n_samples=20, factor=0.3)[0].T)
    with pytest.raises(ValueError, match="factor is the inner radius"):
        circles(factor=1.0)
    with pytest.raises(ValueError, match="n_samples"):
        moons(n_samples=-1)


def test_course_smoke_values():
    np.random.seed(1)
    X, Y = circles(n_samples=300, noise=.05)
    assert X.shape == (2, 300) and Y.shape == (1, 300)
    np.testing.assert_allclose(X.sum(), 0.10318058999808777, rtol=1e-12)
    np.testing.assert_allclose(X[:, 0], [-0.07741354, 0.85260226], atol=5e-9)
    np.random.seed(3)
    X, Y = moons(n_samples=300, noise=.2)
    np.testing.assert_allclose(X.sum(), 229.31214774688254, rtol=1e-12)
    np.testing.assert_allclose(X[:, 0], [-0.21687013, 1.01544937], atol=5e-9)
    assert Y.sum() == 150


def test_spirals_are_arms_of_class_ids():
    X, Y = spirals(n_per_class=50, classes=4, noise=0.0)
    assert X.shape == (2, 200) and Y.shape == (1, 200)
    np.testing.assert_array_equal(Y[0], np.repeat(np.arange(4.0), 50))
    np.testing.assert_allclose(np.hypot(X[0, :50], X[1, :50]), np.linspace(0, 1, 50), atol=1e-15)
    t = np.linspace(4.0, 8.0, 50)
    np.testing.assert_allclose(X[:, 50:100], np.vstack([np.linspace(0, 1, 50) * np.sin(t),
                                                       np.linspace(0, 1, 50) * np.cos(t)]), atol=1e-15)
    np.testing.assert_array_equal(spirals(seed=3)[0], spirals(seed=3)[0])
    assert not np.array_equal(spirals(seed=3)[0], spirals(seed=4)[0])
    with pytest.raises(ValueError, match="classes must be a positive integer"):
        spirals(classes=0)


def test_digits_are_scikit_learns_scaled_to_unit_range():
    X, Y = digits()
    data = sk_datasets.load_digits()
    assert X.shape == (64, 1797) and Y.shape == (1, 1797)
    np.testing.assert_array_equal(X * 16, data.data.T)
    np.testing.assert_array_equal(Y[0], data.target)
    assert X.min() == 0 and X.max() == 1


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"pip install 'dnn_xp\[datasets\]'"):
        digits()


def test_load_football_gives_the_course_transposes(tmp_path):
    if not FOOTBALL.is_file():
        pytest.skip(f"the course's football data is not at {FOOTBALL}")
    data = load_football(FOOTBALL)
    assert data.train_x.shape == (2, 211) and data.train_y.shape == (1, 211)
    assert data.val_x.shape == (2, 200) and data.val_y.shape == (1, 200)
    np.testing.assert_allclose(data.train_x.sum(axis=1), [-27.48180174, -12.60584636], atol=1e-8)
    np.testing.assert_allclose(data.train_x[:, 0], [-0.158986, 0.423977], atol=1e-6)
    assert data.train_y.sum() == 106 and data.val_y.sum() == 87 and data.train_y.dtype == np.float64
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_football(tmp_path / "missing.mat")
    (tmp_path / "bad.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match="not a readable MATLAB"):
        load_football(tmp_path / "bad.mat")
