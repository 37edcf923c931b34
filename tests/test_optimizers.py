"""Each optimizer stepped side by side with torch.optim from identical weights (float64), and on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import optimizers
from dnn_xp.activations import get_activation
from dnn_xp.batching import batch_slices, epoch_permutation
from dnn_xp.core import backward, forward
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output
from array_api_compat import numpy as np_xp

torch = pytest.importorskip("torch")

RELU, SIGMOID = get_activation("relu"), get_output("sigmoid")
DIMS, M = [3, 5, 4, 1], 300


def _problem():
    rng = np.random.RandomState(0)
    X = rng.randn(DIMS[0], M)
    Y = (rng.rand(1, M) > 0.5).astype(np.float64)
    return initial_layers(DIMS, "he", 3), X, Y


def _grads(layers, X, Y, xp=np_xp):
    _, cache = forward(layers, X, RELU, xp)
    return backward(layers, cache, Y, RELU, SIGMOID, xp)


def _ours(optimizer, layers, X, Y, lr, batches):
    state = optimizer.init(layers, np_xp)
    for columns in batches:
        layers, state = optimizer.update(layers, _grads(layers, X[:, columns], Y[:, columns]), state, lr, np_xp)
    return layers


def _torch(make, layers, X, Y, batches):
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for pair in layers for p in pair]
    opt = make(params)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    for columns in batches:
        A = Xt[:, columns]
        for k in range(0, len(params) - 2, 2):
            A = torch.relu(params[k] @ A + params[k + 1])
        Z = params[-2] @ A + params[-1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Z, Yt[:, columns])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params]


def _full_batch(steps):
    return [slice(None)] * steps


def _mini_batches(epochs, size):
    """The same batch order on both sides: each epoch's permutation cut into column slices."""
    order = []
    for epoch in range(epochs):
        perm = epoch_permutation(10, epoch, M)
        order += [perm[s] for s in batch_slices(M, size)]
    return order


LR, BETA = 0.01, 0.9
PEERS = {
    "gd": (optimizers.sgd(), lambda p: torch.optim.SGD(p, lr=LR)),
    "momentum": (optimizers.momentum(BETA),
                 lambda p: torch.optim.SGD(p, lr=LR * (1 - BETA), momentum=BETA, dampening=0)),
    "rmsprop": (optimizers.rmsprop(beta=0.99, epsilon=1e-8),
                lambda p: torch.optim.RMSprop(p, lr=LR, alpha=0.99, eps=1e-8)),
    "adam": (optimizers.adam(0.9, 0.999, 1e-8),
             lambda p: torch.optim.Adam(p, lr=LR, betas=(0.9, 0.999), eps=1e-8)),
}


@pytest.mark.parametrize("batches", [_full_batch(50), _mini_batches(3, 64)], ids=["50-full-batch-steps",
                                                                                 "3-epochs-of-batch-64"])
@pytest.mark.parametrize("name", PEERS)
def test_optimizer_steps_as_torch_optim(name, batches):
    ours, make = PEERS[name]
    layers, X, Y = _problem()
    mine = [p for pair in _ours(ours, layers, X, Y, LR, batches) for p in pair]
    theirs = _torch(make, layers, X, Y, batches)
    start = [p for pair in layers for p in pair]
    for k, (a, b, p0) in enumerate(zip(mine, theirs, start)):
        assert not np.allclose(b, p0, rtol=1e-6, atol=0), f"parameter {k} did not move"
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max())


def test_momentum_is_the_courses_formula():
    layers, X, Y = _problem()
    grads = _grads(layers, X, Y)
    new, state = optimizers.momentum(0.9).update(layers, grads, optimizers.momentum(0.9).init(layers, np_xp),
                                                 0.1, np_xp)
    np.testing.assert_allclose(state["v"][0], 0.1 * grads[0][0], rtol=1e-15)
    np.testing.assert_allclose(new[0][0], layers[0][0] - 0.1 * 0.1 * grads[0][0], rtol=1e-15)


def test_adam_counts_steps_and_corrects_bias_as_the_course():
    layers, X, Y = _problem()
    adam = optimizers.adam()
    state = adam.init(layers, np_xp)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    v = s = 0.0
    W = layers[0][0]
    for t in range(1, 4):
        g = _grads(layers, X, Y)[0][0]
        layers, state = adam.update(layers, _grads(layers, X, Y), state, lr, np_xp)
        v, s = b1 * v + (1 - b1) * g, b2 * s + (1 - b2) * g * g
        W = W - lr * (v / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps)
        assert state["t"] == t
        np.testing.assert_allclose(layers[0][0], W, rtol=1e-12)


@pytest.mark.parametrize("name", PEERS)
def test_update_is_pure(name):
    optimizer = PEERS[name][0]
    layers, X, Y = _problem()
    grads = _grads(layers, X, Y)
    state = optimizer.init(layers, np_xp)
    copies = [[p.copy() for pair in tree for p in pair] for tree in (layers, grads)]
    state_copy = {k: [a.copy() for a in v] if isinstance(v, list) else v for k, v in state.items()}
    optimizer.update(layers, grads, state, 0.1, np_xp)
    for tree, saved in zip((layers, grads), copies):
        for p, c in zip([p for pair in tree for p in pair], saved):
            np.testing.assert_array_equal(p, c)
    for key, value in state.items():
        for a, c in zip(value if isinstance(value, list) else [value], state_copy[key]
                        if isinstance(value, list) else [state_copy[key]]):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", PEERS)
def test_every_backend_steps_as_numpy(case, name):
    optimizer = PEERS[name][0]
    host_layers, X, Y = _problem()
    expected = _ours(optimizer, host_layers, X, Y, LR, _full_batch(5))
    layers = [(case.asarray(W), case.asarray(b)) for W, b in host_layers]
    Xd, Yd = case.asarray(X), case.asarray(Y)
    state = optimizer.init(layers, case.xp)
    for _ in range(5):
        layers, state = optimizer.update(layers, _grads(layers, Xd, Yd, case.xp), state, LR, case.xp)
    for (W, b), (eW, eb) in zip(layers, expected):
        np.testing.assert_allclose(case.check(W), eW, rtol=case.rtol, atol=case.rtol * np.abs(eW).max())
        np.testing.assert_allclose(case.check(b), eb, rtol=case.rtol, atol=case.rtol * np.abs(eW).max())
    for name, value in optimizers.state_arrays(state).items():
        if name == "t":
            assert value == 5 and isinstance(value, int)
        else:
            case.check(value)


def test_state_round_trips_through_named_arrays():
    layers, X, Y = _problem()
    adam = optimizers.adam()
    state = adam.update(layers, _grads(layers, X, Y), adam.init(layers, np_xp), 0.1, np_xp)[1]
    named = optimizers.state_arrays(state)
    assert sorted(named) == sorted([f"v.{k}" for k in range(6)] + [f"s.{k}" for k in range(6)] + ["t"])
    again = optimizers.state_from_arrays(named)
    for key in ("v", "s"):
        for a, b in zip(again[key], state[key]):
            assert a is b
    assert again["t"] is state["t"]


def test_optimizers_are_named_and_checked():
    assert repr(optimizers.adam()) == "adam(beta1=0.9, beta2=0.999, epsilon=1e-08)"
    assert optimizers.get_optimizer("gd").name == "sgd"
    adam = optimizers.adam(beta1=0.8)
    assert optimizers.get_optimizer(adam) is adam
    with pytest.raises(ValueError, match="unknown optimizer='nesterov'; choose one of gd, momentum"):
        optimizers.get_optimizer("nesterov")
    with pytest.raises(ValueError, match=r"beta must be a number in \[0, 1\); got 1.0"):
        optimizers.momentum(1.0)
    with pytest.raises(ValueError, match="epsilon must be a positive"):
        optimizers.adam(epsilon=0.0)


def test_adam_jits_on_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    layers, X, Y = _problem()
    grads = _grads(layers, X, Y)
    adam = optimizers.adam()
    with jax.enable_x64(True):
        jl = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
        jg = [(jnp.asarray(W), jnp.asarray(b)) for W, b in grads]
        step = jax.jit(lambda l, g, s, lr: adam.update(l, g, s, lr, jnp))
        state = adam.init(jl, jnp)
        np_layers, np_state = layers, adam.init(layers, np_xp)
        for _ in range(3):
            jl, state = step(jl, jg, state, 0.01)
            np_layers, np_state = adam.update(np_layers, grads, np_state, 0.01, np_xp)
        for (W, _), (eW, _) in zip(jl, np_layers):
            np.testing.assert_allclose(np.asarray(W), eW, rtol=1e-12)
