"""Course 2 (weeks 1 and 2) through its drop-in modules: the recipes' smoke values from
``../shared/spec/course2.md``, the assignments' own checks, and the published costs at the
first printed checkpoints (slow: thousands of iterations).
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

from dnn_xp.course import gradient_checking as gc
from dnn_xp.course import initialization as init
from dnn_xp.course import optimization as opt
from dnn_xp.course import regularization as reg

FOOTBALL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "football" / "data.mat"


def _printed(text, unit="iteration"):
    return [float(c) for c in re.findall(rf"^Cost after {unit} \d+: (\S+)$", text, flags=re.MULTILINE)]


@pytest.fixture(scope="module")
def football():
    if not FOOTBALL.is_file():
        pytest.skip(f"the course's football data is not at {FOOTBALL}")
    return reg.load_2D_dataset(FOOTBALL)


# ---------------------------------------------------------------- data

def test_circles_as_the_course_builds_them():
    train_X, train_Y, test_X, test_Y = init.load_dataset()
    assert train_X.shape == (2, 300) and train_Y.shape == (1, 300)
    assert test_X.shape == (2, 100) and test_Y.shape == (1, 100)
    assert train_X.sum() == pytest.approx(0.10318058999808777, rel=1e-12)
    np.testing.assert_allclose(train_X[:, 0], [-0.07741354, 0.85260226], atol=5e-9)
    assert train_Y.sum() == 150 and test_Y.sum() == 50


def test_moons_as_the_course_builds_them():
    train_X, train_Y = opt.load_dataset()
    assert train_X.shape == (2, 300) and train_Y.shape == (1, 300)
    assert train_X.sum() == pytest.approx(229.31214774688254, rel=1e-12)
    np.testing.assert_allclose(train_X[:, 0], [-0.21687013, 1.01544937], atol=5e-9)
    assert train_Y.sum() == 150


def test_football_as_the_course_loads_it(football):
    train_X, train_Y, test_X, test_Y = football
    assert train_X.shape == (2, 211) and train_Y.shape == (1, 211)
    assert test_X.shape == (2, 200) and test_Y.shape == (1, 200)
    np.testing.assert_allclose(train_X.sum(axis=1), [-27.48180174, -12.60584636], atol=5e-8)
    np.testing.assert_allclose(train_X[:, 0], [-0.158986, 0.423977], atol=5e-7)
    assert train_Y.sum() == 106 and test_Y.sum() == 87
    assert reg.load_dataset is reg.load_2D_dataset


# ---------------------------------------------------------------- initialization

def test_initializers_draw_as_the_course():
    dims = [3, 2, 1]
    g = np.random.RandomState(3).randn(2 * 3 + 1 * 2)
    he = init.initialize_parameters_he(dims)
    np.testing.assert_array_equal(he["W1"], g[:6].reshape(2, 3) * np.sqrt(2.0 / 3))
    np.testing.assert_array_equal(he["W2"], g[6:].reshape(1, 2) * np.sqrt(2.0 / 2))
    random = init.initialize_parameters_random(dims)
    np.testing.assert_array_equal(random["W1"], g[:6].reshape(2, 3) * 10)
    zeros = init.initialize_parameters_zeros(dims)
    assert list(zeros) == ["W1", "b1", "W2", "b2"] and not any(v.any() for v in zeros.values())
    assert zeros["b1"].shape == (2, 1)
    assert str(inspect.signature(init.model)) == (
        "(X, Y, learning_rate=0.01, num_iterations=15000, print_cost=True, initialization='he')")


@pytest.mark.parametrize("initialization, first_cost", [("zeros", 0.6931471805599453), ("random", math.inf),
                                                        ("he", 0.8830537463419761)])
def test_initialization_cost_at_iteration_0(capsys, initialization, first_cost):
    """With x10 weights the course's NaN-ignoring cost of saturated outputs is inf, without warnings."""
    X, Y, _, _ = init.load_dataset()
    init.model(X, Y, num_iterations=1, initialization=initialization)
    assert _printed(capsys.readouterr().out) == [first_cost]


def test_initialization_cache_and_gradient_keys():
    X, Y, _, _ = init.load_dataset()
    parameters = init.initialize_parameters_he([2, 10, 5, 1])
    a3, cache = init.forward_propagation(X, parameters)
    z1, a1, W1, b1, z2, a2, W2, b2, z3, a3_cached, W3, b3 = cache
    assert a3_cached is a3 and W2 is parameters["W2"] and z1.shape == (10, 300) and a2.shape == (5, 300)
    grads = init.backward_propagation(X, Y, cache)
    assert list(grads) == ["dz3", "dW3", "db3", "da2", "dz2", "dW2", "db2", "da1", "dz1", "dW1", "db1"]
    np.testing.assert_array_equal(grads["dz3"], (1.0 / 300) * (a3 - Y))
    np.testing.assert_array_equal(grads["dW3"], grads["dz3"] @ a2.T)


def test_initialization_cost_of_saturated_outputs():
    a3 = np.array([[1.0, 0.0, 1.0, 0.0, 0.5]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0]])
    assert init.compute_loss(a3, Y) == math.inf
    right = init.compute_loss(a3[:, [0, 1, 4]], Y[:, [0, 1, 4]])
    assert right == pytest.approx(math.log(2) / 3, rel=1e-15)  # the NaNs of 0 * inf are dropped


# "Cost after iteration i" of the He run, i = 0, 1000, ..., 14000, as the course's notebook prints them.
HE_COSTS = [0.8830537463419761, 0.6879825919728063, 0.6751286264523371, 0.6526117768893807, 0.6082958970572938,
            0.5304944491717495, 0.4138645817071794, 0.3117803464844441, 0.23696215330322562, 0.18597287209206836,
            0.1501555628037182, 0.12325079292273548, 0.09917746546525937, 0.08457055954024277, 0.07357895962677366]


@pytest.mark.slow
def test_he_initialization_reproduces_the_course(capsys):
    """The full published run (15000 iterations): every printed cost and both accuracies."""
    X, Y, test_X, test_Y = init.load_dataset()
    parameters = init.model(X, Y, initialization="he")
    # A smooth run: here the printed costs agree with the notebook's to 1e-15 relative.
    np.testing.assert_allclose(_printed(capsys.readouterr().out), HE_COSTS, rtol=1e-12)
    init.predict(X, Y, parameters)
    init.predict(test_X, test_Y, parameters)
    assert capsys.readouterr().out.split() == ["Accuracy:", "0.9933333333333333", "Accuracy:", "0.96"]


# ---------------------------------------------------------------- regularization

@pytest.mark.parametrize("options, first_cost", [({}, 0.6557412523481002), ({"lambd": 0.7}, 0.6974484493131264),
                                                 ({"keep_prob": 0.86}, 0.6543912405149825)])
def test_regularization_cost_at_iteration_0(football, capsys, options, first_cost):
    train_X, train_Y, _, _ = football
    reg.model(train_X, train_Y, num_iterations=1, **options)
    (cost,) = _printed(capsys.readouterr().out)
    assert cost == pytest.approx(first_cost, rel=1e-13)


def test_dropout_masks_are_the_courses_and_the_same_every_call(football):
    train_X, _, _, _ = football
    parameters = reg.initialize_parameters([2, 20, 3, 1])
    A3, cache = reg.forward_propagation_with_dropout(train_X, parameters, keep_prob=0.86)
    assert len(cache) == 14
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3_cached, W3, b3 = cache
    rng = np.random.RandomState(1)
    np.testing.assert_array_equal(D1, rng.rand(20, 211) < 0.86)
    np.testing.assert_array_equal(D2, rng.rand(3, 211) < 0.86)
    np.testing.assert_array_equal(A1, np.maximum(0, Z1) * D1 / 0.86)
    _, again = reg.forward_propagation_with_dropout(train_X, parameters, keep_prob=0.86)
    np.testing.assert_array_equal(again[1], D1)


def test_regularized_gradients_match_finite_differences(football):
    """L2's cost and gradient, and dropout's gradient with its masks fixed, against central differences."""
    train_X, train_Y, _, _ = football
    X, Y = train_X[:, :40], train_Y[:, :40]
    parameters = reg.initialize_parameters([2, 5, 3, 1])
    # Non-zero biases: an example whose units are all dropped would otherwise sit exactly on ReLU's kink.
    rng = np.random.RandomState(0)
    parameters.update({f"b{l}": 0.1 * rng.randn(*parameters[f"b{l}"].shape) for l in (1, 2, 3)})
    for lambd in (0.0, 0.7):
        A3, cache = reg.forward_propagation(X, parameters)
        grads = reg.backward_propagation_with_regularization(X, Y, cache, lambd)
        assert list(grads) == ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]

        def cost(p):
            return float(reg.compute_cost_with_regularization(reg.forward_propagation(X, p)[0], Y, p, lambd))

        _check_gradients(cost, parameters, grads)
    A3, cache = reg.forward_propagation_with_dropout(X, parameters, keep_prob=0.8)
    grads = reg.backward_propagation_with_dropout(X, Y, cache, keep_prob=0.8)
    _check_gradients(lambda p: float(reg.compute_cost(reg.forward_propagation_with_dropout(X, p, 0.8)[0], Y)),
                     parameters, grads)


def _check_gradients(cost, parameters, grads, eps=1e-6):
    for name, value in parameters.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in parameters.items()}
            shifted[name][index] += eps
            plus = cost(shifted)
            shifted[name][index] -= 2 * eps
            numeric[index] = (plus - cost(shifted)) / (2 * eps)
        np.testing.assert_allclose(grads[f"d{name}"], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_l2_and_dropout_together_are_refused(football):
    train_X, train_Y, _, _ = football
    with pytest.raises(ValueError, match="lambd.*keep_prob"):
        reg.model(train_X, train_Y, num_iterations=1, lambd=0.7, keep_prob=0.86)


@pytest.mark.slow
@pytest.mark.parametrize("options, costs, accuracies", [
    ({}, [0.6557412523481002, 0.16329987525724216, 0.13851642423239133], ["0.9478672985781991", "0.915"]),
    ({"lambd": 0.7}, [0.6974484493131264, 0.2684918873282239, 0.26809163371273015], ["0.9383886255924171", "0.93"]),
    ({"keep_prob": 0.86}, [0.6543912405149825, 0.0610169865749056, 0.060582435798513114],
     ["0.9289099526066351", "0.95"]),
])
def test_regularization_reproduces_the_course(football, capsys, options, costs, accuracies):
    """The full published runs (30000 iterations): the printed costs and the train and test accuracies."""
    train_X, train_Y, test_X, test_Y = football
    parameters = reg.model(train_X, train_Y, **options)
    np.testing.assert_allclose(_printed(capsys.readouterr().out), costs, rtol=1e-10)
    reg.predict(train_X, train_Y, parameters)
    reg.predict(test_X, test_Y, parameters)
    assert capsys.readouterr().out.split()[1::2] == accuracies


# ---------------------------------------------------------------- gradient checking

def _gradient_check_case():
    """The assignment's test case (its ``gradient_check_n_test_case``)."""
    rng = np.random.RandomState(1)
    x = rng.randn(4, 3)
    y = np.array([1, 1, 0])
    shapes = [("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1))]
    return x, y, {name: rng.randn(*shape) for name, shape in shapes}


def test_gradient_check_1d(capsys):
    assert gc.forward_propagation(2, 4) == 8 and gc.backward_propagation(2, 4) == 2
    difference = gc.gradient_check(2, 4, print_msg=True)
    assert difference == pytest.approx(2.919335883291695e-10, rel=1e-6)
    assert "Your backward propagation works perfectly fine!" in capsys.readouterr().out


def test_gradient_check_n_passes_with_the_correct_backward(capsys):
    x, y, parameters = _gradient_check_case()
    cost, cache = gc.forward_propagation_n(x, y, parameters)
    gradients = gc.backward_propagation_n(x, y, cache)
    difference = gc.gradient_check_n(parameters, gradients, x, y, 1e-7, True)
    assert difference == pytest.approx(1.1890913024229996e-07, rel=1e-4)
    assert difference < gc.THRESHOLD
    assert "works perfectly fine" in capsys.readouterr().out


def test_gradient_check_n_finds_the_planted_mistakes(capsys):
    """The assignment's planted bugs (dW2 doubled, db1 times 4) give its published difference."""
    x, y, parameters = _gradient_check_case()
    _, cache = gc.forward_propagation_n(x, y, parameters)
    gradients = gc.backward_propagation_n(x, y, cache)
    gradients["dW2"], gradients["db1"] = gradients["dW2"] * 2, gradients["db1"] * 4
    difference = gc.gradient_check_n(parameters, gradients, x, y, print_msg=True)
    assert difference == pytest.approx(0.2850931567761623, rel=1e-6)
    assert "There is a mistake in the backward propagation!" in capsys.readouterr().out


def test_vectors_round_trip():
    _, _, parameters = _gradient_check_case()
    theta, keys = gc.dictionary_to_vector(parameters)
    assert theta.shape == (47, 1) and keys[:20] == ["W1"] * 20 and keys[-1] == "b3"
    np.testing.assert_array_equal(theta[:20, 0], parameters["W1"].ravel())
    back = gc.vector_to_dictionary(theta)
    for name, value in parameters.items():
        np.testing.assert_array_equal(back[name], value)
    gradients = {f"d{name}": value for name, value in parameters.items()}
    np.testing.assert_array_equal(gc.gradients_to_vector(gradients), theta)


# ---------------------------------------------------------------- optimization

def test_learning_rate_decay_values():
    assert opt.update_lr(0.5, 2, 1) == 0.16666666666666666
    assert opt.schedule_lr_decay(0.5, 100, 1, 100) == 0.25
    assert opt.schedule_lr_decay(0.3, 1000, 0.25, 100) == pytest.approx(0.0857142857142857, rel=1e-15)
    assert opt.schedule_lr_decay(0.5, 999, 1) == 0.5  # the floor: no decay before 1000 epochs


def test_random_mini_batches_follow_the_recipe():
    rng = np.random.RandomState(0)
    X, Y = rng.randn(3, 300), (rng.rand(1, 300) > 0.5).astype(float)
    batches = opt.random_mini_batches(X, Y, 64, seed=11)
    assert [b[0].shape[1] for b in batches] == [64, 64, 64, 64, 44]
    permutation = np.random.RandomState(11).permutation(300)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches], axis=1), X[:, permutation])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches], axis=1), Y[:, permutation])


def test_momentum_and_adam_follow_the_course():
    rng = np.random.RandomState(1)
    parameters = {"W1": rng.randn(2, 3), "b1": rng.randn(2, 1), "W2": rng.randn(1, 2), "b2": rng.randn(1, 1)}
    grads = {f"d{k}": rng.randn(*v.shape) for k, v in parameters.items()}
    v = opt.initialize_velocity(parameters)
    assert list(v) == ["dW1", "db1", "dW2", "db2"] and not any(a.any() for a in v.values())
    new, v = opt.update_parameters_with_momentum(parameters, grads, v, 0.9, 0.01)
    for name, value in parameters.items():
        np.testing.assert_array_equal(v[f"d{name}"], 0.9 * 0.0 + (1 - 0.9) * grads[f"d{name}"])
        np.testing.assert_array_equal(new[name], value - 0.01 * v[f"d{name}"])
    v, s = opt.initialize_adam(parameters)
    new, v, s, v_corrected, s_corrected = opt.update_parameters_with_adam(parameters, grads, v, s, 2)
    for name, value in parameters.items():
        g = grads[f"d{name}"]
        np.testing.assert_allclose(v_corrected[f"d{name}"], (0.1 * g) / (1 - 0.9 ** 2), rtol=1e-15)
        np.testing.assert_allclose(s_corrected[f"d{name}"], (0.001 * g ** 2) / (1 - 0.999 ** 2), rtol=1e-15)
        step = 0.01 * v_corrected[f"d{name}"] / (np.sqrt(s_corrected[f"d{name}"]) + 1e-8)
        np.testing.assert_array_equal(new[name], value - step)
    assert str(inspect.signature(opt.model)) == (
        "(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9, beta1=0.9, "
        "beta2=0.999, epsilon=1e-08, num_epochs=5000, print_cost=True, decay=None, decay_rate=1)")


@pytest.mark.parametrize("optimizer, first_cost", [("gd", 0.702405), ("momentum", 0.702413), ("adam", 0.702166)])
def test_optimization_cost_at_epoch_0(capsys, optimizer, first_cost):
    train_X, train_Y = opt.load_dataset()
    opt.model(train_X, train_Y, [2, 5, 2, 1], optimizer, num_epochs=1)
    assert _printed(capsys.readouterr().out, "epoch") == [first_cost]


def test_optimization_decay_prints_the_rate(capsys):
    train_X, train_Y = opt.load_dataset()
    opt.model(train_X, train_Y, [2, 5, 2, 1], "gd", learning_rate=0.1, num_epochs=1, decay=opt.schedule_lr_decay)
    out = capsys.readouterr().out
    assert _printed(out, "epoch") == [0.701091]
    assert "learning rate after epoch 0: 0.100000" in out


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, costs, accuracy", [
    ("gd", [0.702405, 0.668101, 0.635288, 0.600491, 0.573367], "0.7166666666666667"),
    ("momentum", [0.702413, 0.668167, 0.635388, 0.600591, 0.573444], "0.7166666666666667"),
    ("adam", [0.702166, 0.167845, 0.141316, 0.138788, 0.136066], "0.9433333333333334"),
])
def test_optimization_reproduces_the_course(capsys, optimizer, costs, accuracy):
    """The full published runs (5000 epochs of 5 mini-batches): the costs as printed (``%f``) and the accuracy."""
    train_X, train_Y = opt.load_dataset()
    parameters = opt.model(train_X, train_Y, [2, 5, 2, 1], optimizer)
    assert _printed(capsys.readouterr().out, "epoch") == costs
    opt.predict(train_X, train_Y, parameters)
    assert capsys.readouterr().out.split() == ["Accuracy:", accuracy]


# ---------------------------------------------------------------- the notebooks' picture

def test_plot_decision_boundary_as_the_notebooks_call_it(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    train_X, train_Y, _, _ = init.load_dataset()
    parameters = init.initialize_parameters_he([2, 10, 5, 1])
    init.plot_decision_boundary(lambda x: init.predict_dec(parameters, x.T), train_X, train_Y)
    (figure,) = shown
    ax = figure.axes[0]
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert ax.collections[-1].get_offsets().shape == (300, 2)  # the scattered points
    plt.close(figure)
    assert opt.plot_decision_boundary is reg.plot_decision_boundary is init.plot_decision_boundary


# ---------------------------------------------------------------- bad input at the models' entry points

MODELS = {
    "initialization": lambda X, Y: init.model(X, Y, num_iterations=1, print_cost=False),
    "regularization": lambda X, Y: reg.model(X, Y, num_iterations=1, print_cost=False),
    "optimization": lambda X, Y: opt.model(X, Y, [2, 5, 2, 1], "adam", num_epochs=1, print_cost=False),
}


@pytest.mark.parametrize("model", MODELS)
def test_models_refuse_bad_input_naming_it(model):
    X, Y, _, _ = init.load_dataset()
    nan_X = X.copy()
    nan_X[1, 7] = np.inf
    mistakes = [
        (X, Y.ravel(), ValueError, r"Y must be 2-D.*reshape it to \(1, m\)"),
        (X, Y.T, ValueError, r"Y has 300 rows.*expects 1.*shape \(1, m\)"),
        (X, Y[:, :-1], ValueError, r"Y has 299 examples \(columns\) but X has 300"),
        (nan_X, Y, ValueError, r"X contains NaN or Inf; clean or impute"),
        (X, Y - 1, ValueError, r"Y must hold labels 0 or 1"),
        (X.T, Y, ValueError, r"X has 300 rows but layers_dims expects 2|Y has 300 examples \(columns\) but X has 2"),
        (list(X), Y, TypeError, r"X must be an array"),
    ]
    for bad_X, bad_Y, error, fix in mistakes:
        with pytest.raises(error, match=fix):
            MODELS[model](bad_X, bad_Y)
    MODELS[model](X, Y)  # and the clean data trains
