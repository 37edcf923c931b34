"""Model files: bit-for-bit across backends, atomic writes, clear errors, checkpoint and resume."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import dnn_xp
from dnn_xp import Network, to_numpy
from dnn_xp import network as network_module
from dnn_xp.backend import BackendError
from dnn_xp.datasets import planar_flower

from conftest import make_case

TARGETS = [
    pytest.param(("numpy", None), id="to-numpy"),
    pytest.param(("array_api_strict", "device1"), id="to-strict-device1"),
    pytest.param(("torch", "cpu"), id="to-torch-cpu"),
]


@pytest.fixture(scope="module")
def flower():
    return planar_flower()


def _trained(case, flower, iterations=20):
    X, Y = flower
    net = Network([2, 4, 1], hidden="tanh", init="small", seed=2, backend=case.backend.name,
                  device=case.backend.device, dtype=case.dtype)
    net.fit(X, Y, learning_rate=1.2, num_iterations=iterations, progress=False)
    return net


@pytest.mark.parametrize("target", TARGETS)
def test_a_model_loads_on_any_backend_bit_for_bit(case, target, flower, tmp_path):
    net = _trained(case, flower)
    net.save(tmp_path / "model.npz")
    loaded = Network.load(tmp_path / "model.npz", backend=target[0], device=target[1])
    assert loaded.backend.name == target[0] and loaded.layer_dims == [2, 4, 1]
    assert loaded.hidden.name == "tanh" and loaded.iterations_trained == 20
    for name, value in net.parameters.items():
        before = case.check(value)
        after = to_numpy(loaded.parameters[name])
        assert after.dtype == before.dtype == np.dtype(case.dtype)
        assert after.tobytes() == before.tobytes(), name
    # Same parameters; the products may round differently in another library.
    np.testing.assert_allclose(to_numpy(loaded.predict_proba(flower[0])),
                               to_numpy(net.predict_proba(flower[0])), rtol=case.rtol)


def test_the_file_is_a_plain_npz_with_a_json_description(flower, tmp_path):
    net = _trained(make_case("numpy", None, "float32"), flower)
    net.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["W1", "W2", "__meta__", "b1", "b2"]
        assert data["W1"].shape == (4, 2) and data["W1"].dtype == np.float32
        meta = json.loads(str(data["__meta__"]))
    assert meta == {"format": "dnn_xp-model", "format_version": 1, "version": dnn_xp.__version__,
                    "layer_dims": [2, 4, 1], "hidden": "tanh", "output": "sigmoid", "dtype": "float32",
                    "iterations_trained": 20, "iterations_total": 20}


def test_an_interrupted_save_leaves_the_old_file_and_no_temporary(flower, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    _trained(make_case("numpy", None, "float64"), flower, 5).save(path)
    good = path.read_bytes()

    def savez_then_fail(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(KeyboardInterrupt):
        _trained(make_case("numpy", None, "float64"), flower, 10).save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_new_file_follows_the_umask_and_a_replaced_one_keeps_its_mode(flower, tmp_path):
    net = _trained(make_case("numpy", None, "float64"), flower, 1)
    old_umask = os.umask(0o022)
    try:
        net.save(tmp_path / "new.npz")
    finally:
        os.umask(old_umask)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "new.npz", 0o640)
    net.save(tmp_path / "new.npz")
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o640


def test_saving_into_a_missing_folder_says_so(flower, tmp_path):
    with pytest.raises(FileNotFoundError, match="folder .*absent' does not exist"):
        _trained(make_case("numpy", None, "float64"), flower, 1).save(tmp_path / "absent" / "m.npz")


def _rewrite(path, **changes):
    """Save ``path`` again with arrays replaced or removed (None) and the description edited."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays["__meta__"]))
    for key, value in changes.items():
        if key in arrays and value is None:
            del arrays[key]
        elif key in arrays:
            arrays[key] = value
        else:
            meta[key] = value
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.fixture
def saved(flower, tmp_path):
    path = tmp_path / "model.npz"
    _trained(make_case("numpy", None, "float64"), flower, 3).save(path)
    return path


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_model_is_reported_as_truncated_or_corrupt(saved, fraction):
    whole = saved.read_bytes()
    saved.write_bytes(whole[: int(len(whole) * fraction)])
    with pytest.raises(ValueError, match="is not a readable dnn_xp model; it may be truncated or corrupt"):
        Network.load(saved)


def test_a_flipped_byte_inside_the_archive_is_reported(saved):
    whole = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("W1.npy")
    whole[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # inside W1's data
    saved.write_bytes(bytes(whole))
    with pytest.raises(ValueError, match="truncated or corrupt \\(Bad CRC-32"):
        Network.load(saved)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"W1,b1\n1,2\n", "is not a dnn_xp model: it is not an .npz \\(zip\\) archive"),
        (b"", "is not an .npz \\(zip\\) archive"),
    ],
    ids=["text", "empty"],
)
def test_a_foreign_file_is_not_a_model(tmp_path, content, message):
    (tmp_path / "m.npz").write_bytes(content)
    with pytest.raises(ValueError, match=message):
        Network.load(tmp_path / "m.npz")


def test_other_npz_files_and_bad_descriptions_are_named(saved, tmp_path):
    np.savez(tmp_path / "data.npz", X=np.ones((3, 2)))
    with pytest.raises(ValueError, match="is an .npz file but not a dnn_xp model \\(no '__meta__' entry\\)"):
        Network.load(tmp_path / "data.npz")
    np.savez(tmp_path / "j.npz", __meta__=np.array("{not json"))
    with pytest.raises(ValueError, match="has a corrupt model description"):
        Network.load(tmp_path / "j.npz")
    np.savez(tmp_path / "list.npz", __meta__=np.array("[1, 2]"))
    with pytest.raises(ValueError, match="its description names format \\[1, 2\\]"):
        Network.load(tmp_path / "list.npz")
    _rewrite(saved, format="other-tool")
    with pytest.raises(ValueError, match="its description names format 'other-tool'"):
        Network.load(saved)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"W2": np.ones((1, 5))}, "W2 has shape \\(1, 5\\) and b2 \\(1, 1\\); expected \\(1, 4\\)"),
        ({"b2": None}, "parameters must be W1, b1, ..., WL, bL"),
        ({"W1": np.ones(8)}, "every parameter must be 2-D"),
        ({"layer_dims": [2, 5, 1]}, "arrays give layer_dims \\[2, 4, 1\\], description \\[2, 5, 1\\]"),
        ({"hidden": "swish"}, "unknown hidden='swish'"),
        ({"iterations_trained": "many"}, "its description gives iterations_trained=.many., not a whole number"),
    ],
    ids=["W2-shape", "b2-missing", "W1-1d", "layer-dims", "hidden", "iterations"],
)
def test_an_inconsistent_model_says_what_does_not_fit(saved, changes, message):
    _rewrite(saved, **changes)
    with pytest.raises(ValueError, match=f"is an inconsistent dnn_xp model: {message}"):
        Network.load(saved)


def test_loading_onto_an_unusable_backend_blames_the_backend_not_the_file(saved):
    with pytest.raises(BackendError, match="backend='array_api_strict' has devices") as info:
        Network.load(saved, backend="array_api_strict", device="device9")
    assert "inconsistent" not in str(info.value)


# ---------------------------------------------------------------------- checkpoints
def _interrupt_at(monkeypatch, iteration):
    """Interrupt ``fit`` when it records the cost of ``iteration`` (as Ctrl-C would)."""
    real_record = network_module.History.record

    def record(self, i, value):
        if i == iteration:
            raise KeyboardInterrupt
        return real_record(self, i, value)

    monkeypatch.setattr(network_module.History, "record", record)


def test_resuming_an_interrupted_run_equals_an_uninterrupted_one(case, flower, tmp_path, monkeypatch):
    case.skip_long_runs()
    X, Y = flower
    options = dict(learning_rate=1.2, num_iterations=40, record_every=7, progress=False)

    def fresh():
        return Network([2, 4, 1], hidden="tanh", init="small", seed=2, backend=case.backend.name,
                       device=case.backend.device, dtype=case.dtype)

    whole = fresh()
    expected = whole.fit(X, Y, **options)

    checkpoint = tmp_path / "checkpoint.npz"
    _interrupt_at(monkeypatch, 28)
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, Y, checkpoint_path=checkpoint, checkpoint_every=10, resume=True, **options)
    assert Network.load(checkpoint).iterations_trained == 20
    monkeypatch.undo()

    resumed = fresh()
    history = resumed.fit(X, Y, checkpoint_path=checkpoint, checkpoint_every=10, resume=True, **options)
    assert history.iterations == expected.iterations == [0, 7, 14, 21, 28, 35, 39]
    assert history.costs == expected.costs
    assert resumed.iterations_trained == 40
    for name, value in whole.parameters.items():
        assert case.check(resumed.parameters[name]).tobytes() == case.check(value).tobytes(), name


def _checkpointed(flower, path, iterations=4, **network):
    X, Y = flower
    net = Network([2, 3, 1], **{"seed": 1, **network})
    history = net.fit(X, Y, learning_rate=0.1, num_iterations=iterations, record_every=2, checkpoint_path=path,
                      checkpoint_every=2, resume=True, progress=False)
    return net, history


def test_a_checkpoint_of_another_network_is_refused(flower, tmp_path):
    X, Y = flower
    path = tmp_path / "checkpoint.npz"
    _checkpointed(flower, path)
    with pytest.raises(ValueError, match=r"another run \(checkpoint vs this run: layer_dims \[2, 3, 1\] vs "
                                         r"\[2, 4, 1\], seed 1 vs 0\)"):
        Network([2, 4, 1]).fit(X, Y, learning_rate=0.1, num_iterations=4, checkpoint_path=path, resume=True,
                               progress=False)


def _other_labels(X, Y):
    Y = Y.copy()
    Y[0, 5] = 1 - Y[0, 5]
    return X, Y


def _other_features(X, Y):
    X = X.copy()
    X[1, 0] += 1e-9
    return X, Y


@pytest.mark.parametrize("change, data, message", [
    ({"hidden": "tanh"}, None, r"hidden 'relu' vs 'tanh'"),
    ({"output": "identity"}, None, r"output 'sigmoid' vs 'identity'"),
    ({"dtype": "float32"}, None, r"dtype 'float64' vs 'float32'"),
    ({"learning_rate": 0.5}, None, r"learning_rate 0.1 vs 0.5"),
    ({"seed": 3}, None, r"seed 1 vs 3"),
    ({"init": "glorot"}, None, r"init 'he' vs 'glorot'"),
    ({"init": 0.5}, None, r"init 'he' vs 0.5"),
    ({}, _other_labels, r"data_fingerprint '[0-9a-f]{16}' vs '[0-9a-f]{16}'"),
    ({}, _other_features, r"data_fingerprint '[0-9a-f]{16}' vs '[0-9a-f]{16}'"),
    ({}, lambda X, Y: (X[:, :300], Y[:, :300]), r"data_shape \[2, 400\] vs \[2, 300\]"),
], ids=["hidden", "output", "dtype", "learning_rate", "seed", "init", "init-number", "labels", "features",
        "data-shape"])
def test_a_checkpoint_of_another_run_is_refused(flower, tmp_path, change, data, message):
    X, Y = flower if data is None else data(*flower)
    path = tmp_path / "checkpoint.npz"
    _checkpointed(flower, path)
    before = path.read_bytes()
    learning_rate = change.pop("learning_rate", 0.1)
    net = Network([2, 3, 1], **{"seed": 1, **change})
    with pytest.raises(ValueError, match=r"is from another run \(checkpoint vs this run: .*" + message):
        net.fit(X, Y, learning_rate=learning_rate, num_iterations=4, checkpoint_path=path, resume=True,
                progress=False)
    assert path.read_bytes() == before


def test_the_same_run_on_another_backend_resumes(flower, tmp_path):
    path = tmp_path / "checkpoint.npz"
    _checkpointed(flower, path, iterations=2)
    net = Network([2, 3, 1], seed=1, backend="array_api_strict", device="device1")
    history = net.fit(*flower, learning_rate=0.1, num_iterations=4, record_every=2, checkpoint_path=path,
                      checkpoint_every=2, resume=True, progress=False)
    assert history.start == 2 and history.iterations == [0, 1, 2, 3]  # 1: the first run's last


def test_the_final_state_is_checkpointed_and_a_finished_run_is_not_trained_again(flower, tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    net, history = _checkpointed(flower, path, iterations=9)
    assert Network.load(path).iterations_trained == 9 and history.start == 0

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(network_module, "train", no_training)
    again, rerun = _checkpointed(flower, path, iterations=9)
    assert rerun.start == 9 and again.iterations_trained == 9
    assert (rerun.iterations, rerun.costs) == (history.iterations, history.costs)
    for name, value in net.parameters.items():
        assert to_numpy(again.parameters[name]).tobytes() == to_numpy(value).tobytes(), name


def test_a_checkpoint_past_the_end_is_refused(flower, tmp_path):
    X, Y = flower
    path = tmp_path / "checkpoint.npz"
    _checkpointed(flower, path, iterations=9)
    with pytest.raises(ValueError, match="at iteration 9, past num_iterations=8; ask for at least"):
        Network([2, 3, 1], seed=1).fit(X, Y, learning_rate=0.1, num_iterations=8, checkpoint_path=path,
                                       resume=True, progress=False)


def test_a_saved_model_is_not_a_checkpoint(flower, tmp_path):
    X, Y = flower
    path = tmp_path / "model.npz"
    Network([2, 3, 1], seed=1).save(path)
    with pytest.raises(ValueError, match="is a saved model, not a checkpoint .*give the checkpoint another "
                                         "file name than the saved model"):
        Network([2, 3, 1], seed=1).fit(X, Y, num_iterations=4, checkpoint_path=path, resume=True, progress=False)


@pytest.mark.parametrize("key", ["iterations", "costs", "run"])
def test_a_checkpoint_record_without_a_key_is_named(flower, tmp_path, key):
    path = tmp_path / "checkpoint.npz"
    _checkpointed(flower, path)
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
    del meta["checkpoint"][key]
    _rewrite(path, checkpoint=meta["checkpoint"])
    with pytest.raises(ValueError, match=f"is an inconsistent dnn_xp model: its checkpoint record lacks '{key}'"):
        Network.load(path)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_diverging_run_keeps_the_last_good_checkpoint(tmp_path):
    rng = np.random.RandomState(1)
    X, Y = rng.randn(3, 20), rng.randn(1, 20)
    path = tmp_path / "checkpoint.npz"
    net = Network([3, 5, 1], hidden="tanh", output="identity", seed=0)
    with pytest.raises(FloatingPointError, match="diverged") as caught:
        net.fit(X, Y, learning_rate=3.0, num_iterations=5000, record_every=1000, checkpoint_path=path,
                checkpoint_every=1, progress=False)
    saved = Network.load(path)
    assert 0 < saved.iterations_trained < 5000
    assert all(np.isfinite(to_numpy(value)).all() for value in saved.parameters.values())
    assert f"those of iteration {net.iterations_trained}" in str(caught.value)
