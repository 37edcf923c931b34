"""A CPU stand-in for CuPy chunks of dask arrays: :class:`DeviceChunk` refuses to compute with host arrays.

CuPy raises on any operation that mixes its arrays with NumPy's (``TypeError:
Unsupported type <class 'numpy.ndarray'>``), as a GPU cannot read host memory;
NumPy and Python scalars are accepted. A ``DeviceChunk`` is a NumPy array that
behaves the same way, so training on dask arrays of them (``DEVICE_CHUNKS``)
shows on the CPU that every chunk the training makes is a "device" chunk: the
weights, the constants, the data, the optimizer state and the masks. Like CuPy's
arrays (``distributed.protocol.cupy``), they cross workers as what they are.
"""

from __future__ import annotations

import pickle

import numpy as np

from dnn_xp.backend import ChunkArrays


class HostArrayError(TypeError):
    """A plain NumPy array met a :class:`DeviceChunk` in one operation."""


class DeviceChunk(np.ndarray):
    """A NumPy array standing for a GPU array: operations with plain ``np.ndarray`` operands raise."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse_host(inputs + tuple(kwargs.get("out", ())), ufunc.__name__)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return _wrap(getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        _refuse_host(_leaves(args) + _leaves(tuple(kwargs.values())), func.__name__)
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))


def _leaves(items) -> tuple:
    found = []
    for item in items:
        if isinstance(item, (list, tuple)):
            found.extend(_leaves(item))
        else:
            found.append(item)
    return tuple(found)


def _refuse_host(operands, what: str) -> None:
    for operand in operands:
        if isinstance(operand, np.ndarray) and not isinstance(operand, DeviceChunk):
            raise HostArrayError(f"{what}: a host np.ndarray {operand.shape} met a device chunk")


def _plain(x):
    return x.view(np.ndarray) if isinstance(x, DeviceChunk) else x


def _unwrap(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    return _plain(value)


def _wrap(value):
    if isinstance(value, np.ndarray) and not isinstance(value, DeviceChunk):
        return value.view(DeviceChunk)
    if isinstance(value, tuple):
        return tuple(_wrap(item) for item in value)
    return value


def to_device(block) -> DeviceChunk:
    if isinstance(block, DeviceChunk):
        return block
    return np.array(block, copy=True).view(DeviceChunk)


def to_host(chunk) -> np.ndarray:
    return np.array(_plain(chunk), copy=True)


def empty(ndim: int, dtype) -> DeviceChunk:
    return np.empty((0,) * ndim, dtype).view(DeviceChunk)


DEVICE_CHUNKS = ChunkArrays("device-double", to_device, to_host, empty, DeviceChunk)


try:
    from distributed.protocol import dask_deserialize, dask_serialize
except ImportError:
    pass
else:  # NumPy's serializer, which an ndarray subclass would get, sends plain arrays
    @dask_serialize.register(DeviceChunk)
    def _serialize(chunk):
        return {}, [pickle.dumps(chunk, protocol=5)]

    @dask_deserialize.register(DeviceChunk)
    def _deserialize(header, frames):
        return pickle.loads(frames[0])
