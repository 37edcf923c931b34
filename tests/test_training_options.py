"""``Network.fit``'s training options end to end: the course's second-part values, backends, checkpoints,
early stopping, softmax on digits, gradient checking and bad options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dnn_xp
from dnn_xp import Network, gradient_check, optimizers, schedules
from dnn_xp.datasets import circles, digits, moons

FOOTBALL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "football" / "data.mat"


def _course_moons():
    np.random.seed(3)
    return moons(n_samples=300, noise=.2)


# ---------------------------------------------------------------------- the course's published values
@pytest.mark.parametrize("optimizer, printed", [("gd", "0.702405"), ("momentum", "0.702413"), ("adam", "0.702166")])
def test_course_mini_batch_epoch_0_costs(optimizer, printed):
    X, Y = _course_moons()
    net = Network([2, 5, 2, 1], hidden="relu", init="he", seed=3)
    history = net.fit(X, Y, learning_rate=0.0007, optimizer=optimizer, batch_size=64, epochs=2, progress=False)
    assert f"{history.costs[0]:f}" == printed
    assert history.iterations == [0, 1]


def test_course_mini_batch_epoch_0_by_hand():
    """The course's loop written out: seeds 11, 12, ...; batch costs summed, divided by m."""
    X, Y = _course_moons()
    net = Network([2, 5, 2, 1], hidden="relu", init="he", seed=3)
    W = [dnn_xp.to_numpy(v).copy() for v in net.parameters.values()]
    history = net.fit(X, Y, learning_rate=0.0007, optimizer="gd", batch_size=64, epochs=1, progress=False)
    np.random.seed(11)
    perm = np.random.permutation(300)
    Xs, Ys = X[:, perm], Y[:, perm]
    total = 0.0
    for k in range(0, 300, 64):
        xb, yb = Xs[:, k:k + 64], Ys[:, k:k + 64]
        a1 = np.maximum(W[0] @ xb + W[1], 0)
        a2 = np.maximum(W[2] @ a1 + W[3], 0)
        a3 = 1 / (1 + np.exp(-(W[4] @ a2 + W[5])))
        total += np.sum(-np.log(a3) * yb - np.log(1 - a3) * (1 - yb))
        dz3 = (a3 - yb) / yb.shape[1]
        dz2 = (W[4].T @ dz3) * (a2 > 0)
        dz1 = (W[2].T @ dz2) * (a1 > 0)
        grads = [dz1 @ xb.T, dz1.sum(1, keepdims=True), dz2 @ a1.T, dz2.sum(1, keepdims=True),
                 dz3 @ a2.T, dz3.sum(1, keepdims=True)]
        W = [w - 0.0007 * g for w, g in zip(W, grads)]
    assert history.costs[0] == pytest.approx(total / 300, rel=1e-12)
    for w, v in zip(W, net.parameters.values()):
        np.testing.assert_allclose(dnn_xp.to_numpy(v), w, rtol=1e-12, atol=1e-15)


def test_course_initialization_experiment_he_cost():
    np.random.seed(1)
    X, Y = circles(n_samples=300, noise=.05)
    net = Network([2, 10, 5, 1], hidden="relu", init="he", seed=3)
    history = net.fit(X, Y, learning_rate=0.01, num_iterations=1, progress=False)
    assert history.costs[0] == pytest.approx(0.8830537463419761, rel=1e-13)


@pytest.mark.parametrize("options, expected", [
    ({}, 0.6557412523481002), ({"l2": 0.7}, 0.6974484493131264), ({"keep_prob": 0.86}, 0.6543912405149825)],
    ids=["plain", "l2", "dropout"])
def test_course_regularization_costs_at_iteration_0(options, expected):
    if not FOOTBALL.is_file():
        pytest.skip(f"the course's football data is not at {FOOTBALL}")
    from dnn_xp.datasets import load_football

    data = load_football(FOOTBALL)
    net = Network([2, 20, 3, 1], hidden="relu", init="lecun", seed=3)
    history = net.fit(data.train_x, data.train_y, learning_rate=0.3, num_iterations=2, progress=False, **options)
    assert history.costs[0] == pytest.approx(expected, rel=1e-13)


# ---------------------------------------------------------------------- backends
def _heavy_run(backend=None, device=None, dtype="float64", **extra):
    rng = np.random.RandomState(0)
    X = rng.randn(4, 203)
    Y = (X[:1] * X[1:2] > 0).astype(np.float64)
    net = Network([4, 8, 6, 1], hidden="tanh", init="he", seed=1, backend=backend, device=device, dtype=dtype)
    history = net.fit(X, Y, learning_rate=0.01, optimizer="adam", batch_size=32, epochs=4, record_every=1,
                      l2=0.3, keep_prob=(0.8, 0.9), schedule=schedules.inverse_time(0.5), progress=False, **extra)
    return net, history


@pytest.mark.parametrize("backend, device", [("array_api_strict", "device1"), ("torch", "cpu")],
                         ids=["strict-device1", "torch-cpu"])
def test_mini_batch_adam_l2_dropout_run_equals_numpy(backend, device):
    pytest.importorskip(backend)
    expected, expected_history = _heavy_run()
    net, history = _heavy_run(backend, device)
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=1e-12)
    for name, value in net.parameters.items():
        assert net.backend.owns(value)
        np.testing.assert_allclose(dnn_xp.to_numpy(value), dnn_xp.to_numpy(expected.parameters[name]),
                                   rtol=1e-12, atol=1e-14)


def test_float32_run_stays_float32_on_strict():
    net, history = _heavy_run("array_api_strict", "device1", "float32")
    expected, _ = _heavy_run()
    W = net.parameters["W1"]
    assert W.dtype == net.backend.dtype("float32")
    np.testing.assert_allclose(dnn_xp.to_numpy(W), dnn_xp.to_numpy(expected.parameters["W1"]), rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------- checkpoints and early stopping
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop"])
def test_resume_equals_an_uninterrupted_run(tmp_path, optimizer):
    path = tmp_path / "ck.npz"
    X, Y = _course_moons()
    kwargs = dict(learning_rate=0.01, optimizer=optimizer, batch_size=64, epochs=6, record_every=2, keep_prob=0.9,
                  progress=False)
    whole = Network([2, 5, 2, 1], init="he", seed=3)
    whole_history = whole.fit(X, Y, **kwargs)

    class Stop(Exception):
        pass

    first = Network([2, 5, 2, 1], init="he", seed=3)
    saves = []
    original = first.save

    def save_then_stop(*args, **kw):
        original(*args, **kw)
        saves.append(first.iterations_trained)
        if len(saves) == 2:
            raise Stop

    first.save = save_then_stop
    with pytest.raises(Stop):
        first.fit(X, Y, checkpoint_path=path, checkpoint_every=2, **kwargs)
    assert saves == [2, 4]
    resumed = Network([2, 5, 2, 1], init="he", seed=3)
    history = resumed.fit(X, Y, checkpoint_path=path, checkpoint_every=2, resume=True, **kwargs)
    assert history.iterations == whole_history.iterations == [0, 2, 4, 5]
    assert history.costs == whole_history.costs
    for name, value in whole.parameters.items():
        np.testing.assert_array_equal(dnn_xp.to_numpy(resumed.parameters[name]), dnn_xp.to_numpy(value))
    with pytest.raises(ValueError, match="from another run.*training options"):
        Network([2, 5, 2, 1], init="he", seed=3).fit(X, Y, checkpoint_path=path, resume=True,
                                                      **{**kwargs, "optimizer": "gd", "epochs": 7})


def test_early_stopping_keeps_the_best_weights(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(2, 60)
    Y = (X[:1] > 0).astype(np.float64)
    X_val = rng.randn(2, 200)
    Y_val = (rng.rand(1, 200) > 0.5).astype(np.float64)  # unrelated labels: the model overfits at once
    net = Network([2, 16, 1], init="he", seed=0)
    history = net.fit(X, Y, learning_rate=0.05, optimizer="adam", batch_size=16, epochs=200, record_every=1,
                      validation=(X_val, Y_val), patience=5, progress=False)
    best = int(np.argmin(history.validation_costs))
    assert len(history.validation_costs) == len(history.costs) == len(history.validation_accuracies)
    assert history.best_iteration == history.iterations[best]
    assert len(history.iterations) == best + 6 < 200  # stopped after 5 records without improvement
    assert net.cost(X_val, Y_val) == pytest.approx(history.validation_costs[best], rel=1e-12)
    assert net.iterations_trained == history.iterations[-1] + 1
    assert net.accuracy(X_val, Y_val) == pytest.approx(history.validation_accuracies[best])


# ---------------------------------------------------------------------- softmax
def test_softmax_network_predicts_class_ids_and_takes_either_label_form():
    X, ids = dnn_xp.datasets.spirals(n_per_class=60, classes=3, seed=1)
    one_hot = (ids == np.arange(3).reshape(3, 1)).astype(np.float64)
    nets = []
    for labels in (ids, one_hot):
        net = Network([2, 32, 3], output="softmax", init="he", seed=0)
        history = net.fit(X, labels, learning_rate=0.02, optimizer="adam", batch_size=32, epochs=150,
                          record_every=50, progress=False)
        nets.append((net, history))
    (a, ha), (b, hb) = nets
    assert ha.costs == hb.costs and ha.costs[-1] < 0.5 * ha.costs[0]
    P = a.predict_proba(X)
    assert P.shape == (3, 180)
    np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=1e-12)
    predicted = a.predict(X)
    assert predicted.shape == (1, 180) and set(np.unique(predicted)) <= {0.0, 1.0, 2.0}
    np.testing.assert_array_equal(predicted, np.argmax(P, axis=0).reshape(1, -1))
    assert a.accuracy(X, ids) == a.accuracy(X, one_hot) == np.mean(predicted == ids) > 0.8


def test_digits_softmax_adam_reaches_96_percent():
    X, Y = digits()
    order = np.random.RandomState(0).permutation(X.shape[1])
    split = int(0.8 * X.shape[1])
    train, test = order[:split], order[split:]
    net = Network([64, 64, 10], output="softmax", init="he", seed=0)
    net.fit(X[:, train], Y[:, train], learning_rate=0.001, optimizer="adam", batch_size=64, epochs=50,
            record_every=10, progress=False)
    accuracy = net.accuracy(X[:, test], Y[:, test])
    print(f"digits test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.96


def test_saved_softmax_model_predicts_the_same(tmp_path):
    X, ids = dnn_xp.datasets.spirals(n_per_class=20, classes=4, seed=2)
    net = Network([2, 8, 4], output="softmax", seed=0)
    net.fit(X, ids, learning_rate=0.05, optimizer="adam", num_iterations=20, progress=False)
    again = Network.load(net.save(tmp_path / "m.npz"))
    assert again.output.name == "softmax"
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


# ---------------------------------------------------------------------- gradient checking
@pytest.mark.parametrize("hidden, output, dims, l2", [
    ("relu", "sigmoid", [3, 5, 3, 1], 0.0), ("tanh", "sigmoid", [3, 5, 3, 1], 0.7),
    ("sigmoid", "softmax", [3, 4, 3], 0.2), ("leaky_relu", "identity", [3, 4, 2], 0.0)])
def test_gradient_check_passes_the_courses_threshold(hidden, output, dims, l2):
    rng = np.random.RandomState(1)
    X = rng.randn(3, 12)
    Y = {"sigmoid": (rng.rand(1, 12) > 0.5) * 1.0, "softmax": rng.randint(0, 3, (1, 12)) * 1.0,
         "identity": rng.randn(2, 12)}[output]
    params = Network(dims, init="he", seed=4).parameters
    # Nonzero biases: with b = 0, a column of dead ReLUs puts the next Z exactly on the kink.
    params = {k: v + 0.1 * rng.randn(*v.shape) if k.startswith("b") else v for k, v in params.items()}
    net = Network.from_parameters(params, hidden=hidden, output=output)
    assert gradient_check(net, X, Y, l2=l2) < 2e-7


def test_gradient_check_catches_a_wrong_derivative(monkeypatch):
    from dnn_xp import activations

    rng = np.random.RandomState(1)
    X, Y = rng.randn(3, 12), (rng.rand(1, 12) > 0.5) * 1.0
    net = Network([3, 4, 1], hidden="tanh", seed=4)
    good = gradient_check(net, X, Y)
    broken = net.hidden._replace(backward=lambda xp, dA, Z, A: dA * (1.0 - A))  # missing a factor A
    monkeypatch.setattr(net, "hidden", broken)
    assert good < 2e-7 < gradient_check(net, X, Y)
    assert activations.ACTIVATIONS["tanh"] is not broken


# ---------------------------------------------------------------------- bad options
@pytest.mark.parametrize("options, error, message", [
    ({"batch_size": 32}, ValueError, "batch_size needs epochs=N"),
    ({"epochs": 3}, ValueError, "epochs counts passes over mini-batches: give batch_size"),
    ({"batch_size": 0, "epochs": 1}, ValueError, "batch_size must be a positive integer"),
    ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer='lbfgs'"),
    ({"schedule": "cosine"}, ValueError, "unknown schedule='cosine'"),
    ({"keep_prob": (0.5, 0.5, 0.5)}, ValueError, r"keep_prob needs one value per hidden layer \(1\)"),
    ({"keep_prob": 0}, ValueError, r"keep_prob must be in \(0, 1\]"),
    ({"l2": -1}, ValueError, "l2 must be a finite number >= 0"),
    ({"patience": 3}, ValueError, "patience needs validation="),
    ({"validation": np.zeros((2, 3))}, TypeError, r"validation must be a pair \(X_val, Y_val\)"),
    ({"validation": (np.zeros((3, 4)), np.zeros((1, 4)))}, ValueError, "X has 3 rows but the network expects 2"),
    ({"dropout_rng": "gpu"}, ValueError, "dropout_rng must be a non-negative integer seed"),
], ids=lambda v: str(v) if isinstance(v, dict) else "")
def test_bad_options_name_the_argument(options, error, message):
    X, Y = _course_moons()
    with pytest.raises(error, match=message):
        Network([2, 3, 1]).fit(X, Y, num_iterations=2, progress=False, **options)


def test_bad_softmax_labels_are_explained():
    X = np.zeros((2, 4))
    net = Network([2, 3, 3], output="softmax")
    with pytest.raises(ValueError, match=r"class ids 0 \.\. 2"):
        net.fit(X, np.array([[0, 1, 3, 1]]), num_iterations=1, progress=False)
    with pytest.raises(ValueError, match="must be one-hot"):
        net.fit(X, np.ones((3, 4)), num_iterations=1, progress=False)
    with pytest.raises(ValueError, match=r"class ids of shape \(1, m\) or one-hot of shape \(3, m\)"):
        net.fit(X, np.zeros((2, 4)), num_iterations=1, progress=False)


def test_an_optimizer_object_is_taken_as_it_is():
    X, Y = _course_moons()
    a = Network([2, 3, 1], seed=1)
    b = Network([2, 3, 1], seed=1)
    a.fit(X, Y, learning_rate=0.01, optimizer=optimizers.adam(beta1=0.5), num_iterations=5, progress=False)
    b.fit(X, Y, learning_rate=0.01, optimizer="adam", num_iterations=5, progress=False)
    assert not np.array_equal(a.parameters["W1"], b.parameters["W1"])


@pytest.mark.parametrize("backend, device", [("numpy", None), ("torch", "cpu")])
def test_device_dropout_masks_are_seeded_and_drop(backend, device):
    pytest.importorskip(backend)
    runs = [_heavy_run(backend, device, dropout_rng="device")[1].costs for _ in range(2)]
    host = _heavy_run(backend, device)[1].costs
    assert runs[0] == runs[1] and runs[0] != host
    assert np.isfinite(runs[0]).all()


def test_device_dropout_is_refused_where_there_is_no_device_generator():
    with pytest.raises(dnn_xp.BackendError, match="no device random generator"):
        _heavy_run("array_api_strict", "device1", dropout_rng="device")
