"""Mini-batch training targets, each measured side by side in this process (group ``minibatch``).

- MNIST-shaped epoch (``[784, 256, 128, 10]`` softmax, m = 60,000, float32) of mini-batch Adam,
  batch 512 and 64: dnn_xp on NumPy / PyTorch eager on the CPU (manual batching of the same
  shuffled columns, ``torch.optim.Adam``, same weights); target <= 1.0 at batch 512, batch 64 reported.
- Planar shape (``[2, 4, 1]`` tanh, m = 400), batch 64: one epoch of the library's loop / the same
  epoch as hand-written NumPy Adam steps; target <= 1.3 (the per-batch overhead).
- The MNIST-shaped epoch on JAX (the library's epoch compiled through the backend hook, ``jax.jit``) /
  a hand-written jitted JAX epoch (``fori_loop``, ``jax.grad``); target <= 1.10.

Both sides shuffle with the same host permutation each call and train on from their previous weights.
``DNN_XP_BENCH_MNIST_M`` shrinks the MNIST-shaped ``m`` (per-batch ratios hold; for a busy machine).
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np
import pytest

import workloads
from dnn_xp import optimizers
from dnn_xp.activations import get_activation
from dnn_xp.batching import epoch_permutation, shuffle_columns
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output
from dnn_xp.training import Recipe, compiled_epochs

MNIST, SMOKE_MNIST = ([784, 256, 128, 10], int(os.environ.get("DNN_XP_BENCH_MNIST_M", 60_000))), ([784, 32, 16, 10], 300)
PLANAR, SMOKE_PLANAR = ([2, 4, 1], 400), ([2, 4, 1], 150)
LEARNING_RATE = 0.001


def _blocks(smoke, seconds=0.5):
    return {"blocks": 1, "block_seconds": 0.0} if smoke else {"blocks": 6, "block_seconds": seconds}


def _label(benchmark, text):
    benchmark.group = "minibatch"
    benchmark.extra_info["case"] = text


def _assert_same_updates(ours, theirs, start):
    """After one float32 epoch the two sides' weight changes agree to 1% (Adam amplifies rounding in tiny gradients)."""
    change = np.linalg.norm(theirs - start)
    assert change > 0 and np.linalg.norm(ours - theirs) <= 0.01 * change, (np.linalg.norm(ours - theirs), change)


class LibraryEpoch:
    """One epoch of ``dnn_xp``'s mini-batch loop per call: host permutation, shuffle on the device, batches."""

    def __init__(self, backend, recipe, host_layers, X, Y, dtype):
        self.backend, self.xp = backend, backend.xp
        to = lambda a: backend.asarray(a, backend.dtype(dtype))  # noqa: E731
        self.layers = [(to(W), to(b)) for W, b in host_layers]
        self.X, self.Y = to(X), to(Y)
        self.state = recipe.optimizer.init(self.layers, self.xp)
        self.run = compiled_epochs(backend, recipe)[False]
        self.epoch = 0

    def __call__(self):
        permutation = self.backend.asarray(epoch_permutation(10, self.epoch, self.X.shape[1]))
        X, Y = shuffle_columns((self.X, self.Y), permutation, self.xp)
        self.layers, self.state, _ = self.run(self.layers, self.state, X, Y, None, LEARNING_RATE)
        self.epoch += 1
        return self.layers


class TorchEpoch:
    """The peer: the same epoch with PyTorch eager, ``torch.optim.Adam`` and cross-entropy from the logits."""

    def __init__(self, host_layers, X, ids, batch_size, dtype):
        import torch

        self.torch, self.batch_size, self.epoch = torch, batch_size, 0
        kind = getattr(torch, dtype)
        self.params = [torch.tensor(a, dtype=kind, requires_grad=True) for pair in host_layers for a in pair]
        self.X, self.ids = torch.tensor(X, dtype=kind), torch.tensor(ids[0], dtype=torch.int64)
        self.optimizer = torch.optim.Adam(self.params, lr=LEARNING_RATE)

    def __call__(self):
        torch = self.torch
        permutation = torch.from_numpy(epoch_permutation(10, self.epoch, self.X.shape[1]))
        X, ids = self.X.index_select(1, permutation), self.ids[permutation]
        for start in range(0, X.shape[1], self.batch_size):
            A = X[:, start:start + self.batch_size]
            for k in range(0, len(self.params) - 2, 2):
                A = torch.relu(self.params[k] @ A + self.params[k + 1])
            Z = self.params[-2] @ A + self.params[-1]
            loss = torch.nn.functional.cross_entropy(Z.T, ids[start:start + self.batch_size])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        self.epoch += 1
        return self.params


def handwritten_adam_epoch(layers, state, X, Y, batch_size, lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Mini-batch Adam for ``[LINEAR -> tanh] -> LINEAR -> sigmoid`` written out in NumPy: the baseline."""
    params = [p for pair in layers for p in pair]
    v, s, t = state
    for start in range(0, X.shape[1], batch_size):
        x, y = X[:, start:start + batch_size], Y[:, start:start + batch_size]
        W1, b1, W2, b2 = params
        A1 = np.tanh(W1 @ x + b1)
        Z2 = W2 @ A1 + b2
        E = np.exp(-np.abs(Z2))
        dZ2 = (np.where(Z2 >= 0, 1.0, E) / (1.0 + E) - y) / x.shape[1]
        dZ1 = (W2.T @ dZ2) * (1.0 - A1 * A1)
        grads = [dZ1 @ x.T, dZ1.sum(axis=1, keepdims=True), dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True)]
        t += 1
        step, root = lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t)
        v = [beta1 * a + (1 - beta1) * g for a, g in zip(v, grads)]
        s = [beta2 * a + (1 - beta2) * (g * g) for a, g in zip(s, grads)]
        params = [p - step * a / (np.sqrt(b) / root + epsilon) for p, a, b in zip(params, v, s)]
    return [(params[0], params[1]), (params[2], params[3])], (v, s, t)


@pytest.mark.parametrize("batch_size, target", [(512, 1.0), (64, None)], ids=["batch-512", "batch-64"])
def test_mnist_epoch_vs_torch_eager(benchmark, smoke, batch_size, target):
    _label(benchmark, f"mnist-float32-batch-{batch_size}: dnn_xp epoch / torch eager epoch")
    workloads.resolve("torch", "cpu")
    dims, m = SMOKE_MNIST if smoke else MNIST
    rng = np.random.RandomState(0)
    X = rng.rand(dims[0], m).astype(np.float32)
    ids = rng.randint(0, dims[-1], size=(1, m))
    Y = (ids == np.arange(dims[-1]).reshape(-1, 1)).astype(np.float32)
    host_layers = initial_layers(dims, "he", seed=1)
    recipe = Recipe(get_activation("relu"), get_output("softmax"), optimizers.adam(), batch_size=batch_size)
    ours = LibraryEpoch(workloads.resolve("numpy"), recipe, host_layers, X, Y, "float32")
    peer = TorchEpoch(host_layers, X, ids, batch_size, "float32")
    first_ours, first_peer = ours(), peer()
    _assert_same_updates(np.asarray(first_ours[0][0]), first_peer[0].detach().numpy(), host_layers[0][0])
    info = workloads.paired(benchmark, ours, peer, **_blocks(smoke, 2.0), names=("dnn_xp", "torch eager"),
                            target=target or float("inf"),
                            what=f"MNIST-shaped float32 epoch of Adam, batch {batch_size}: dnn_xp on NumPy / "
                                 f"PyTorch eager (CPU)")
    if target is None:
        info["target"] = None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_planar_epoch_vs_handwritten_numpy_adam(benchmark, smoke, dtype):
    _label(benchmark, f"planar-{dtype}-batch-64: library epoch / hand-written NumPy Adam epoch")
    dims, m = SMOKE_PLANAR if smoke else PLANAR
    rng = np.random.RandomState(0)
    X, Y = rng.randn(dims[0], m).astype(dtype), (rng.rand(1, m) > 0.5).astype(dtype)
    host_layers = [(W.astype(dtype), b.astype(dtype)) for W, b in initial_layers(dims, 0.01, seed=1)]
    recipe = Recipe(get_activation("tanh"), get_output("sigmoid"), optimizers.adam(), batch_size=64)
    ours = LibraryEpoch(workloads.resolve("numpy"), recipe, host_layers, X, Y, dtype)
    baseline = {"layers": host_layers, "state": ([np.zeros_like(p) for pair in host_layers for p in pair],) * 2 + (0,),
                "epoch": 0}

    def by_hand():
        perm = epoch_permutation(10, baseline["epoch"], m)
        baseline["layers"], baseline["state"] = handwritten_adam_epoch(
            baseline["layers"], baseline["state"], X[:, perm], Y[:, perm], 64, LEARNING_RATE)
        baseline["epoch"] += 1
        return baseline["layers"]

    for _ in range(3):
        for (W, b), (eW, eb) in zip(ours(), by_hand()):
            tolerance = {"rtol": 1e-12} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-6}
            np.testing.assert_allclose(np.asarray(W), eW, **tolerance)
    workloads.paired(benchmark, ours, by_hand, **_blocks(smoke), names=("library", "hand-written"), target=1.3,
                     what=f"planar {dtype}, batch 64: one epoch of the library's mini-batch Adam / the same "
                          f"epoch as hand-written NumPy")


class JaxEpoch:
    """The JAX baseline: a hand-written jitted epoch (``fori_loop`` over the full batches, ``jax.grad``, Adam)."""

    def __init__(self, host_layers, X, Y, batch_size, dtype):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.epoch = jax, jnp, 0
        self.params = [jnp.asarray(a, dtype=dtype) for pair in host_layers for a in pair]
        self.v = [jnp.zeros_like(p) for p in self.params]
        self.s = [jnp.zeros_like(p) for p in self.params]
        self.t = 0
        self.X, self.Y = jnp.asarray(X, dtype=dtype), jnp.asarray(Y, dtype=dtype)
        self.run = jax.jit(functools.partial(self._epoch, batch_size=batch_size))

    def _epoch(self, params, v, s, t, X, Y, *, batch_size):
        jax, jnp = self.jax, self.jnp
        batch_size = min(batch_size, X.shape[1])  # as the library does: one batch of all when m is smaller
        count = X.shape[1] // batch_size

        def loss(params, x, y):
            A = x
            for k in range(0, len(params) - 2, 2):
                A = jax.nn.relu(params[k] @ A + params[k + 1])
            Z = params[-2] @ A + params[-1]
            return -jnp.sum(y * jax.nn.log_softmax(Z, axis=0)) / x.shape[1]

        def step(carry, x, y):
            params, v, s, t = carry
            grads = jax.grad(loss)(params, x, y)
            t = t + 1
            lr = LEARNING_RATE / (1 - 0.9 ** t)
            root = (1 - 0.999 ** t) ** 0.5
            v = [0.9 * a + 0.1 * g for a, g in zip(v, grads)]
            s = [0.999 * a + 0.001 * (g * g) for a, g in zip(s, grads)]
            params = [p - lr * a / (jnp.sqrt(b) / root + 1e-8) for p, a, b in zip(params, v, s)]
            return params, v, s, t

        Xf = X[:, :count * batch_size].reshape(X.shape[0], count, batch_size)
        Yf = Y[:, :count * batch_size].reshape(Y.shape[0], count, batch_size)
        carry = jax.lax.fori_loop(0, count, lambda i, c: step(c, Xf[:, i, :], Yf[:, i, :]), (params, v, s, t))
        if X.shape[1] % batch_size:
            carry = step(carry, X[:, count * batch_size:], Y[:, count * batch_size:])
        return carry

    def __call__(self):
        permutation = self.jnp.asarray(epoch_permutation(10, self.epoch, self.X.shape[1]))
        X, Y = self.jnp.take(self.X, permutation, axis=1), self.jnp.take(self.Y, permutation, axis=1)
        self.params, self.v, self.s, self.t = self.run(self.params, self.v, self.s, self.t, X, Y)
        self.params[0].block_until_ready()
        self.epoch += 1
        return self.params


@pytest.mark.parametrize("batch_size", [512, 64], ids=["batch-512", "batch-64"])
def test_mnist_epoch_on_jax_vs_handwritten_jitted_jax(benchmark, smoke, batch_size):
    _label(benchmark, f"mnist-float32-batch-{batch_size}: dnn_xp on JAX / hand-written jitted JAX epoch")
    backend = workloads.resolve("jax", "cpu")
    dims, m = SMOKE_MNIST if smoke else MNIST
    rng = np.random.RandomState(0)
    X = rng.rand(dims[0], m).astype(np.float32)
    ids = rng.randint(0, dims[-1], size=(1, m))
    Y = (ids == np.arange(dims[-1]).reshape(-1, 1)).astype(np.float32)
    host_layers = initial_layers(dims, "he", seed=1)
    recipe = Recipe(get_activation("relu"), get_output("softmax"), optimizers.adam(), batch_size=batch_size)
    library = LibraryEpoch(backend, recipe, host_layers, X, Y, "float32")

    def ours():
        layers = library()
        layers[0][0].block_until_ready()
        return layers

    peer = JaxEpoch(host_layers, X, Y, batch_size, "float32")
    first_ours, first_peer = ours(), peer()
    _assert_same_updates(np.asarray(first_ours[0][0]), np.asarray(first_peer[0]), host_layers[0][0])
    workloads.paired(benchmark, ours, peer, **_blocks(smoke, 2.0), names=("dnn_xp", "hand-written jax.jit"),
                     target=1.10, what=f"MNIST-shaped float32 epoch of Adam, batch {batch_size}: dnn_xp on JAX / "
                                       f"a hand-written jitted JAX epoch (CPU)")
