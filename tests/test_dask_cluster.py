"""backend="dask" on dask.distributed: the embedded LocalCluster, a real multi-process cluster, faults, memory.

One embedded cluster (two single-threaded worker processes on a 2-core runner)
serves the whole module; each fit runs a handful of iterations, since every
dask task costs about a millisecond of scheduling. NumPy is the oracle: the
cluster sums the examples' gradient parts chunk by chunk, so its results agree
with NumPy's to rounding (1e-12 in float64).
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

from dnn_xp import Network, to_numpy
from dnn_xp.backend import DASK_CONNECT_TIMEOUT, BackendError, dask_device, even_chunks, resolve_backend
from dnn_xp.batching import chunked_batches
from dnn_xp.datasets import open_dask

distributed = pytest.importorskip("distributed")

DIMS = [5, 4, 1]
FIT = {"learning_rate": 0.3, "num_iterations": 6, "record_every": 3, "progress": False}


def _data(m=240, n=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m))
    return X, (X[:1] + 0.5 * X[1:2] > 0).astype(np.float64)


def _weights(net) -> dict:
    return {name: to_numpy(value) for name, value in net.parameters.items()}


def _assert_close(found: dict, expected: dict, rtol=1e-12):
    for name, value in expected.items():
        np.testing.assert_allclose(found[name], value, rtol=rtol, atol=1e-14, err_msg=name)


@pytest.fixture(scope="module")
def cluster():
    """The embedded LocalCluster (device=None), started once for the module and closed after it, so that
    dask's default scheduler in later test modules is the local one again."""
    backend = resolve_backend("dask")
    backend.device.scheduler()
    yield backend
    backend.device.close()


def test_the_embedded_cluster_has_single_threaded_worker_processes(cluster):
    client = cluster.device.scheduler()
    workers = cluster.device.workers()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert len(workers) == cores and all(w["threads"] == 1 for w in workers.values())
    assert set(client.run(os.getpid).values()).isdisjoint({os.getpid()})  # processes, not threads
    assert set(client.run(os.environ.get, "OPENBLAS_NUM_THREADS").values()) == {"1"}
    assert f"{len(workers)} workers, {len(workers)} threads" in cluster.device.describe()
    assert Network(DIMS, backend="dask").backend.device is cluster.device  # one cluster per process


def test_a_client_that_is_not_the_default_trains_and_its_weights_read_back(cluster):
    """``device=Client(..., set_as_default=False)``: fit, predict and ``to_numpy`` of the weights use that
    client, even where dask's current scheduler is another (here the synchronous one)."""
    import dask

    X, Y = _data()
    expected = Network(DIMS, seed=1)
    expected.fit(X, Y, **FIT)
    with distributed.Client(cluster.device.scheduler().scheduler.address, set_as_default=False) as client:
        net = Network(DIMS, seed=1, backend="dask", device=client)
        net.fit(X, Y, **FIT)
        with dask.config.set(scheduler="sync"):
            _assert_close(_weights(net), _weights(expected))
            np.testing.assert_array_equal(to_numpy(net.predict(X)), expected.predict(X))


def test_device_chunks_on_the_cluster_stay_on_the_workers(cluster):
    """Chunks of another library (the CPU stand-in for CuPy's, :mod:`chunk_double`): scattered NumPy data are
    moved to them on the workers, the run equals NumPy's, and the weights come back as NumPy."""
    from chunk_double import DEVICE_CHUNKS, DeviceChunk

    X, Y = _data()
    expected = Network(DIMS, seed=1)
    expected.fit(X, Y, **FIT)
    net = Network(DIMS, seed=1, backend="dask", device=dask_device(arrays=DEVICE_CHUNKS))
    net.fit(X, Y, chunks=3, **FIT)
    client = cluster.device.scheduler()
    assert {type(client.compute(block).result()) for block in net.parameters["W1"].to_delayed().ravel()} == {
        DeviceChunk}
    assert "device-double chunks" in net.backend.device.describe()
    _assert_close(_weights(net), _weights(expected))


@pytest.mark.parametrize("chunks", [1, 3, 8])
def test_full_batch_on_the_cluster_equals_numpy(cluster, chunks):
    X, Y = _data()
    expected = Network(DIMS, seed=1)
    expected_history = expected.fit(X, Y, **FIT)
    net = Network(DIMS, seed=1, backend="dask")
    history = net.fit(X, Y, chunks=chunks, **FIT)
    assert history.iterations == expected_history.iterations == [0, 3, 5]
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=1e-12)
    _assert_close(_weights(net), _weights(expected))
    W1 = net.parameters["W1"]
    assert len(W1.__dask_graph__()) <= 2  # anchored (a future and its alias): no graph grows with the iterations


def test_numpy_inputs_are_scattered_in_one_chunk_per_worker_thread(cluster):
    X, _ = _data()
    on_cluster = cluster.examples(X, cluster.dtype("float64"))
    threads = cluster.device.threads()
    assert on_cluster.chunks == ((5,), even_chunks(240, threads))
    assert len(on_cluster.__dask_graph__()) == threads  # futures on the workers, no data in the graph
    with cluster.activate():
        np.testing.assert_array_equal(on_cluster.compute(), X)


def test_the_scheduler_holds_no_more_tasks_after_more_iterations(cluster):
    """The weights are anchored after each compiled run: the scheduler keeps no lineage of past iterations."""
    X, Y = _data()
    client = cluster.device.scheduler()
    counts = []
    for iterations in (2, 12):
        net = Network(DIMS, seed=1, backend="dask")
        net.fit(X, Y, learning_rate=0.3, num_iterations=iterations, record_every=2, progress=False, chunks=2)
        gc.collect()  # the loop's closures hold earlier runs' results in reference cycles until collected
        counts.append(_settled_task_count(client))
        del net
    assert counts[1] < counts[0] + 20  # ten more iterations would leave hundreds of tasks without the anchors


def _settled_task_count(client) -> int:
    """The scheduler's task count once released futures are forgotten (they are released asynchronously)."""
    count = -1
    for _ in range(40):
        found = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
        if found == count:
            return count
        count = found
        time.sleep(0.25)
    return count


def test_chunked_batch_order_takes_every_batch_from_every_chunk():
    sizes = (100, 100, 100)
    batches = chunked_batches(10, 0, sizes, 64)
    assert [len(b) for b in batches] == [60] * 5  # ceil(300 / 64) batches, as many as the course's order
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(300))
    for batch in batches:
        assert [int(np.sum((batch >= a) & (batch < a + 100))) for a in (0, 100, 200)] == [20, 20, 20]
    rng = np.random.RandomState(11)  # seed + 1 + epoch: one permutation per chunk, in chunk order
    first = [rng.permutation(100)[:20] + offset for offset in (0, 100, 200)]
    np.testing.assert_array_equal(batches[0], np.concatenate(first))
    assert not np.array_equal(chunked_batches(10, 1, sizes, 64)[0], batches[0])


def test_mini_batches_on_the_cluster_equal_the_same_order_on_numpy(cluster):
    X, Y = _data(m=200)
    options = {"learning_rate": 0.05, "batch_size": 64, "epochs": 2, "optimizer": "adam", "progress": False}
    expected = Network(DIMS, seed=1)
    expected_history = expected.fit(X, Y, batch_order="chunks", chunks=3, **options)
    net = Network(DIMS, seed=1, backend="dask")
    history = net.fit(X, Y, chunks=3, **options)  # the chunked order is dask's default
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=1e-12)
    _assert_close(_weights(net), _weights(expected))
    course = Network(DIMS, seed=1)
    course.fit(X, Y, **options)  # NumPy's default stays the course's order, a different run
    assert not np.allclose(_weights(course)["W1"], _weights(expected)["W1"])


def test_a_dask_array_keeps_its_chunks_and_labels_follow_them(cluster):
    import dask.array as da

    X, Y = _data()
    lazy = da.from_array(X, chunks=(-1, (100, 60, 80)))
    expected = Network(DIMS, seed=1)
    expected.fit(X, Y, **FIT)
    net = Network(DIMS, seed=1, backend="dask")
    net.fit(lazy, Y, **FIT)
    _assert_close(_weights(net), _weights(expected))
    assert cluster.examples(Y, cluster.dtype("float64"), "Y", like=lazy).chunks == ((1,), (100, 60, 80))


def test_open_dask_reads_npy_shards_and_zarr_lazily(tmp_path, cluster):
    X, _ = _data(m=90)
    shards = tmp_path / "shards"
    shards.mkdir()
    for k, part in enumerate(np.split(X, [40, 70], axis=1)):
        np.save(shards / f"part-{k:03d}.npy", part)
    lazy = open_dask(shards)
    assert lazy.chunks == ((5,), (40, 30, 20))
    with cluster.activate():
        np.testing.assert_array_equal(lazy.compute(), X)
    store = tmp_path / "X.zarr"
    import dask.array as da

    da.from_array(X, chunks=(5, 45)).to_zarr(str(store))
    from_store = open_dask(store)
    assert from_store.chunks == ((5,), (45, 45))
    with cluster.activate():
        np.testing.assert_array_equal(from_store.compute(), X)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .npy files"):
        open_dask(tmp_path / "empty")


def test_an_unreachable_scheduler_is_a_backend_error_within_the_timeout():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and closed again: nothing listens there
    start = time.perf_counter()
    with pytest.raises(BackendError, match=rf"cannot reach the dask scheduler at 'tcp://127.0.0.1:{port}'.*"
                                           r"dask scheduler"):
        Network(DIMS, backend="dask", device=f"tcp://127.0.0.1:{port}")
    assert time.perf_counter() - start < 3 * DASK_CONNECT_TIMEOUT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_scheduler_and_two_worker_processes(capsys, tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, trained through their address."""
    from dnn_xp.cli import main

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": tmp_path}
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-dashboard"], **quiet)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                               "--nthreads", "1", "--no-dashboard"], **quiet))
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(2, timeout=60)
        X, Y = _data()
        expected = Network(DIMS, seed=1)
        expected.fit(X, Y, **FIT)
        net = Network(DIMS, seed=1, backend="dask", device=address)
        net.fit(X, Y, chunks=4, **FIT)
        _assert_close(_weights(net), _weights(expected))
        assert main(["info", "--device", address]) == 0
        assert f"dask cluster: scheduler {address}, 2 workers, 2 threads" in capsys.readouterr().out
        argv = ["train", "--quiet", "--iterations", "4", "--record-every", "2"]
        assert main(argv + ["--backend", "numpy"]) == 0
        on_numpy = capsys.readouterr().out
        assert main(argv + ["--backend", "dask", "--device", address]) == 0
        assert capsys.readouterr().out == on_numpy
        net.backend.device.close()
        client.close()
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    assert all(process.poll() is not None for process in processes)


def _shards(folder, X, count):
    folder.mkdir()
    for k, part in enumerate(np.array_split(X, count, axis=1)):
        np.save(folder / f"part-{k:03d}.npy", part)
    return open_dask(folder)


def test_a_worker_killed_mid_training_changes_nothing(cluster, tmp_path):
    """A worker process dies; its nanny restarts it, dask recomputes what it held from the shards' lineage,
    and the final weights equal the uninterrupted run's exactly."""
    import dask.array as da

    X, Y = _data(m=400)
    lazy, Y = _shards(tmp_path / "X", X, 4), da.from_array(Y)  # both with a lineage dask can recompute
    options = {"learning_rate": 0.3, "num_iterations": 12, "record_every": 4, "progress": False}
    uninterrupted = Network(DIMS, seed=1, backend="dask")
    uninterrupted.fit(lazy, Y, **options)
    client = cluster.device.scheduler()
    before = set(cluster.device.workers())
    victim = sorted(before)[0]
    started = threading.Event()

    def kill():
        started.wait(timeout=60)
        time.sleep(1.0)
        try:
            client.run(os._exit, 1, workers=[victim])
        except Exception:  # noqa: BLE001 - the worker dies before it can answer
            pass

    killer = threading.Thread(target=kill)
    killer.start()
    net = Network(DIMS, seed=1, backend="dask")
    started.set()
    net.fit(lazy, Y, **options)
    killer.join()
    client.wait_for_workers(len(before), timeout=60)
    assert victim not in set(cluster.device.workers())  # it did die (a restarted worker has a new address)
    for name, value in _weights(uninterrupted).items():
        np.testing.assert_array_equal(_weights(net)[name], value, err_msg=name)


def test_client_memory_stays_far_below_a_dask_x_it_never_holds(cluster, tmp_path):
    X, Y = _data(m=120_000, n=64, seed=3)  # 61 MB of float64, written in 8 shards, then dropped here
    size = X.nbytes
    lazy = _shards(tmp_path / "X", X, 8)
    del X
    net = Network([64, 8, 1], seed=1, backend="dask")
    tracemalloc.start()
    try:
        net.fit(lazy, Y, learning_rate=0.1, num_iterations=3, record_every=2, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.10 * size, f"the client allocated {peak / 2**20:.1f} MiB at peak for X of {size / 2**20:.0f} MiB"


def _misaligned(block):
    """``block``'s values in memory at an address 4 bytes off its item size, as a transferred chunk can be."""
    raw = bytearray(block.nbytes + 8)
    out = np.frombuffer(raw, dtype=block.dtype, offset=4, count=block.size).reshape(block.shape)
    out[...] = block
    return out


@pytest.mark.parametrize("seed", range(3))
def test_products_of_misaligned_chunks_have_the_same_bits(seed):
    """NumPy multiplies a misaligned array without BLAS, rounding differently; the dask backend's matmul aligns
    each chunk first, so a product's bits do not depend on where its chunks were computed."""
    import dask
    import dask.array as da

    rng = np.random.default_rng(seed)
    dZ, A = rng.standard_normal((1, 200)), np.abs(rng.standard_normal((4, 200)))
    xp = resolve_backend("dask", "sync").xp
    shifted = da.concatenate([da.from_delayed(dask.delayed(_misaligned)(A[:, k:k + 100]), shape=(4, 100),
                                              dtype=A.dtype) for k in (0, 100)], axis=1)
    expected = np.asarray(xp.matmul(da.from_array(dZ, chunks=(1, 100)), da.from_array(A, chunks=(4, 100)).T))
    found = np.asarray(xp.matmul(da.from_array(dZ, chunks=(1, 100)), shifted.T))
    np.testing.assert_array_equal(found, expected)
    unaligned = np.asarray(da.from_array(dZ, chunks=(1, 100)) @ shifted.T)  # what plain @ gives: other bits
    assert not np.array_equal(unaligned, expected) and np.allclose(unaligned, expected, rtol=1e-14)
