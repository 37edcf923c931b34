"""The course's model loops on dask settle their state every iteration (``Backend.settle``): the
task graph they return is one task per chunk however many iterations ran, and the results
equal NumPy's.

Without the settle each iteration's lazy operations stack on the previous one's: the ``W1`` of
``L_layer_model`` held 537 graph layers and 1281 tasks after 10 iterations, 2157 and 5121 after 40.
"""

from __future__ import annotations

import numpy as np
import pytest

from dnn_xp.course import deep, initialization, logistic_regression, optimization, planar, regularization
from conftest import make_case


@pytest.fixture
def dask_case():
    return make_case("dask", "threads", "float64", chunks=3)


def _data(n_x, m, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m)
    return X, (X[:1] * X[1:2] > 0).astype(np.float64)


def _dask_arrays(result):
    """Every dask array in ``result`` (nested dicts, lists and tuples), in order."""
    if isinstance(result, dict):
        return [a for value in result.values() for a in _dask_arrays(value)]
    if isinstance(result, (list, tuple)):
        return [a for value in result for a in _dask_arrays(value)]
    return [result] if hasattr(result, "__dask_graph__") else []


def _graph_size(result):
    """``(layers, tasks)`` summed over the graphs of ``result``'s dask arrays."""
    graphs = [a.__dask_graph__() for a in _dask_arrays(result)]
    return sum(len(g.layers) for g in graphs), sum(len(g) for g in graphs)


def test_settle_is_the_identity_except_on_dask(case):
    """Eager libraries get their state back itself (no copy); dask gets it persisted, values unchanged."""
    W = case.asarray(np.arange(6.0).reshape(2, 3) / 7)
    state = ({"W1": W + 1, "b1": 0.5}, [W * 2])
    settled = case.backend.settle(state)
    if case.backend.name != "dask":
        assert settled is state
        return
    parameters, rest = settled
    assert parameters["b1"] == 0.5
    for got, want in ((parameters["W1"], state[0]["W1"]), (rest[0], state[1][0])):
        assert len(got.__dask_graph__()) == got.npartitions < len(want.__dask_graph__())
        np.testing.assert_array_equal(case.check(got), case.check(want))


def test_L_layer_model_on_dask_keeps_one_iterations_graph(dask_case):
    X, Y = _data(3, m=60)
    assert dask_case.asarray(X).numblocks == (1, 3)
    sizes = {}
    for steps in (10, 40):
        parameters, costs = deep.L_layer_model(dask_case.asarray(X), dask_case.asarray(Y), [3, 4, 1], 0.05, steps)
        sizes[steps] = _graph_size((parameters, costs))
        ref_parameters, ref_costs = deep.L_layer_model(X, Y, [3, 4, 1], 0.05, steps)
        for name, value in parameters.items():
            np.testing.assert_allclose(dask_case.check(value), ref_parameters[name], rtol=1e-12, atol=0, err_msg=name)
        np.testing.assert_allclose([dask_case.check(c) for c in costs], ref_costs, rtol=1e-12, atol=0)
    assert sizes[10] == sizes[40] == (5, 5)  # W1, b1, W2, b2 and the cost of iteration 0: one task each


def _zeros_w(case):
    return case.asarray(np.zeros((3, 1)))


LOOPS = {
    "logistic_regression.optimize": lambda case, X, Y: logistic_regression.optimize(
        _zeros_w(case), 0.0, case.asarray(X), case.asarray(Y), 3, 0.1),
    "planar.nn_model": lambda case, X, Y: planar.nn_model(case.asarray(X[:2]), case.asarray(Y), 4, 3),
    "deep.two_layer_model": lambda case, X, Y: deep.two_layer_model(
        case.asarray(X), case.asarray(Y), [3, 4, 1], 0.05, 3),
    "initialization.model": lambda case, X, Y: initialization.model(
        case.asarray(X[:2]), case.asarray(Y), num_iterations=3, print_cost=False),
    "regularization.model-dropout": lambda case, X, Y: regularization.model(
        case.asarray(X[:2]), case.asarray(Y), num_iterations=3, print_cost=False, keep_prob=0.8),
    "optimization.model-adam": lambda case, X, Y: optimization.model(
        case.asarray(X[:2]), case.asarray(Y), [2, 5, 2, 1], "adam", mini_batch_size=32, num_epochs=1,
        print_cost=False),
}


@pytest.mark.parametrize("loop", LOOPS)
def test_every_course_loop_on_dask_returns_settled_arrays(dask_case, loop):
    """Each returned array is one task per chunk: the values, with no iteration's operations left."""
    X, Y = _data(3, m=60)
    arrays = _dask_arrays(LOOPS[loop](dask_case, X, Y))
    assert arrays
    for array in arrays:
        graph = array.__dask_graph__()
        assert (len(graph.layers), len(graph)) == (1, array.npartitions)
