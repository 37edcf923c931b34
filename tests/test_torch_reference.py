"""Gradients and training trajectories against PyTorch autograd and ``torch.optim.SGD``.

The same network is built in torch from plain tensors with ``requires_grad`` and
stepped side by side with dnn_xp from identical initial weights (float64, CPU);
parameters, gradients and costs must agree to ~1e-10 at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from dnn_xp import Network  # noqa: E402
from dnn_xp.activations import get_activation  # noqa: E402
from dnn_xp.core import backward, cost, forward, update  # noqa: E402
from dnn_xp.initializers import initial_layers  # noqa: E402
from dnn_xp.losses import get_output  # noqa: E402

TORCH_HIDDEN = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": lambda Z: F.leaky_relu(Z, negative_slope=0.01),
    "identity": lambda Z: Z,
}
TORCH_COST = {
    "sigmoid": F.binary_cross_entropy_with_logits,  # mean over the (1, m) entries
    "identity": lambda Z, Y: 0.5 * F.mse_loss(Z, Y),  # mean of (Z - Y)^2 / 2
}
LEARNING_RATE = {"sigmoid": 0.5, "identity": 0.05}
STEPS = 20
RTOL, ATOL = 1e-10, 1e-13
DIMS = [5, 6, 4, 1]
M = 16


def problem(output, seed=4):
    rng = np.random.RandomState(seed)
    X = rng.randn(DIMS[0], M)
    Y = (rng.rand(1, M) > 0.5).astype(np.float64) if output == "sigmoid" else rng.randn(1, M)
    return X, Y


class TorchNet:
    """The reference network: leaf tensors ``W_l, b_l`` and an explicit forward pass."""

    def __init__(self, layers, hidden, output):
        self.params = [torch.tensor(P, dtype=torch.float64, requires_grad=True) for pair in layers for P in pair]
        self.hidden, self.cost = TORCH_HIDDEN[hidden], TORCH_COST[output]

    def loss(self, X, Y):
        A = torch.as_tensor(X)
        Ws, bs = self.params[0::2], self.params[1::2]
        for W, b in zip(Ws[:-1], bs[:-1]):
            A = self.hidden(W @ A + b)
        return self.cost(Ws[-1] @ A + bs[-1], torch.as_tensor(Y))

    def numpy_params(self):
        return [P.detach().numpy().copy() for P in self.params]


@pytest.mark.parametrize("output_name", ["sigmoid", "identity"])
@pytest.mark.parametrize("hidden_name", ["relu", "sigmoid", "tanh", "leaky_relu", "identity"])
def test_core_steps_like_torch_sgd(hidden_name, output_name):
    hidden, output = get_activation(hidden_name), get_output(output_name)
    X, Y = problem(output_name)
    layers = initial_layers(DIMS, "he", seed=3)
    net = TorchNet(layers, hidden_name, output_name)
    lr = LEARNING_RATE[output_name]
    sgd = torch.optim.SGD(net.params, lr=lr)

    costs = []
    for step in range(STEPS):
        sgd.zero_grad()
        loss = net.loss(X, Y)
        loss.backward()

        Z, cache = forward(layers, X, hidden, np)
        value = float(cost(Z, Y, output, np))
        np.testing.assert_allclose(value, loss.item(), rtol=RTOL, err_msg=f"cost at step {step}")
        grads = [g for pair in backward(layers, cache, Y, hidden, output, np) for g in pair]
        for ours, theirs in zip(grads, net.params):
            np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=RTOL, atol=ATOL,
                                       err_msg=f"gradient at step {step}")

        sgd.step()
        layers = update(layers, backward(layers, cache, Y, hidden, output, np, scale=-lr))
        for ours, theirs in zip([P for pair in layers for P in pair], net.numpy_params()):
            np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=f"parameters after step {step}")
        costs.append(value)
    assert costs[-1] < 0.95 * costs[0], "the run must actually train for the comparison to mean anything"


def test_network_fit_follows_torch_sgd(case):
    """``Network.fit`` on every backend against the torch float64 trajectory."""
    X, Y = problem("sigmoid")
    net = Network(DIMS, hidden="tanh", init="glorot", seed=9,
                  backend=case.backend.name, device=case.backend.device)
    reference = TorchNet(initial_layers(DIMS, "glorot", seed=9), "tanh", "sigmoid")
    sgd = torch.optim.SGD(reference.params, lr=0.5)
    expected_costs = []
    for _ in range(STEPS):
        sgd.zero_grad()
        loss = reference.loss(X, Y)
        expected_costs.append(loss.item())
        loss.backward()
        sgd.step()

    history = net.fit(case.asarray(X), case.asarray(Y), learning_rate=0.5, num_iterations=STEPS, record_every=1)
    assert history.iterations == list(range(STEPS))
    np.testing.assert_allclose(history.costs, expected_costs, rtol=case.rtol)
    tolerance = {"rtol": case.rtol, "atol": 1e-13 if case.dtype == "float64" else 1e-5}
    for name, theirs in zip(net.parameters, reference.numpy_params()):
        np.testing.assert_allclose(case.check(net.parameters[name]), theirs, err_msg=name, **tolerance)
    assert expected_costs[-1] < 0.8 * expected_costs[0]
