"""Course 1, weeks 2 and 3 through their drop-in modules: the assignments' checks and published runs.

The expected numbers are the course notebooks' printed output (float64, NumPy).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from dnn_xp.course import logistic_regression as week2
from dnn_xp.course import planar as week3

# "Cost after iteration i" of the week-2 model (learning rate 0.005), i = 0, 100, ..., 1900.
LOGISTIC_COSTS = [0.693147, 0.584508, 0.466949, 0.376007, 0.331463, 0.303273, 0.279880, 0.260042, 0.242941,
                  0.228004, 0.214820, 0.203078, 0.192544, 0.183033, 0.174399, 0.166521, 0.159305, 0.152667,
                  0.146542, 0.140872]
# "Cost after iteration i" of the week-3 model with n_h = 4, i = 0, 1000, ..., 7000.
PLANAR_COSTS = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504]


def _printed(text, unit="iteration"):
    return [float(c) for c in re.findall(rf"^Cost after {unit} \d+: (\S+)$", text, flags=re.MULTILINE)]


def test_week2_signatures_and_defaults():
    assert str(inspect.signature(week2.optimize)) == (
        "(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False)")
    assert str(inspect.signature(week2.model)) == (
        "(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False)")
    w, b = week2.initialize_with_zeros(2)
    assert isinstance(w, np.ndarray) and w.shape == (2, 1) and not w.any()
    assert b == 0.0 and isinstance(b, float)


def test_week2_assignment_checks():
    """The values the assignment prints for its own small examples."""
    np.testing.assert_allclose(week2.sigmoid(np.array([0, 2])), [0.5, 0.88079708], rtol=1e-8)
    w, b = np.array([[1.0], [2.0]]), 2.0
    X, Y = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]]), np.array([[1, 0, 1]])
    grads, cost = week2.propagate(w, b, X, Y)
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-8)
    assert float(grads["db"]) == pytest.approx(0.001455578136784208, rel=1e-12)
    assert isinstance(cost, np.ndarray) and cost.shape == () and float(cost) == pytest.approx(5.801545319394553,
                                                                                                 rel=1e-12)
    params, grads, costs = week2.optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009)
    np.testing.assert_allclose(params["w"], [[0.19033591], [0.12259159]], rtol=1e-7)
    assert float(params["b"]) == pytest.approx(1.9253598300845747, rel=1e-12)
    np.testing.assert_allclose(grads["dw"], [[0.67752042], [1.41625495]], rtol=1e-7)
    assert float(grads["db"]) == pytest.approx(0.21919450454067652, rel=1e-12)
    assert len(costs) == 1 and float(costs[0]) == pytest.approx(5.801545319394553, rel=1e-12)
    prediction = week2.predict(np.array([[0.1124579], [0.23106775]]), -0.3, np.array([[1.0, -1.1, -3.2],
                                                                                        [1.2, 2.0, 0.1]]))
    np.testing.assert_array_equal(prediction, [[1.0, 1.0, 0.0]])


def test_week2_model_smoke(cat_data, capsys):
    """Iterations 0 and 100 of the course's run: the costs it prints there."""
    d = week2.model(cat_data.train_x, cat_data.train_y, cat_data.test_x, cat_data.test_y,
                    num_iterations=101, learning_rate=0.005, print_cost=True)
    assert _printed(capsys.readouterr().out) == LOGISTIC_COSTS[:2]
    assert len(d["costs"]) == 2 and all(isinstance(c, np.ndarray) and c.shape == () for c in d["costs"])


@pytest.mark.slow
def test_week2_model_reproduces_the_course(cat_data, capsys):
    d = week2.model(cat_data.train_x, cat_data.train_y, cat_data.test_x, cat_data.test_y,
                    num_iterations=2000, learning_rate=0.005, print_cost=True)
    assert set(d) == {"costs", "Y_prediction_test", "Y_prediction_train", "w", "b", "learning_rate",
                      "num_iterations"}
    out = capsys.readouterr().out
    assert _printed(out) == LOGISTIC_COSTS
    assert float(d["costs"][0]) == pytest.approx(np.log(2), rel=1e-15)  # w = 0: every output is 0.5
    np.testing.assert_allclose([float(c) for c in d["costs"]], LOGISTIC_COSTS, atol=5e-7, rtol=0)
    train, test = re.findall(r"^(?:train|test) accuracy: (\S+) %$", out, flags=re.MULTILINE)
    assert float(train) == pytest.approx(99.04306220095694, rel=1e-12) and float(test) == pytest.approx(70.0)
    assert d["w"].shape == (12288, 1) and d["Y_prediction_test"].shape == (1, 50)


def test_week3_signatures_and_shapes():
    assert week3.layer_sizes(np.zeros((5, 3)), np.zeros((2, 3))) == (5, 4, 2)
    assert str(inspect.signature(week3.update_parameters)) == "(parameters, grads, learning_rate=1.2)"
    assert str(inspect.signature(week3.nn_model)) == "(X, Y, n_h, num_iterations=10000, print_cost=False)"
    parameters = week3.initialize_parameters(2, 4, 1)
    expected = np.random.RandomState(2).randn(4 * 2 + 1 * 4)
    np.testing.assert_array_equal(parameters["W1"], expected[:8].reshape(4, 2) * 0.01)
    np.testing.assert_array_equal(parameters["W2"], expected[8:].reshape(1, 4) * 0.01)
    X, Y = week3.load_planar_dataset()
    A2, cache = week3.forward_propagation(X, parameters)
    assert list(cache) == ["Z1", "A1", "Z2", "A2"] and A2.shape == (1, 400)
    cost = week3.compute_cost(A2, Y)
    assert type(cost) is float and cost == pytest.approx(0.693048, abs=5e-7)
    grads = week3.backward_propagation(parameters, cache, X, Y)
    assert list(grads) == ["dW1", "db1", "dW2", "db2"]
    assert all(grads[f"d{k}"].shape == v.shape for k, v in parameters.items())


def test_week3_model_reproduces_the_course(capsys):
    X, Y = week3.load_planar_dataset()
    parameters = week3.nn_model(X, Y, n_h=4, num_iterations=10000, print_cost=True)
    printed = _printed(capsys.readouterr().out)
    # Past iteration 7000 the run is chaotic: the last digits of the BLAS kernel's sums (which
    # differ between CPUs) change the printed costs, so only the first eight are pinned.
    assert len(printed) == 10 and printed[:8] == PLANAR_COSTS
    predictions = week3.predict(parameters, X)
    assert predictions.shape == (1, 400) and predictions.dtype == np.bool_
    accuracy = float((Y @ predictions.T + (1 - Y) @ (1 - predictions.T))[0, 0] / Y.size * 100)
    assert int(accuracy) == 90  # the course prints "Accuracy: %d" % accuracy: 90%
