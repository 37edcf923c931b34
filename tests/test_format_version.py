"""The saved model's format version: today's number is written, older files load, newer ones are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dnn_xp
from dnn_xp.saving import FORMAT_VERSION


def save_like_version_0(path, parameters: dict, layer_dims, hidden="tanh", output="sigmoid", dtype="float64"):
    """A file exactly as dnn_xp 0.1.0 wrote it before the description had a format version."""
    meta = {"format": "dnn_xp-model", "version": "0.1.0", "layer_dims": layer_dims, "hidden": hidden,
            "output": output, "dtype": dtype, "iterations_trained": 7}
    with open(path, "wb") as handle:
        np.savez(handle, **parameters, __meta__=np.array(json.dumps(meta)))
    return path


def _parameters(dims, dtype, seed=3):
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_prev, n) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{l}"] = rng.standard_normal((n, n_prev)).astype(dtype)
        params[f"b{l}"] = rng.standard_normal((n, 1)).astype(dtype)
    return params


def _with_meta(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta.update(changes)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays, __meta__=np.array(json.dumps(meta)))


def test_a_save_records_the_current_format_version(tmp_path):
    dnn_xp.Network([3, 2, 1]).save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert json.loads(str(data["__meta__"]))["format_version"] == FORMAT_VERSION == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_file_of_the_previous_format_loads_bit_for_bit(tmp_path, dtype):
    params = _parameters([3, 4, 1], dtype)
    path = save_like_version_0(tmp_path / "old.npz", params, [3, 4, 1], dtype=dtype)
    net = dnn_xp.Network.load(path)
    assert net.layer_dims == [3, 4, 1] and net.hidden.name == "tanh" and net.iterations_trained == 7
    for name, value in params.items():
        loaded = dnn_xp.to_numpy(net.parameters[name])
        assert loaded.dtype == value.dtype and loaded.tobytes() == value.tobytes()


def test_a_newer_format_is_refused_with_the_versions_named(tmp_path):
    path = tmp_path / "future.npz"
    dnn_xp.Network([3, 2, 1]).save(path)
    _with_meta(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match=rf"format version {FORMAT_VERSION + 1}, newer than this dnn_xp "
                                         rf".*reads \(up to {FORMAT_VERSION}\); upgrade dnn_xp"):
        dnn_xp.Network.load(path)


@pytest.mark.parametrize("version", ["1", 1.5, -1, True, None])
def test_a_format_version_that_is_not_a_count_is_a_corrupt_description(tmp_path, version):
    path = tmp_path / "odd.npz"
    dnn_xp.Network([3, 2, 1]).save(path)
    _with_meta(path, format_version=version)
    with pytest.raises(ValueError, match="corrupt model description: format_version"):
        dnn_xp.Network.load(path)
