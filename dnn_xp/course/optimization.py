"""Course 2, week 2: mini-batches, momentum, Adam and learning-rate decay, as a drop-in module.

``from dnn_xp.course.optimization import *`` gives the assignment's functions and the helpers
its ``opt_utils.py`` gave (the fixed 3-layer network, ``compute_cost``, ``predict``,
``predict_dec``, ``load_dataset``, ``load_params_and_grads``), with their names, arguments,
defaults, dictionary keys and return values, on any backend's arrays. Velocities ``v`` and squared averages ``s`` are
dictionaries keyed ``dW1, db1, ...`` shaped like the parameters.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ..backend import backend_of, host_rng
from ..batching import batch_slices, shuffle_columns
from ..datasets import moons
from ..optimizers import momentum
from ..schedules import inverse_time, staircase
from ._common import check_data, cross_entropy_terms, layers_of, parameters_dict
from ._plots import plot_decision_boundary
from ._three_layer import backward_propagation_scaled_first as backward_propagation
from ._three_layer import forward_propagation, initial_parameters, predict, predict_dec, relu, sigmoid
from .deep import update_parameters as update_parameters_with_gd

__all__ = [
    "plot_decision_boundary", "sigmoid", "relu", "initialize_parameters", "compute_cost",
    "forward_propagation", "backward_propagation", "predict", "predict_dec", "load_dataset", "load_params_and_grads",
    "update_parameters_with_gd", "random_mini_batches", "initialize_velocity",
    "update_parameters_with_momentum", "initialize_adam", "update_parameters_with_adam", "update_lr",
    "schedule_lr_decay", "model",
]

EPOCH_SEED = 10  # the course's counter: incremented before each epoch, so epoch 0 shuffles with seed 11


def load_dataset():
    """The course's moons, ``make_moons(n_samples=300, noise=.2)`` after seed 3.

    Returns ``(train_X (2, 300), train_Y (1, 300))``, NumPy float64.
    """
    return moons(n_samples=300, noise=0.2, random_state=3)


def load_params_and_grads(seed=1):
    """The helper's fixed example: ``(W1 (2, 3), b1 (2, 1), W2 (3, 3), b2 (3, 1), dW1, db1, dW2, db2)``.

    All eight drawn in that order by ``randn`` after ``seed``, as NumPy float64 arrays.
    """
    rng = host_rng(seed)
    shapes = [(2, 3), (2, 1), (3, 3), (3, 1)] * 2
    return tuple(rng.randn(*shape) for shape in shapes)


def initialize_parameters(layer_dims, backend=None, device=None):
    """Seed 3, then He: ``W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})`` layer by layer; zero biases."""
    return initial_parameters(layer_dims, "he", backend=backend, device=device)


def compute_cost(a3, Y):
    """The *summed* cross-entropy ``sum(-log(a3) Y - log(1 - a3)(1 - Y))`` of a mini-batch, a 0-d array."""
    xp = array_namespace(a3, Y)
    return xp.sum(cross_entropy_terms(xp, a3, Y))


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """``[(mini_batch_X, mini_batch_Y), ...]``: the columns shuffled by ``permutation(m)`` after ``seed``.

    ``m // mini_batch_size`` full batches in order, then one partial batch of the rest if any.
    The permutation is drawn on the host and moved to X's device once.
    """
    xp = array_namespace(X, Y)
    m = X.shape[1]
    permutation = backend_of(X).asarray(host_rng(seed).permutation(m), name="permutation")
    shuffled_X, shuffled_Y = shuffle_columns([X, xp.reshape(Y, (1, m))], permutation, xp)
    return [(shuffled_X[:, k], shuffled_Y[:, k]) for k in batch_slices(m, mini_batch_size)]


def _zeros_like_parameters(parameters):
    xp = array_namespace(*parameters.values())
    return {f"d{name}": xp.zeros_like(value) for name, value in parameters.items()}


def initialize_velocity(parameters):
    """``v = {"dW1": zeros like W1, "db1": zeros like b1, ...}``."""
    return _zeros_like_parameters(parameters)


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """``v = beta v + (1 - beta) dW; W = W - learning_rate v``: new ``(parameters, v)``."""
    xp = array_namespace(*parameters.values())
    layers, state = momentum(beta).update(layers_of(parameters), layers_of(grads, "d"),
                                          {"v": [value for pair in layers_of(v, "d") for value in pair]},
                                          learning_rate, xp)
    keys = [f"d{kind}{l}" for l in range(1, len(layers) + 1) for kind in ("W", "b")]
    return parameters_dict(layers), dict(zip(keys, state["v"]))


def initialize_adam(parameters):
    """``(v, s)``: two dictionaries of zeros keyed ``dW1, db1, ...``."""
    return _zeros_like_parameters(parameters), _zeros_like_parameters(parameters)


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """One Adam step at step count ``t`` (from 1): new ``(parameters, v, s, v_corrected, s_corrected)``.

    ``v = beta1 v + (1 - beta1) g``, ``v_corrected = v / (1 - beta1^t)``,
    ``s = beta2 s + (1 - beta2) g^2``, ``s_corrected = s / (1 - beta2^t)``,
    ``W = W - learning_rate * v_corrected / (sqrt(s_corrected) + epsilon)``.
    """
    xp = array_namespace(*parameters.values())
    v = {key: beta1 * v[key] + (1 - beta1) * grads[key] for key in v}
    v_corrected = {key: value / (1 - beta1 ** t) for key, value in v.items()}
    s = {key: beta2 * s[key] + (1 - beta2) * (grads[key] * grads[key]) for key in s}
    s_corrected = {key: value / (1 - beta2 ** t) for key, value in s.items()}
    parameters = {
        name: value - learning_rate * v_corrected[f"d{name}"] / (xp.sqrt(s_corrected[f"d{name}"]) + epsilon)
        for name, value in parameters.items()
    }
    return parameters, v, s, v_corrected, s_corrected


def update_lr(learning_rate0, epoch_num, decay_rate):
    """``learning_rate0 / (1 + decay_rate * epoch_num)``."""
    return inverse_time(decay_rate)(learning_rate0, epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """``learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))``."""
    return staircase(decay_rate, time_interval)(learning_rate0, epoch_num)


def model(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9, beta1=0.9,
          beta2=0.999, epsilon=1e-8, num_epochs=5000, print_cost=True, decay=None, decay_rate=1):
    """Mini-batch training of the 3-layer network with ``optimizer`` ``"gd"``, ``"momentum"`` or ``"adam"``.

    Returns ``parameters`` on X's backend. Epoch ``i`` shuffles with seed ``11 + i``; Adam's
    ``t`` counts steps across epochs. With ``decay`` (e.g. :func:`update_lr`) the rate for
    epoch ``i + 1`` is ``decay(learning_rate, i, decay_rate)``. With ``print_cost`` the epoch's
    cost (per-batch summed costs over ``m``) is printed every 1000 epochs, with the rate when decaying.
    After each mini-batch step the parameters, the optimizer's state and the epoch's cost so far
    are settled (:attr:`dnn_xp.backend.Backend.settle`).
    """
    if optimizer not in ("gd", "momentum", "adam"):
        raise ValueError(f"optimizer must be 'gd', 'momentum' or 'adam'; got optimizer={optimizer!r}")
    check_data(X, Y, n_x=layers_dims[0], n_y=layers_dims[-1], expects="layers_dims")
    m = X.shape[1]
    learning_rate0 = learning_rate
    parameters = initial_parameters(layers_dims, "he", like=X)
    v, s = initialize_adam(parameters)
    t = 0
    seed = EPOCH_SEED
    settle = backend_of(X).settle
    for i in range(num_epochs):
        seed = seed + 1
        printing = print_cost and i % 1000 == 0
        cost_total = 0
        for minibatch_X, minibatch_Y in random_mini_batches(X, Y, mini_batch_size, seed):
            a3, caches = forward_propagation(minibatch_X, parameters)
            if printing:
                cost_total += compute_cost(a3, minibatch_Y)
            grads = backward_propagation(minibatch_X, minibatch_Y, caches)
            if optimizer == "gd":
                parameters = update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)
            else:
                t = t + 1
                parameters, v, s, _, _ = update_parameters_with_adam(parameters, grads, v, s, t, learning_rate,
                                                                     beta1, beta2, epsilon)
            parameters, v, s, cost_total = settle((parameters, v, s, cost_total))
        if decay:
            learning_rate = decay(learning_rate0, i, decay_rate)
        if printing:
            print("Cost after epoch %i: %f" % (i, float(cost_total / m)))
            if decay:
                print("learning rate after epoch %i: %f" % (i, learning_rate))
    return parameters
