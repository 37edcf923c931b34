"""The scikit-learn estimators: check_estimator, array API dispatch, ONNX, a grid search on the cat data."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import dnn_xp  # noqa: E402
import dnn_xp.datasets  # noqa: E402
from dnn_xp.sklearn import DNNClassifier, DNNRegressor  # noqa: E402

from conftest import make_case  # noqa: E402

# Small and quick: check_estimator fits a few hundred times on tiny data sets.
QUICK = dict(hidden_layer_sizes=(8,), epochs=50, learning_rate=0.05, batch_size=None, random_state=0)
ESTIMATORS = [
    DNNClassifier(**QUICK),
    DNNRegressor(**QUICK),
    DNNClassifier(**QUICK, backend="array_api_strict", device="device1"),
]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------- the same numbers as Network
def _moons_rows(n=120, seed=0):
    X, Y = dnn_xp.datasets.moons(n_samples=n, noise=0.2, random_state=seed)
    return X.T, Y[0]


@pytest.mark.parametrize("optimizer, batch_size", [("gd", None), ("adam", 32)])
def test_the_classifier_trains_exactly_the_network_it_describes(optimizer, batch_size):
    X, y = _moons_rows()
    labels = np.where(y == 1, "lower", "upper")  # sorted: "lower" is class 0, so the encoding flips y
    est = DNNClassifier(hidden_layer_sizes=(5,), activation="tanh", optimizer=optimizer, learning_rate=0.05,
                        batch_size=batch_size, epochs=40, random_state=3).fit(X, labels)
    net = dnn_xp.Network([2, 5, 1], hidden="tanh", init="he", seed=3)
    history = net.fit(X.T, (labels == "upper").astype(float).reshape(1, -1), learning_rate=0.05, num_iterations=40,
                      record_every=1, optimizer=optimizer, batch_size=batch_size,
                      epochs=40 if batch_size else None, shuffle_seed=3, dropout_rng=3, progress=False)
    p = dnn_xp.to_numpy(net.predict_proba(X.T))[0]
    np.testing.assert_allclose(est.predict_proba(X), np.c_[1 - p, p], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(est.loss_curve_, history.costs, rtol=1e-12)
    assert list(est.classes_) == ["lower", "upper"] and est.n_iter_ == 40 and est.n_features_in_ == 2
    assert list(est.predict(X[:4])) == list(np.where(p[:4] > 0.5, "upper", "lower"))


def test_many_classes_use_softmax_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.2, random_state=0, stratify=y)
    est = DNNClassifier(hidden_layer_sizes=(64,), optimizer="adam", learning_rate=0.01, batch_size=64, epochs=15,
                        random_state=0).fit(X_train, y_train)
    assert est.network_.output.name == "softmax" and est.network_.layer_dims == [64, 64, 10]
    P = est.predict_proba(X_test)
    assert P.shape == (360, 10)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert est.score(X_test, y_test) >= 0.95


def test_partial_fit_continues_from_the_current_weights():
    X, y = _moons_rows()
    est = DNNClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, batch_size=None, random_state=0)
    with pytest.raises(ValueError, match="first call to partial_fit needs classes="):
        est.partial_fit(X, y)
    losses = []
    for _ in range(30):
        est.partial_fit(X, y, classes=[0.0, 1.0])
        losses.append(est.loss_curve_[-1])
    assert est.n_iter_ == 30 and losses[-1] < 0.8 * losses[0]
    with pytest.raises(ValueError, match="not among classes_"):
        est.partial_fit(X, np.full(len(y), 2.0))


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = _moons_rows(300)
    est = DNNClassifier(hidden_layer_sizes=(16,), learning_rate=0.05, batch_size=32, epochs=200, early_stopping=True,
                        validation_fraction=0.2, patience=5, random_state=0).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_ < 200
    assert est.validation_scores_[est.best_epoch_] == min(est.validation_scores_)


def test_the_regressor_fits_several_targets():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    Y = np.c_[X @ [1.0, -2.0, 0.5], np.sin(X[:, 0])]
    est = DNNRegressor(hidden_layer_sizes=(32,), learning_rate=0.01, batch_size=32, epochs=100,
                       random_state=0).fit(X, Y)
    assert est.predict(X).shape == (200, 2) and est.network_.layer_dims == [3, 32, 2]
    assert est.score(X, Y) > 0.95
    assert DNNRegressor(**QUICK).fit(X, Y[:, 0]).predict(X).shape == (200,)


@pytest.mark.parametrize("kwargs, message", [
    (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes must be positive ints"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(optimizer="sgdd"), "optimizer"),
    (dict(early_stopping=True, validation_fraction=1.5), "validation_fraction must be between 0 and 1"),
])
def test_bad_hyperparameters_are_reported_at_fit(kwargs, message):
    X, y = _moons_rows()
    est = DNNClassifier(**{**QUICK, **kwargs})
    with pytest.raises((ValueError, TypeError), match=message):
        est.fit(X, y)


# ---------------------------------------------------------------------- array API dispatch
@pytest.mark.parametrize("name, device, dtype", [
    ("torch", "cpu", "float32"),
    ("array_api_strict", "device1", "float64"),
    pytest.param("torch", "cuda", "float32", marks=pytest.mark.gpu),
    pytest.param("cupy", 0, "float32", marks=pytest.mark.gpu),
])
def test_array_api_inputs_train_and_answer_on_their_device(name, device, dtype):
    case = make_case(name, device, dtype)
    X, y = _moons_rows()
    X_dev, y_dev = case.asarray(X), case.backend.asarray(y)
    with sklearn.config_context(array_api_dispatch=True):
        est = DNNClassifier(**QUICK).fit(X_dev, y_dev)
        assert est.network_.backend.name == name
        P = case.check(est.predict_proba(X_dev))
        labels = est.predict(X_dev)
        assert case.backend.owns(labels)
        with pytest.raises(ValueError, match=r"DNNClassifier.predict\(\) must use the same namespace"):
            est.predict(X)
        reg = DNNRegressor(**QUICK).fit(X_dev, case.asarray(y))
        case.check(reg.predict(X_dev))
    reference = DNNClassifier(**QUICK, dtype=dtype).fit(X.astype(dtype), y)
    np.testing.assert_allclose(P, reference.predict_proba(X.astype(dtype)), rtol=case.rtol, atol=case.rtol)


def test_a_pickled_estimator_answers_the_same():
    import pickle

    X, y = _moons_rows()
    make_case("array_api_strict", "device1", "float64")
    est = DNNClassifier(**QUICK, backend="array_api_strict", device="device1").fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    assert again.network_.backend.name == "array_api_strict" and again.network_.backend.device_label == "device1"
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


# ---------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("classes", [["no", "yes"], [3, 5, 7]])
def test_a_fitted_classifier_exports_labels_and_probabilities(tmp_path, classes):
    ort = pytest.importorskip("onnxruntime")
    X, y = dnn_xp.datasets.spirals(n_per_class=40, classes=len(classes))
    X, labels = X.T, np.asarray(classes)[y[0].astype(int)]
    est = DNNClassifier(hidden_layer_sizes=(16,), learning_rate=0.02, batch_size=None, epochs=50,
                        random_state=0).fit(X, labels)
    session = ort.InferenceSession(str(est.to_onnx(tmp_path / "c.onnx")), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"X": X})
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=1e-12, atol=1e-12)
    assert list(label) == list(est.predict(X))


@pytest.mark.parametrize("targets", [1, 2])
def test_a_fitted_regressor_exports_its_predictions(tmp_path, targets):
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 4)).astype(np.float32)
    y = X[:, :targets].sum(axis=1) if targets == 1 else X[:, :targets]
    est = DNNRegressor(**QUICK).fit(X, y)
    session = ort.InferenceSession(str(est.to_onnx(tmp_path / "r.onnx")), providers=["CPUExecutionProvider"])
    (predictions,) = session.run(None, {"X": X})
    assert predictions.dtype == np.float32 and predictions.shape == est.predict(X).shape
    np.testing.assert_allclose(predictions, est.predict(X), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------- hyperparameter search (README)
@pytest.mark.slow
def test_grid_search_over_a_pipeline_on_the_cat_data(cat_data):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = Pipeline([("scale", StandardScaler()),
                     ("dnn", DNNClassifier(init="lecun", batch_size=64, epochs=20, random_state=1))])
    grid = GridSearchCV(pipe, {"dnn__learning_rate": [1e-4, 1e-3], "dnn__hidden_layer_sizes": [(7,), (20, 7, 5)]},
                        cv=3)
    grid.fit(cat_data.train_x.T, cat_data.train_y[0])
    scores = grid.cv_results_["mean_test_score"]  # (7,) then (20, 7, 5); 1e-4 then 1e-3 within each
    np.testing.assert_allclose(scores, [0.4308, 0.5981, 0.4545, 0.6507], atol=1e-3)
    assert grid.best_params_ == {"dnn__hidden_layer_sizes": (20, 7, 5), "dnn__learning_rate": 0.001}
    assert grid.best_score_ == max(scores)
    assert grid.score(cat_data.train_x.T, cat_data.train_y[0]) == pytest.approx(0.9282, abs=1e-3)
    assert grid.score(cat_data.test_x.T, cat_data.test_y[0]) == pytest.approx(0.64, abs=1e-3)
