"""The course's cat-vs-non-cat results, reproduced through ``dnn_xp.course`` and ``Network``.

The published numbers are the course notebooks' printed output (float64, NumPy). The
full 2500-iteration runs take seconds each and are marked ``slow``; they still run by
default (and in CI). Each run is made once per session and shared by its tests.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from conftest import CAT_DIR

from dnn_xp import Network, course, resolve_backend, to_numpy

RTOL = 1e-9
RECORDED = list(range(0, 2500, 100)) + [2499]

TWO_LAYER = {
    "dims": [12288, 7, 1],
    "network": {"init": "small", "seed": 1},
    "cost_0": 0.693049735659989,
    "cost_final": 0.04421498215868956,
    "train": 1.0,
    "test": 0.72,
    # "Cost after iteration i" for i = 0, 100, ..., 2400 in the course's two-layer notebook
    "costs": [0.6930497356599888, 0.6464320953428849, 0.6325140647912677, 0.6015024920354665,
              0.5601966311605747, 0.5158304772764729, 0.4754901313943325, 0.43391631512257495,
              0.4007977536203886, 0.3580705011323798, 0.3394281538366413, 0.30527536361962654,
              0.2749137728213015, 0.2468176821061484, 0.19850735037466102, 0.17448318112556638,
              0.1708076297809692, 0.11306524562164715, 0.09629426845937156, 0.0834261795972687,
              0.07439078704319085, 0.06630748132267933, 0.05919329501038172, 0.053361403485605606,
              0.04855478562877019],
    "costs_atol": 0.0,
}
L_LAYER = {
    "dims": [12288, 20, 7, 5, 1],
    "network": {"init": "lecun", "seed": 1},
    "cost_0": 0.7717493284237686,
    "cost_final": 0.088439943441702,
    "train": 0.9856459330143541,
    "test": 0.8,
    # the L-layer notebook prints these rounded to 6 decimals
    "costs": [0.771749, 0.672053, 0.648263, 0.611507, 0.567047, 0.540138, 0.527930, 0.465477, 0.369126,
              0.391747, 0.315187, 0.272700, 0.237419, 0.199601, 0.189263, 0.161189, 0.148214, 0.137775,
              0.129740, 0.121225, 0.113821, 0.107839, 0.102855, 0.100897, 0.092878],
    "costs_atol": 5e-7,
}
MODELS = {"two_layer": TWO_LAYER, "L_layer": L_LAYER}
COURSE_FUNCTIONS = {"two_layer": course.two_layer_model, "L_layer": course.L_layer_model}
# The course's logistic regression (week 2), printed rounded to 6 decimals every 100 iterations.
LOGISTIC_COSTS = [0.693147, 0.584508, 0.466949, 0.376007, 0.331463, 0.303273, 0.279880, 0.260042, 0.242941,
                  0.228004, 0.214820, 0.203078, 0.192544, 0.183033, 0.174399, 0.166521, 0.159305, 0.152667,
                  0.146542, 0.140872]


def _printed_costs(text):
    found = re.findall(r"^Cost after iteration (\d+): (\S+)$", text, flags=re.MULTILINE)
    return [int(i) for i, _ in found], [float(c) for _, c in found]


# ---------------------------------------------------------------- smoke values (one iteration)

@pytest.mark.parametrize("model", MODELS)
def test_course_cost_at_iteration_0(cat_data, model):
    _, costs = COURSE_FUNCTIONS[model](cat_data.train_x, cat_data.train_y, MODELS[model]["dims"], 0.0075, 1)
    assert len(costs) == 1
    assert costs[0] == pytest.approx(MODELS[model]["cost_0"], rel=RTOL)


@pytest.mark.parametrize("model", MODELS)
def test_network_cost_at_iteration_0(cat_data, model):
    net = Network(MODELS[model]["dims"], **MODELS[model]["network"])
    assert net.cost(cat_data.train_x, cat_data.train_y) == pytest.approx(MODELS[model]["cost_0"], rel=RTOL)
    history = net.fit(cat_data.train_x, cat_data.train_y, learning_rate=0.0075, num_iterations=1)
    assert history.iterations == [0]
    assert history.costs[0] == pytest.approx(MODELS[model]["cost_0"], rel=RTOL)


def test_cat_data_layout(cat_data):
    assert cat_data.train_x.shape == (12288, 209) and cat_data.train_y.shape == (1, 209)
    assert cat_data.test_x.shape == (12288, 50) and cat_data.test_y.shape == (1, 50)
    assert cat_data.train_x.dtype == np.float64 and 0.0 <= cat_data.train_x.min() < cat_data.train_x.max() <= 1.0
    assert cat_data.train_y.sum() == 72 and cat_data.test_y.sum() == 33
    assert cat_data.classes == ["non-cat", "cat"]


# ---------------------------------------------------------------- full runs

@pytest.fixture(scope="session")
def course_runs(cat_data):
    """Each course model trained once, printing its costs as the notebook does."""
    runs = {}

    def run(model):
        if model not in runs:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                parameters, costs = COURSE_FUNCTIONS[model](cat_data.train_x, cat_data.train_y,
                                                            MODELS[model]["dims"], 0.0075, 2500, print_cost=True)
            runs[model] = (parameters, costs, out.getvalue())
        return runs[model]

    return run


@pytest.fixture(scope="session")
def network_runs(cat_data):
    runs = {}

    def run(model):
        if model not in runs:
            net = Network(MODELS[model]["dims"], **MODELS[model]["network"])
            history = net.fit(cat_data.train_x, cat_data.train_y, learning_rate=0.0075, num_iterations=2500,
                              record_every=100)
            runs[model] = (net, history)
        return runs[model]

    return run


def _accuracy_printed_by_course_predict(capsys, X, Y, parameters):
    p = course.predict(X, Y, parameters)
    (line,) = capsys.readouterr().out.splitlines()
    match = re.fullmatch(r"Accuracy: (\S+)", line)
    assert match, line
    assert p.shape == Y.shape and p.dtype == np.float64 and set(np.unique(p)) <= {0.0, 1.0}
    return p, float(match.group(1))


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_course_model_reproduces_the_course(cat_data, course_runs, capsys, model):
    expected = MODELS[model]
    parameters, costs, printed = course_runs(model)
    # The course's list: the 0-d cost of iterations 0, 100, ..., 2400; printed also at 2499.
    assert len(costs) == 25 and all(isinstance(c, np.ndarray) and c.shape == () for c in costs)
    assert costs[0] == pytest.approx(expected["cost_0"], rel=RTOL)
    np.testing.assert_allclose(costs, expected["costs"], rtol=RTOL, atol=expected["costs_atol"])

    iterations, printed_costs = _printed_costs(printed)
    assert iterations == RECORDED
    np.testing.assert_allclose(printed_costs[:-1], costs, rtol=1e-15)
    assert printed_costs[-1] == pytest.approx(expected["cost_final"], rel=RTOL)

    p_train, train = _accuracy_printed_by_course_predict(capsys, cat_data.train_x, cat_data.train_y, parameters)
    p_test, test = _accuracy_printed_by_course_predict(capsys, cat_data.test_x, cat_data.test_y, parameters)
    assert train == pytest.approx(expected["train"], rel=RTOL)
    assert test == pytest.approx(expected["test"], rel=RTOL)
    assert np.mean(p_train == cat_data.train_y) == pytest.approx(expected["train"], rel=RTOL)


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_network_reproduces_the_course(cat_data, network_runs, model):
    expected = MODELS[model]
    net, history = network_runs(model)
    assert history.iterations == RECORDED
    assert history.costs[0] == pytest.approx(expected["cost_0"], rel=RTOL)
    assert history.costs[-1] == pytest.approx(expected["cost_final"], rel=RTOL)
    np.testing.assert_allclose(history.costs[:-1], expected["costs"], rtol=RTOL, atol=expected["costs_atol"])
    assert net.accuracy(cat_data.train_x, cat_data.train_y) == pytest.approx(expected["train"], rel=RTOL)
    assert net.accuracy(cat_data.test_x, cat_data.test_y) == pytest.approx(expected["test"], rel=RTOL)
    assert net.cost(cat_data.train_x, cat_data.train_y) < expected["cost_final"]  # one more step was taken
    assert net.iterations_trained == 2500


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_network_and_course_agree(cat_data, course_runs, network_runs, capsys, model):
    parameters, costs, _ = course_runs(model)
    net, history = network_runs(model)
    np.testing.assert_allclose(history.costs[:-1], costs, rtol=RTOL)
    for name, value in net.parameters.items():
        np.testing.assert_allclose(value, parameters[name], rtol=1e-7, atol=1e-12, err_msg=name)
    p_course = course.predict(cat_data.test_x, cat_data.test_y, parameters)
    capsys.readouterr()
    np.testing.assert_array_equal(net.predict(cat_data.test_x), p_course)
    # The course's predict also accepts the network's parameters.
    _, train = _accuracy_printed_by_course_predict(capsys, cat_data.train_x, cat_data.train_y, net.parameters)
    assert train == pytest.approx(MODELS[model]["train"], rel=RTOL)


@pytest.mark.slow
def test_logistic_regression_reproduces_the_course(cat_data):
    net = Network([12288, 1], init="zeros")
    history = net.fit(cat_data.train_x, cat_data.train_y, learning_rate=0.005, num_iterations=2000)
    assert history.iterations == list(range(0, 2000, 100)) + [1999]
    assert history.costs[0] == pytest.approx(0.6931471805599453, rel=1e-15)  # log 2: all outputs 0.5
    np.testing.assert_allclose(history.costs[:-1], LOGISTIC_COSTS, rtol=0, atol=5e-7)
    assert net.accuracy(cat_data.train_x, cat_data.train_y) == pytest.approx(0.9904306220095693, rel=RTOL)
    assert net.accuracy(cat_data.test_x, cat_data.test_y) == pytest.approx(0.70, rel=RTOL)


@pytest.fixture(scope="module")
def jax_cat(cat_data):
    """The cat training set as JAX float64 arrays (on JAX's default device)."""
    backend = resolve_backend("jax")
    to = lambda a: backend.asarray(a, backend.dtype("float64"))  # noqa: E731
    return backend, to(cat_data.train_x), to(cat_data.train_y)


# The course's functions run op by op on JAX (not compiled): as slow per step as the compiled run,
# whose full 2500 iterations test_network_on_jax_matches_numpy covers, so they are pinned on the
# run's first 101 iterations: its costs at 0 and 100, and the weights after them.
JAX_COURSE_ITERATIONS = 101


@pytest.mark.parametrize("model", MODELS)
def test_course_models_on_jax_match_numpy(cat_data, jax_cat, model):
    """The course's own functions on JAX arrays: the same run on NumPy's costs and weights to 1e-9,
    results in JAX."""
    backend, X, Y = jax_cat
    train = COURSE_FUNCTIONS[model]
    parameters, costs = train(X, Y, MODELS[model]["dims"], 0.0075, JAX_COURSE_ITERATIONS)
    expected_parameters, expected_costs = train(cat_data.train_x, cat_data.train_y, MODELS[model]["dims"], 0.0075,
                                                JAX_COURSE_ITERATIONS)
    assert len(costs) == 2
    assert float(expected_costs[0]) == pytest.approx(MODELS[model]["cost_0"], rel=RTOL)
    np.testing.assert_allclose([float(c) for c in costs], [float(c) for c in expected_costs], rtol=RTOL)
    for name, value in parameters.items():
        assert backend.owns(value) and value.dtype == backend.dtype("float64"), name
        np.testing.assert_allclose(to_numpy(value), expected_parameters[name], rtol=RTOL, atol=1e-12, err_msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_network_on_jax_matches_numpy(cat_data, jax_cat, network_runs, model):
    """``Network.fit`` on JAX (compiled chunks of 100 steps) against the same run on NumPy."""
    _, X, Y = jax_cat
    expected, expected_history = network_runs(model)
    net = Network(MODELS[model]["dims"], **MODELS[model]["network"], backend="jax")
    history = net.fit(X, Y, learning_rate=0.0075, num_iterations=2500, record_every=100, progress=False)
    assert history.iterations == RECORDED
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=RTOL)
    for name, value in net.parameters.items():
        np.testing.assert_allclose(to_numpy(value), expected.parameters[name], rtol=1e-7, atol=1e-12, err_msg=name)
    assert net.accuracy(cat_data.test_x, cat_data.test_y) == MODELS[model]["test"]


# ---------------------------------------------------------------- the application's helpers

def test_load_data_is_the_courses_loader(cat_data):
    train_x_orig, train_y, test_x_orig, test_y, classes = course.load_data(CAT_DIR)
    assert train_x_orig.shape == (209, 64, 64, 3) and test_x_orig.shape == (50, 64, 64, 3)
    assert train_x_orig.dtype == np.uint8 and train_y.shape == (1, 209) and test_y.shape == (1, 50)
    assert list(classes) == [b"non-cat", b"cat"]
    # The application notebook's preprocessing gives the library's layout.
    train_x = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255.
    test_x = test_x_orig.reshape(test_x_orig.shape[0], -1).T / 255.
    np.testing.assert_array_equal(train_x, cat_data.train_x)
    np.testing.assert_array_equal(test_x, cat_data.test_x)
    np.testing.assert_array_equal(test_y, cat_data.test_y)


@pytest.mark.parametrize("names", [None, "text"])
def test_print_mislabeled_images_draws_each_mistake(cat_data, names):
    """One titled image per column where ``p != y``, headless (Agg); class names as bytes or text."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    _, _, _, test_y, classes = course.load_data(CAT_DIR)
    if names == "text":
        classes = cat_data.classes
    p = test_y.astype(np.float64)
    wrong = [3, 10, 41]
    p[0, wrong] = 1 - p[0, wrong]
    with matplotlib.rc_context():
        figure = plt.figure()
        try:
            course.print_mislabeled_images(classes, cat_data.test_x, test_y, p)
            assert plt.rcParams["figure.figsize"] == [40.0, 40.0]  # as the course sets it
            assert len(figure.axes) == len(wrong)
            for ax, index in zip(figure.axes, wrong):
                predicted, actual = ["non-cat", "cat"][int(p[0, index])], ["non-cat", "cat"][int(test_y[0, index])]
                assert ax.get_title() == f"Prediction: {predicted} \n Class: {actual}"
                np.testing.assert_array_equal(ax.images[0].get_array(), cat_data.test_x[:, index].reshape(64, 64, 3))
        finally:
            plt.close(figure)
