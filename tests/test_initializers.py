"""Initialization schemes against direct ``RandomState(seed).randn`` draws in layer order."""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp import Network, course
from dnn_xp.initializers import initial_layers

DIMS = [6, 5, 3, 1]
SEED = 7

# scale of randn(n, n_prev), written independently of dnn_xp.initializers
SCALES = {
    "small": lambda n_prev, n: 0.01,
    "lecun": lambda n_prev, n: 1 / np.sqrt(n_prev),
    "he": lambda n_prev, n: np.sqrt(2 / n_prev),
    "glorot": lambda n_prev, n: np.sqrt(2 / (n_prev + n)),
    0.3: lambda n_prev, n: 0.3,
    2: lambda n_prev, n: 2.0,
}


def direct_draws(dims, seed):
    rng = np.random.RandomState(seed)
    return [rng.randn(n, n_prev) for n_prev, n in zip(dims[:-1], dims[1:])]


@pytest.mark.parametrize("scheme", list(SCALES), ids=[str(s) for s in SCALES])
def test_scheme_scales_the_seeded_draws_in_layer_order(scheme):
    layers = initial_layers(DIMS, scheme, SEED)
    assert len(layers) == len(DIMS) - 1
    for (W, b), G, n_prev, n in zip(layers, direct_draws(DIMS, SEED), DIMS[:-1], DIMS[1:]):
        assert W.shape == (n, n_prev) and b.shape == (n, 1)
        assert W.dtype == np.float64 and b.dtype == np.float64
        np.testing.assert_allclose(W, G * SCALES[scheme](n_prev, n), rtol=1e-15, atol=0)
        np.testing.assert_array_equal(b, np.zeros((n, 1)))


def test_zeros_scheme():
    for (W, b), n_prev, n in zip(initial_layers(DIMS, "zeros", SEED), DIMS[:-1], DIMS[1:]):
        np.testing.assert_array_equal(W, np.zeros((n, n_prev)))
        np.testing.assert_array_equal(b, np.zeros((n, 1)))


def test_course_forms_are_bit_for_bit():
    """The course writes ``randn * 0.01`` and ``randn / np.sqrt(n_prev)``: same bits here."""
    for scheme, form in (("small", lambda G, n_prev: G * 0.01), ("lecun", lambda G, n_prev: G / np.sqrt(n_prev))):
        for (W, _), G, n_prev in zip(initial_layers(DIMS, scheme, 1), direct_draws(DIMS, 1), DIMS[:-1]):
            np.testing.assert_array_equal(W, form(G, n_prev))


@pytest.mark.parametrize("scheme, expected_std", [("he", np.sqrt(2 / 800)), ("lecun", np.sqrt(1 / 800)),
                                                  ("glorot", np.sqrt(2 / 1200)), ("small", 0.01)])
def test_empirical_spread(scheme, expected_std):
    (W, _), = initial_layers([800, 400], scheme, seed=0)
    assert abs(W.mean()) < 0.01 * expected_std
    assert W.std() == pytest.approx(expected_std, rel=0.01)


def test_same_seed_same_weights_other_seed_different():
    a, b, c = (initial_layers(DIMS, "he", s) for s in (SEED, SEED, SEED + 1))
    for (Wa, _), (Wb, _), (Wc, _) in zip(a, b, c):
        np.testing.assert_array_equal(Wa, Wb)
        assert not np.allclose(Wa, Wc)


def test_network_uses_the_named_scheme():
    net = Network(DIMS, init="glorot", seed=SEED)
    for l, (G, n_prev, n) in enumerate(zip(direct_draws(DIMS, SEED), DIMS[:-1], DIMS[1:]), start=1):
        np.testing.assert_allclose(net.parameters[f"W{l}"], G * np.sqrt(2 / (n_prev + n)), rtol=1e-15)


def test_course_initialize_parameters_published_values():
    """``initialize_parameters(3, 2, 1)`` as printed in the course (seed 1, ``randn * 0.01``)."""
    p = course.initialize_parameters(3, 2, 1)
    np.testing.assert_allclose(p["W1"], [[0.01624345, -0.00611756, -0.00528172],
                                         [-0.01072969, 0.00865408, -0.02301539]], atol=5e-9)
    np.testing.assert_allclose(p["W2"], [[0.01744812, -0.00761207]], atol=5e-9)
    np.testing.assert_array_equal(p["b1"], np.zeros((2, 1)))
    np.testing.assert_array_equal(p["b2"], np.zeros((1, 1)))


def test_course_initialize_parameters_deep_published_values():
    """The course's step-by-step exercise: ``[5, 4, 3]``, seed 3, ``randn * 0.01``."""
    p = course.initialize_parameters_deep([5, 4, 3], seed=3, scale=0.01)
    np.testing.assert_allclose(p["W1"], [[0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
                                         [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
                                         [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
                                         [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]],
                               atol=5e-9)
    np.testing.assert_allclose(p["W2"], [[-0.01185047, -0.0020565, 0.01486148, 0.00236716],
                                         [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
                                         [-0.00768836, -0.00230031, 0.00745056, 0.01976111]], atol=5e-9)
    assert p["b1"].shape == (4, 1) and p["b2"].shape == (3, 1)
    # The application's default: seed 1, randn / sqrt(n_prev).
    deep = course.initialize_parameters_deep([5, 4, 3])
    G1, G2 = direct_draws([5, 4, 3], 1)
    np.testing.assert_array_equal(deep["W1"], G1 / np.sqrt(5))
    np.testing.assert_array_equal(deep["W2"], G2 / np.sqrt(4))
