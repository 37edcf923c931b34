"""The training loop (:mod:`dnn_xp.training`) on every backend: trajectories, chunks and compiled steps.

Every case of the matrix follows NumPy's trajectory step by step. On JAX the
chunks of steps are compiled (``jax.jit`` of a ``fori_loop``) and must equal the
eager steps; updates must be right on libraries whose ``+=`` only rebinds.
"""

from __future__ import annotations

import functools
import operator

import numpy as np
import pytest

from dnn_xp import Network, core, resolve_backend, to_numpy, training
from dnn_xp.activations import get_activation
from dnn_xp.backend import repeat_eagerly
from dnn_xp.initializers import initial_layers
from dnn_xp.losses import get_output
from dnn_xp.network import History

NET = {"layer_dims": [4, 5, 3, 1], "hidden": "relu", "init": "he", "seed": 3}
LEARNING_RATE = 0.5
RELU, SIGMOID = get_activation("relu"), get_output("sigmoid")


def _data(m=24):
    rng = np.random.RandomState(7)
    return rng.randn(4, m), (rng.rand(1, m) > 0.5).astype(np.float64)


def _tolerances(dtype):
    return {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}


@pytest.mark.parametrize("record_every", [1, 7], ids=["every-step", "chunks-of-7"])
def test_twenty_steps_follow_numpy(case, record_every):
    """20 iterations, the cost of each recorded one and the final weights equal NumPy's in the same dtype."""
    X, Y = _data()
    options = {"learning_rate": LEARNING_RATE, "num_iterations": 20, "record_every": record_every,
               "progress": False}
    reference = Network(**NET, backend="numpy", dtype=case.dtype)
    expected = reference.fit(X.astype(case.dtype), Y.astype(case.dtype), **options)
    net = Network(**NET, backend=case.backend.name, device=case.backend.device, dtype=case.dtype)
    history = net.fit(case.asarray(X), case.asarray(Y), **options)

    assert history.iterations == expected.iterations
    assert expected.costs[-1] < 0.9 * expected.costs[0]
    np.testing.assert_allclose(history.costs, expected.costs, **_tolerances(case.dtype))
    for name, value in net.parameters.items():
        np.testing.assert_allclose(case.check(value), reference.parameters[name], err_msg=name,
                                   **_tolerances(case.dtype))


def test_chunks_end_before_recorded_iterations_and_at_checkpoints():
    assert training.chunks(0, 10, 4) == [(0, 4), (4, 8), (8, 9), (9, 10)]
    assert training.chunks(0, 9, 4) == [(0, 4), (4, 8), (8, 9)]
    assert training.chunks(0, 1, 100) == [(0, 1)]
    assert training.chunks(5, 12, 4, checkpoint_every=3) == [(5, 6), (6, 8), (8, 9), (9, 11), (11, 12)]
    assert training.chunks(0, 250, 100) == [(0, 100), (100, 200), (200, 249), (249, 250)]


@pytest.mark.parametrize("backend", ["numpy", "torch", "array_api_strict", "jax", "dask"])
def test_the_backend_declares_whether_arrays_are_mutable(backend):
    resolved = resolve_backend(backend)
    mutable = backend in ("numpy", "torch", "array_api_strict")
    assert resolved.mutable is mutable
    assert resolved.accumulate is (operator.iadd if mutable else operator.add)


# ---------------------------------------------------------------------- JAX: pure updates, compiled steps
@pytest.fixture(scope="module")
def jax_backend():
    return resolve_backend("jax", "cpu")


def _jax_problem(backend, m=24):
    X, Y = _data(m)
    to = lambda a: backend.asarray(a, backend.dtype("float64"))  # noqa: E731
    layers = [(to(W), to(b)) for W, b in initial_layers(NET["layer_dims"], "he", seed=3)]
    return layers, to(X), to(Y)


@pytest.mark.parametrize("jitted", [False, True], ids=["eager", "jitted"])
@pytest.mark.parametrize("accumulate", [operator.add, operator.iadd], ids=["add", "iadd"])
def test_update_on_jax_gives_the_new_weights(jax_backend, jitted, accumulate):
    """Regression: ``+=`` only rebinds on JAX, and the old update returned ``-learning_rate * dW`` as the weights."""
    import jax

    layers, X, Y = _jax_problem(jax_backend)
    Z, cache = core.forward(layers, X, RELU, jax_backend.xp)
    grads = core.backward(layers, cache, Y, RELU, SIGMOID, jax_backend.xp)
    steps = [(-LEARNING_RATE * dW, -LEARNING_RATE * db) for dW, db in grads]
    update = functools.partial(core.update, accumulate=accumulate)
    new = (jax.jit(update) if jitted else update)(layers, steps)
    for (W, b), (dW, db), (new_W, new_b) in zip(layers, grads, new):
        assert jax_backend.owns(new_W) and new_W.dtype == jax_backend.dtype("float64")
        np.testing.assert_allclose(to_numpy(new_W), to_numpy(W) - LEARNING_RATE * to_numpy(dW), rtol=1e-15)
        np.testing.assert_allclose(to_numpy(new_b), to_numpy(b) - LEARNING_RATE * to_numpy(db), rtol=1e-15)
        assert np.abs(to_numpy(dW)).max() > 1e-3  # a real step


def test_compiled_chunks_equal_the_eager_steps_on_jax(jax_backend):
    """One ``jax.jit`` of a ``fori_loop`` serves every trip count and equals the Python loop to 1e-12."""
    layers, X, Y = _jax_problem(jax_backend)
    eager = functools.partial(training.run_steps, hidden=RELU, output=SIGMOID, xp=jax_backend.xp,
                              accumulate=jax_backend.accumulate, repeat=repeat_eagerly)
    compiled = training.compiled_steps(jax_backend, RELU, SIGMOID)
    compiled(layers, X, Y, 0.5, 2)
    compilations = compiled._cache_size()
    for count in (1, 7, 13):
        (expected, expected_cost), (found, found_cost) = eager(layers, X, Y, 0.5, count), compiled(layers, X, Y, 0.5,
                                                                                                    count)
        np.testing.assert_allclose(float(found_cost), float(expected_cost), rtol=1e-12)
        for (W, b), (eW, eb) in zip(found, expected):
            assert jax_backend.owns(W) and W.device == X.device
            np.testing.assert_allclose(to_numpy(W), to_numpy(eW), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(to_numpy(b), to_numpy(eb), rtol=1e-12, atol=1e-15)
    assert compiled._cache_size() == compilations


def test_fit_on_jax_compiles_once_for_any_number_of_iterations(jax_backend):
    X, Y = _data(17)
    compiled = training.compiled_steps(jax_backend, RELU, SIGMOID)
    net = Network(**NET, backend="jax")
    net.fit(X, Y, learning_rate=LEARNING_RATE, num_iterations=25, record_every=10, progress=False)
    compilations = compiled._cache_size()
    net.fit(X, Y, learning_rate=0.1, num_iterations=3, record_every=2, progress=False)
    Network(**NET, backend="jax").fit(X, Y, learning_rate=0.2, num_iterations=40, record_every=13, progress=False)
    assert compiled._cache_size() == compilations


# ---------------------------------------------------------------------- dask: bounded graphs, one compute per chunk
def test_dask_graph_stays_bounded_and_each_chunk_computes_once():
    dask = pytest.importorskip("dask")
    from dask.callbacks import Callback

    backend = resolve_backend("dask", "threads")
    X, Y = _data(30)
    X, Y = (backend.asarray(a, backend.dtype("float64")).rechunk((-1, 10)) for a in (X, Y))
    layers = Network(**NET, backend="dask", device="threads")._layers
    computes = []

    class Count(Callback):
        def _start(self, dsk):
            computes.append(len(dsk))

    history = History()
    with Count():
        layers = training.train(layers, X, Y, backend, RELU, SIGMOID, LEARNING_RATE, start=0, stop=40,
                                record_every=10, history=history)
    chunk_count = len(training.chunks(0, 40, 10))
    assert history.iterations == [0, 10, 20, 30, 39]
    # the persist of each chunk, then reading its (persisted) cost; last, the finiteness check of the final weights
    assert len(computes) == 2 * chunk_count + 1
    assert max(computes[1:-1:2]) <= 2  # reading the cost: its stored value and dask's finalize, no step
    assert computes[-1] < computes[0] / 4  # the check reads the persisted weights: no step recomputed
    assert computes[2] == computes[4]  # chunks 10-20 and 20-30: a graph that does not grow with the run
    for W, b in layers:
        assert len(W.__dask_graph__()) == len(b.__dask_graph__()) == 1
    assert isinstance(dask.compute(layers[0][0])[0], np.ndarray)
