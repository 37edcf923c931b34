"""backend="dask" with chunks of another library than NumPy: CuPy's on GPU workers (dask-cuda), on the CPU a stand-in.

``dask_device(where, arrays=...)`` names the chunks' library. On the CPU the
stand-in chunks (:mod:`chunk_double`) refuse, as CuPy does, every operation that
mixes them with a host NumPy array, so a whole training run on them shows that
weights, constants, data, masks and optimizer state all become chunks of that
library, on the workers. The ``gpu`` tests run the same on a LocalCUDACluster.
"""

from __future__ import annotations

import numpy as np
import pytest

from chunk_double import DEVICE_CHUNKS, DeviceChunk, HostArrayError
from dnn_xp import BackendError, Network, to_numpy
from dnn_xp.backend import NUMPY_CHUNKS, dask_device, resolve_backend

pytest.importorskip("dask.array")

DIMS = [5, 4, 1]
FIT = {"learning_rate": 0.3, "num_iterations": 6, "record_every": 3, "progress": False}
MINI_BATCH = {"learning_rate": 0.01, "optimizer": "adam", "batch_size": 32, "epochs": 3, "record_every": 1,
              "l2": 0.1, "keep_prob": 0.8, "batch_order": "chunks", "progress": False}


def _data(m=240, n=5):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, m))
    return X, (X[:1] + 0.5 * X[1:2] > 0).astype(np.float64)


def _chunk_types(array) -> set:
    return {type(block.compute()) for block in array.to_delayed().ravel()}


def test_the_stand_in_refuses_host_arrays_as_cupy_does():
    chunk = np.ones((2, 3)).view(DeviceChunk)
    assert type(chunk * 2.0 + np.float32(1)) is DeviceChunk  # Python and NumPy scalars are fine
    with pytest.raises(HostArrayError, match="host np.ndarray"):
        chunk + np.ones((2, 1))
    with pytest.raises(HostArrayError, match="host np.ndarray"):
        np.ones((4, 2)) @ chunk


@pytest.mark.parametrize("chunks", [1, 3])
def test_full_batch_on_device_chunks_equals_numpy_and_stays_on_them(chunks):
    X, Y = _data()
    expected = Network(DIMS, seed=1)
    expected_history = expected.fit(X, Y, **FIT)
    device = dask_device("threads", arrays=DEVICE_CHUNKS)
    net = Network(DIMS, seed=1, backend="dask", device=device)
    history = net.fit(X, Y, chunks=chunks, **FIT)
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=1e-12)
    for name, value in net.parameters.items():
        assert _chunk_types(value) == {DeviceChunk}, name
        np.testing.assert_allclose(to_numpy(value), expected.parameters[name], rtol=1e-12, atol=1e-15)
        assert type(to_numpy(value)) is np.ndarray
    assert _chunk_types(net.predict(X)) == {DeviceChunk}
    np.testing.assert_array_equal(to_numpy(net.predict(X)), expected.predict(X))
    assert net.accuracy(X, Y) == expected.accuracy(X, Y)


def test_mini_batch_adam_l2_dropout_on_device_chunks_equals_numpy_chunks():
    X, Y = _data()
    expected = Network(DIMS, seed=1, backend="dask", device="threads")
    expected.fit(X, Y, chunks=3, **MINI_BATCH)
    net = Network(DIMS, seed=1, backend="dask", device=dask_device("threads", arrays=DEVICE_CHUNKS))
    net.fit(X, Y, chunks=3, **MINI_BATCH)
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(to_numpy(value), to_numpy(expected.parameters[name]), err_msg=name)


def test_softmax_on_device_chunks():
    X, _ = _data()
    labels = np.asarray([[0.0, 1.0, 2.0] * 80])
    expected = Network([5, 4, 3], output="softmax", seed=1)
    expected.fit(X, labels, **FIT)
    net = Network([5, 4, 3], output="softmax", seed=1, backend="dask",
                  device=dask_device("threads", arrays=DEVICE_CHUNKS))
    net.fit(X, labels, **FIT)
    np.testing.assert_allclose(to_numpy(net.parameters["W2"]), expected.parameters["W2"], rtol=1e-12)


def test_a_dask_array_of_numpy_chunks_is_moved_to_the_device_chunks_on_the_workers():
    import dask.array as da

    X, Y = _data()
    net = Network(DIMS, seed=1, backend="dask", device=dask_device("threads", arrays=DEVICE_CHUNKS))
    placed = net.backend.examples(da.from_array(X, chunks=(5, 80)), net.backend.dtype("float64"))
    assert _chunk_types(placed) == {DeviceChunk} and placed.chunks == ((5,), (80, 80, 80))
    net.fit(da.from_array(X, chunks=(5, 80)), Y, **FIT)


def test_dask_device_places_and_bad_arrays():
    assert dask_device("threads") is resolve_backend("dask", "threads").device  # NumPy chunks: the same place
    assert dask_device("threads").arrays is NUMPY_CHUNKS
    device = dask_device("threads", arrays=DEVICE_CHUNKS)
    assert device is dask_device("threads", arrays=DEVICE_CHUNKS) and device.local
    assert repr(device) == "DaskScheduler('threads', arrays='device-double')"
    with pytest.raises(BackendError, match=r"arrays must be 'numpy' or 'cupy'.*got arrays='torch'"):
        dask_device("threads", arrays="torch")


def test_cupy_chunks_without_cupy_say_how_to_install_it():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match=r"arrays='cupy' needs CuPy.*pip install 'dnn_xp\[cuda12\]'"):
            dask_device("threads", arrays="cupy")
    else:
        pytest.skip("CuPy is installed here")


@pytest.mark.gpu
def test_a_local_cuda_cluster_trains_on_cupy_chunks_like_numpy():
    """dask-cuda: one worker per GPU, CuPy chunks; float64 results equal NumPy's to 1e-12."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    dask_cuda = pytest.importorskip("dask_cuda", reason="dask-cuda is not installed (pip install dask-cuda)")
    distributed = pytest.importorskip("distributed")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA GPU")
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        pytest.skip(f"no usable CUDA GPU: {exc}")
    X, Y = _data(m=4000)
    expected = Network(DIMS, seed=1)
    expected.fit(X, Y, **FIT)
    with dask_cuda.LocalCUDACluster(dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        net = Network(DIMS, seed=1, backend="dask", device=dask_device(client, arrays="cupy"))
        net.fit(X, Y, **FIT)
        assert _chunk_types(net.parameters["W1"]) == {cupy.ndarray}
        for name, value in net.parameters.items():
            np.testing.assert_allclose(to_numpy(value), expected.parameters[name], rtol=1e-12, atol=1e-15)
