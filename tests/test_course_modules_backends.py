"""Every assignment module on every backend: results equal NumPy's and stay in the caller's
library, on its device, in its dtype; and week 4's cost-list contract.

Runs a few iterations of each model and each function on the ``case`` matrix
(NumPy, ``array_api_strict`` on ``device1``, torch CPU; float64 and float32).
"""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp.course import deep, gradient_checking, initialization, logistic_regression, optimization, planar
from dnn_xp.course import regularization


def _data(n_x=2, m=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m)
    return X, (X[:1] * X[1:2] > 0).astype(np.float64)


def _steps(case, n, on_dask):
    """``n`` training steps, or ``on_dask`` on dask: the course's loops settle their parameters every
    step (``Backend.settle``), so dask's graph stays one step long, but building and computing a
    step's graph takes about 0.1 s (a millisecond per operation) even on this tiny data."""
    return on_dask if case.backend.name == "dask" else n


def _same(case, result, expected):
    """``result`` (a case array, a dict or a list of them) equals the NumPy ``expected``."""
    if isinstance(result, dict):
        assert list(result) == list(expected)
        for key in result:
            _same(case, result[key], expected[key])
    elif isinstance(result, (list, tuple)):
        assert len(result) == len(expected)
        for r, e in zip(result, expected):
            _same(case, r, e)
    else:
        np.testing.assert_allclose(case.check(result), expected, rtol=case.rtol, atol=1e-6)


def test_logistic_regression_on_every_backend(case):
    X, Y = _data(3)
    w = np.zeros((3, 1))
    steps = _steps(case, 101, 20)  # 101: two recorded costs
    ref = logistic_regression.optimize(w, 0.0, X, Y, num_iterations=steps, learning_rate=0.1)
    got = logistic_regression.optimize(case.asarray(w), 0.0, case.asarray(X), case.asarray(Y), steps, 0.1)
    _same(case, got, ref)
    p = logistic_regression.predict(got[0]["w"], got[0]["b"], case.asarray(X))
    _same(case, p, logistic_regression.predict(ref[0]["w"], ref[0]["b"], X))
    d = logistic_regression.model(case.asarray(X), case.asarray(Y), case.asarray(X), case.asarray(Y), 3, 0.1)
    case.check(d["w"])


def test_planar_on_every_backend(case):
    X, Y = _data()
    steps = 30
    ref = planar.nn_model(X, Y, 4, num_iterations=steps)
    got = planar.nn_model(case.asarray(X), case.asarray(Y), 4, num_iterations=steps)
    _same(case, got, ref)
    A2, cache = planar.forward_propagation(case.asarray(X), got)
    assert isinstance(planar.compute_cost(A2, case.asarray(Y)), float)
    _same(case, planar.backward_propagation(got, cache, case.asarray(X), case.asarray(Y)),
          planar.backward_propagation(ref, planar.forward_propagation(X, ref)[1], X, Y))
    predictions = planar.predict(got, case.asarray(X))
    assert case.backend.owns(predictions) and predictions.shape == (1, 60)


def test_deep_compute_cost_is_a_0d_array(case):
    AL, Y = np.array([[0.8, 0.1, 0.6]]), np.array([[1.0, 0.0, 0.0]])
    cost = deep.compute_cost(case.asarray(AL), case.asarray(Y))
    assert cost.shape == ()
    expected = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    np.testing.assert_allclose(case.check(cost), expected, rtol=case.rtol)
    numpy_cost = deep.compute_cost(AL, Y)
    assert type(numpy_cost) is np.ndarray and numpy_cost.shape == ()  # not numpy.float64


@pytest.mark.parametrize("model", [deep.two_layer_model, deep.L_layer_model])
def test_deep_costs_every_100th_iteration_as_0d_arrays(capsys, model):
    """The course's list: 2500 iterations give 25 entries (0, 100, ..., 2400); the print adds 2499."""
    X, Y = _data(3, m=20)
    _, costs = model(X, Y, [3, 4, 1], learning_rate=0.05, num_iterations=2500, print_cost=True)
    assert len(costs) == 25
    assert all(type(c) is np.ndarray and c.shape == () for c in costs)
    printed = capsys.readouterr().out.splitlines()
    assert [int(line.split()[3][:-1]) for line in printed] == list(range(0, 2500, 100)) + [2499]
    assert [float(line.split()[-1]) for line in printed[:-1]] == [float(c) for c in costs]


def test_deep_costs_stay_on_the_backend(case):
    X, Y = _data(3, m=20)
    steps = _steps(case, 201, 20)  # 201: three recorded costs
    _, costs = deep.L_layer_model(case.asarray(X), case.asarray(Y), [3, 4, 1], 0.05, steps)
    _, ref = deep.L_layer_model(X, Y, [3, 4, 1], 0.05, steps)
    assert len(costs) == len(range(0, steps, 100)) and all(c.shape == () for c in costs)
    _same(case, costs, ref)


@pytest.mark.parametrize("initialization_name", ["zeros", "random", "he"])
def test_initialization_on_every_backend(case, initialization_name):
    X, Y = _data()
    steps = 20
    ref = initialization.model(X, Y, num_iterations=steps, print_cost=False, initialization=initialization_name)
    got = initialization.model(case.asarray(X), case.asarray(Y), num_iterations=steps, print_cost=False,
                               initialization=initialization_name)
    _same(case, got, ref)
    a3, cache = initialization.forward_propagation(case.asarray(X), got)
    cost = initialization.compute_loss(a3, case.asarray(Y))
    np.testing.assert_allclose(case.check(cost), initialization.compute_loss(*_numpy_a3(X, ref), Y),
                               rtol=case.rtol)
    _same(case, initialization.backward_propagation(case.asarray(X), case.asarray(Y), cache),
          initialization.backward_propagation(X, Y, initialization.forward_propagation(X, ref)[1]))
    p = initialization.predict(case.asarray(X), case.asarray(Y), got)
    assert case.backend.owns(p) and p.shape == (1, 60)


def _numpy_a3(X, parameters):
    return (initialization.forward_propagation(X, parameters)[0],)


def test_initializers_on_a_named_backend(case):
    parameters = initialization.initialize_parameters_he([2, 3, 1], backend=case.backend.name,
                                                         device=case.backend.device)
    np.testing.assert_allclose(case.check(case.xp.astype(parameters["W1"], case.backend.dtype(case.dtype))),
                               initialization.initialize_parameters_he([2, 3, 1])["W1"], rtol=case.rtol)


@pytest.mark.parametrize("options", [{"lambd": 0.7}, {"keep_prob": 0.8}])
def test_regularization_on_every_backend(case, options):
    X, Y = _data()
    steps = 20
    ref = regularization.model(X, Y, num_iterations=steps, print_cost=False, **options)
    got = regularization.model(case.asarray(X), case.asarray(Y), num_iterations=steps, print_cost=False, **options)
    _same(case, got, ref)
    A3, cache = regularization.forward_propagation_with_dropout(case.asarray(X), got, 0.8)
    ref_A3, ref_cache = regularization.forward_propagation_with_dropout(X, ref, 0.8)
    _same(case, cache, ref_cache)
    _same(case, regularization.backward_propagation_with_dropout(case.asarray(X), case.asarray(Y), cache, 0.8),
          regularization.backward_propagation_with_dropout(X, Y, ref_cache, 0.8))
    cost = regularization.compute_cost_with_regularization(A3, case.asarray(Y), got, 0.7)
    _same(case, cost, regularization.compute_cost_with_regularization(ref_A3, Y, ref, 0.7))


def test_gradient_checking_on_every_backend(case):
    X, Y = _data(4, m=3)
    parameters = {name: np.random.RandomState(l).randn(*shape) for l, (name, shape) in enumerate(
        [("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1))])}
    on_case = {name: case.asarray(value) for name, value in parameters.items()}
    cost, cache = gradient_checking.forward_propagation_n(case.asarray(X), case.asarray(Y), on_case)
    _same(case, cost, gradient_checking.forward_propagation_n(X, Y, parameters)[0])
    gradients = gradient_checking.backward_propagation_n(case.asarray(X), case.asarray(Y), cache)
    theta, keys = gradient_checking.dictionary_to_vector(on_case)
    assert theta.shape == (47, 1) and len(keys) == 47
    _same(case, gradient_checking.vector_to_dictionary(theta), parameters)
    if case.backend.name == "dask":
        return  # 94 lazy forward passes: most of a minute on dask; the other cases pin gradient_check_n
    difference = gradient_checking.gradient_check_n(on_case, gradients, case.asarray(X), case.asarray(Y))
    case.check(difference)
    if case.dtype == "float64":  # central differences with epsilon = 1e-7 need float64
        assert float(difference) < gradient_checking.THRESHOLD


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_optimization_on_every_backend(case, optimizer):
    X, Y = _data(m=150)
    epochs = 3  # 3 mini-batches per epoch
    ref = optimization.model(X, Y, [2, 5, 2, 1], optimizer, learning_rate=0.01, num_epochs=epochs, print_cost=False,
                             decay=optimization.update_lr)
    got = optimization.model(case.asarray(X), case.asarray(Y), [2, 5, 2, 1], optimizer, learning_rate=0.01,
                             num_epochs=epochs, print_cost=False, decay=optimization.update_lr)
    _same(case, got, ref)
    batches = optimization.random_mini_batches(case.asarray(X), case.asarray(Y), 64, seed=11)
    _same(case, batches, optimization.random_mini_batches(X, Y, 64, seed=11))
    a3, _ = optimization.forward_propagation(case.asarray(X), got)
    cost = optimization.compute_cost(a3, case.asarray(Y))
    _same(case, cost, optimization.compute_cost(optimization.forward_propagation(X, ref)[0], Y))


def test_adam_step_on_every_backend(case):
    parameters = {"W1": np.arange(6.0).reshape(2, 3) / 7, "b1": np.ones((2, 1))}
    grads = {"dW1": np.cos(parameters["W1"]), "db1": np.full((2, 1), -0.5)}
    on_case = {k: case.asarray(v) for k, v in parameters.items()}
    grads_on_case = {k: case.asarray(v) for k, v in grads.items()}
    v, s = optimization.initialize_adam(on_case)
    got = optimization.update_parameters_with_adam(on_case, grads_on_case, v, s, 1)
    _same(case, got, optimization.update_parameters_with_adam(parameters, grads, *optimization.initialize_adam(
        parameters), 1))
    velocity = optimization.initialize_velocity(on_case)
    _same(case, optimization.update_parameters_with_momentum(on_case, grads_on_case, velocity, 0.9, 0.1),
          optimization.update_parameters_with_momentum(parameters, grads, optimization.initialize_velocity(
              parameters), 0.9, 0.1))


MODULES = ["logistic_regression", "planar", "deep", "initialization", "regularization", "gradient_checking",
           "optimization"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_is_one_import_line(module):
    """``from dnn_xp.course.<module> import *`` brings every name the assignment's notebook calls."""
    names = {}
    exec(f"from dnn_xp.course.{module} import *", names)
    exported = set(names) - {"__builtins__"}
    assert exported == set(getattr(__import__(f"dnn_xp.course.{module}", fromlist=["_"]), "__all__"))
    assert all(callable(names[n]) for n in exported)


# The course notebooks' import lines from their helper files (``*_utils.py``): with the helper's
# module name replaced by the drop-in module's, each line must import.
NOTEBOOK_IMPORTS = {
    "logistic_regression": ["load_dataset"],  # lr_utils
    "planar": ["plot_decision_boundary", "sigmoid", "load_planar_dataset", "load_extra_datasets"],
    "deep": ["sigmoid", "sigmoid_backward", "relu", "relu_backward",  # dnn_utils
             "load_data", "initialize_parameters", "initialize_parameters_deep", "linear_activation_forward",
             "L_model_forward", "compute_cost", "linear_activation_backward", "L_model_backward",
             "update_parameters", "predict", "print_mislabeled_images"],  # dnn_app_utils, imported with *
    "initialization": ["sigmoid", "relu", "compute_loss", "forward_propagation", "backward_propagation",
                       "update_parameters", "predict", "load_dataset", "plot_decision_boundary", "predict_dec"],
    "regularization": ["sigmoid", "relu", "plot_decision_boundary", "initialize_parameters", "load_2D_dataset",
                       "predict_dec", "compute_cost", "predict", "forward_propagation", "backward_propagation",
                       "update_parameters"],
    "gradient_checking": ["sigmoid", "relu", "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector"],
    "optimization": ["load_params_and_grads", "initialize_parameters", "forward_propagation", "backward_propagation",
                     "compute_cost", "predict", "predict_dec", "plot_decision_boundary", "load_dataset"],
}


@pytest.mark.parametrize("module", MODULES)
def test_each_notebooks_helper_import_line_works(module):
    names = {}
    exec(f"from dnn_xp.course.{module} import {', '.join(NOTEBOOK_IMPORTS[module])}", names)
    assert all(callable(names[name]) for name in NOTEBOOK_IMPORTS[module])


def test_load_params_and_grads_draws_as_the_course():
    drawn = optimization.load_params_and_grads()
    np.random.seed(1)
    expected = [np.random.randn(*shape) for shape in [(2, 3), (2, 1), (3, 3), (3, 1)] * 2]
    assert len(drawn) == 8
    for got, want in zip(drawn, expected):
        np.testing.assert_array_equal(got, want)


def test_the_package_import_still_gives_week_4():
    names = {}
    exec("from dnn_xp.course import *", names)
    assert set(names) - {"__builtins__"} == set(deep.__all__)
    assert names["compute_cost"] is deep.compute_cost and names["L_layer_model"] is deep.L_layer_model
