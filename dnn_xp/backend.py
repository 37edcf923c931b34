"""The only module that knows the array libraries.

It turns a backend name and a device into a :class:`Backend` (an Array API
namespace plus a device), moves arrays between the host and that device, probes
whether a GPU is really usable (by allocating and synchronizing, not by
importing), and owns the seeded host random generator. It also holds what the
libraries differ in beyond the standard: whether their arrays are mutable (so
``+=`` may write in place, :attr:`Backend.accumulate`), how a run of training
steps is compiled (:meth:`Backend.compile`: ``jax.jit`` on JAX, a ``persist``
per call on dask, a replayed CUDA graph on CuPy), how a Python loop's state is
made concrete once per iteration (:attr:`Backend.settle`: a ``persist`` on dask),
and the namespace the core computes with (:class:`Namespace`: ``matmul`` as
``@``, the steps' constants made once). The math in :mod:`dnn_xp.core` never
imports any of these libraries.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import importlib
import operator
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import array_api_compat

from .validation import check_seed

ENV_VAR = "DNN_XP_BACKEND"
DTYPES = ("float32", "float64")


class BackendError(ValueError):
    """A backend name, device or library that cannot be used here."""


def repeat_eagerly(count: int, body, state):
    """``body`` applied ``count`` times to ``state`` in a Python loop: ``body(body(...body(state)))``."""
    for _ in range(count):
        state = body(state)
    return state


def settled_eagerly(state):
    """``state`` as it is: an eager library's arrays hold their values already (no copy)."""
    return state


class _Library:
    """How one array library is imported, placed on a device and read back."""

    name = ""
    module = ""
    install_hint = ""
    # Whether ``a += b`` writes into ``a`` itself. On libraries with immutable
    # arrays (JAX) or lazy ones (dask) it only rebinds the name to ``a + b``.
    mutable = True

    def load(self) -> ModuleType:
        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            raise BackendError(
                f"backend={self.name!r} needs {self.module}, which is not installed "
                f"({exc}); {self.install_hint}, or use backend='numpy'"
            ) from None

    def device(self, lib: ModuleType, spec: Any) -> Any:
        """The library's device object for ``spec`` (None means its default)."""
        if spec not in (None, "cpu"):
            raise BackendError(f"backend={self.name!r} runs on the CPU only; got device={spec!r}")
        return None

    def probe(self, lib: ModuleType, device: Any) -> None:
        """Raise BackendError unless ``device`` can really hold and compute arrays."""

    def asarray(self, lib: ModuleType, array: Any, dtype: Any, device: Any) -> Any:
        return lib.asarray(array, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def device_of(self, array: Any) -> Any:
        return None

    def namespace(self, xp: ModuleType) -> Any:
        """The Array API namespace the core computes with: array-api-compat's, ``matmul`` as ``@``."""
        return operator_namespace(xp, self.make_constant, self.constant_device)

    # The device of an array, as the namespace's constants are kept per device.
    constant_device = staticmethod(array_api_compat.device)

    def make_constant(self, xp, value: float, dtype, device) -> Any:
        """A 0-d array of ``value`` for :meth:`Namespace.constant`, filled on the device (no host copy)."""
        return xp.full((), value, dtype=dtype, device=device)

    def namespace_device(self, device: Any) -> Any:
        """``device`` as the library's Array API namespace names it (dask's: None, whatever the scheduler)."""
        return device

    def activate(self, lib: ModuleType, device: Any):
        """A context in which ``device`` is the library's current device (a no-op by default)."""
        return contextlib.nullcontext()

    def plain(self, array: Any) -> Any:
        """``array`` without library extras that would grow across iterations (autograd)."""
        return array

    def device_label(self, device: Any) -> str:
        """A short name for a device of this library, as ``devices()`` lists them."""
        return "cpu" if device is None else str(device)

    def owns(self, array: Any) -> bool:
        raise NotImplementedError

    def host_examples(self, lib: ModuleType, array: np.ndarray, dtype: Any, device: Any) -> Any:
        """Host examples ``(n, m)`` as :meth:`split_examples` takes them: on the device, by default."""
        return self.asarray(lib, array, dtype, device)

    def split_examples(self, lib: ModuleType, array: Any, device: Any, chunks, like) -> Any:
        """Examples split along their columns for data-parallel work (dask); the array itself by default."""
        return array

    def column_chunks(self, array: Any) -> tuple[int, ...] | None:
        """How ``array``'s columns are split into chunks (dask), or None for one whole array."""
        return None

    def take_columns(self, lib: ModuleType, xp: ModuleType, array: Any, index: np.ndarray, device: Any) -> Any:
        """The columns ``index`` (a host int64 array) of ``array``, its index moved to the device once."""
        return xp.take(array, self.asarray(lib, index, None, device), axis=1)

    def compile(self, lib: ModuleType, fn):
        """``fn`` made fast for this library; eager libraries run it as it is."""
        return fn

    def compile_function(self, lib: ModuleType, fn):
        """A small pure function of arrays (a check read back at once) compiled, where that saves dispatches."""
        return fn

    repeat = staticmethod(repeat_eagerly)
    settle = staticmethod(settled_eagerly)

    def devices(self, lib: ModuleType) -> list[str]:
        return ["cpu"]

    def uniforms(self, lib: ModuleType, device: Any, seed: int, shapes, dtype) -> list:
        """Uniform [0, 1) arrays of ``shapes`` drawn one after another by the device's own generator."""
        raise BackendError(f"backend={self.name!r} has no device random generator; draw on the host "
                           f"(an integer seed, e.g. dropout_rng=1, the default)")


class _NumPy(_Library):
    name, module = "numpy", "numpy"

    def owns(self, array):
        return array_api_compat.is_numpy_array(array)

    def uniforms(self, lib, device, seed, shapes, dtype):
        rng = np.random.default_rng(seed)  # the fast generator, not the course's legacy stream
        return [rng.random(shape, dtype=dtype) for shape in shapes]

    def make_constant(self, xp, value, dtype, device):
        constant = super().make_constant(xp, value, dtype, device)
        constant.setflags(write=False)  # shared by every step: nothing may write into it
        return constant

    @staticmethod
    def constant_device(array):
        return "cpu"  # NumPy has one device; array_api_compat.device() costs a microsecond to say so


class _CuPy(_Library):
    name, module = "cupy", "cupy"
    install_hint = "install it with pip install 'dnn_xp[cuda12]' (or [cuda13])"

    def device(self, lib, spec):
        if spec is None:
            return 0
        text = str(spec).removeprefix("cuda:").removeprefix("cuda")
        if not text.isdigit():
            raise BackendError(f"backend='cupy' takes an integer GPU id as device; got device={spec!r}")
        return int(text)

    def probe(self, lib, device):
        try:
            with lib.cuda.Device(device):
                lib.ones(1).sum().item()
                lib.cuda.Stream.null.synchronize()
        except Exception as exc:  # CUDARuntimeError, driver or library load errors
            raise BackendError(
                f"backend='cupy' is installed but GPU {device} is not usable ({type(exc).__name__}: "
                f"{exc}); check the NVIDIA driver with nvidia-smi, or fall back with backend='numpy' "
                f"(or backend='auto', which picks NumPy when no GPU is usable)"
            ) from None

    def asarray(self, lib, array, dtype, device):
        with lib.cuda.Device(device):
            return lib.asarray(array, dtype=dtype)

    def to_numpy(self, array):
        return array.get()

    def activate(self, lib, device):
        return lib.cuda.Device(device)

    def device_of(self, array):
        return array.device.id

    def device_label(self, device):
        return f"cuda:{device}"

    def owns(self, array):
        return array_api_compat.is_cupy_array(array)

    def devices(self, lib):
        return [f"cuda:{i}" for i in range(lib.cuda.runtime.getDeviceCount())]

    def gpu(self, lib, device):
        version = lib.cuda.runtime.runtimeGetVersion()  # e.g. 12040 for CUDA 12.4
        name = lib.cuda.runtime.getDeviceProperties(device)["name"]
        return {"name": name.decode() if isinstance(name, bytes) else name,
                "cuda_runtime": f"{version // 1000}.{version % 1000 // 10}"}

    def uniforms(self, lib, device, seed, shapes, dtype):
        with lib.cuda.Device(device):
            rng = lib.random.default_rng(seed)
            return [rng.random(shape, dtype=dtype) for shape in shapes]

    @functools.cached_property
    def _graphs(self) -> "_CudaGraphs":
        return _CudaGraphs(importlib.import_module(self.module))

    def namespace(self, xp):
        return self._graphs.namespace(xp, self.make_constant)

    def repeat(self, count, body, state):
        """``body`` applied ``count`` times, replayed as one captured CUDA graph (:class:`_CudaGraphs`)."""
        return self._graphs.repeat(count, body, state)


CUDA_GRAPHS_ENV = "DNN_XP_CUDA_GRAPHS"  # "0": CuPy runs every step eagerly
GRAPH_MIN_STEPS = 8  # shorter runs stay eager: a capture costs about one eager step and an instantiation


def _array_leaves(state, is_array) -> list | None:
    """The arrays of a nest of lists and tuples, in order; None if any leaf is something else (a counter)."""
    if isinstance(state, (list, tuple)):
        leaves = []
        for part in state:
            found = _array_leaves(part, is_array)
            if found is None:
                return None
            leaves += found
        return leaves
    return [state] if is_array(state) else None


def _rebuild(like, leaves):
    """``like``'s nest of lists and tuples with its leaves taken in order from the iterator ``leaves``."""
    if isinstance(like, (list, tuple)):
        return type(like)(_rebuild(part, leaves) for part in like)
    return next(leaves)


def gemm_plan(a_shape, a_order: str, b_shape, b_order: str) -> tuple:
    """cuBLAS (column-major) arguments for the row-major product ``C = A @ B``: ``(op_b, op_a, m, n, k, ldb, lda, ldc)``.

    ``a_order``/``b_order`` are ``"C"`` (row-major) or ``"F"`` (column-major, e.g.
    a transposed view). cuBLAS computes ``C^T = B^T @ A^T`` into C's buffer read as
    column-major: ``gemm(op_b, op_a, n, m, k, B, ldb, A, lda, C, ldc=n)``, where
    an operand that is row-major is already its transpose in column-major
    (op N, ld = its columns) and a column-major one is transposed by cuBLAS
    (op T, ld = its rows). Ops: 0 is N, 1 is T.
    """
    (m, k), (_, n) = a_shape, b_shape

    def operand(shape, order):
        return (0, max(1, shape[1])) if order == "C" else (1, max(1, shape[0]))

    (op_b, ldb), (op_a, lda) = operand(b_shape, b_order), operand(a_shape, a_order)
    return op_b, op_a, n, m, k, ldb, lda, max(1, n)


class _Cublas:
    """``A @ B`` for 2-D float32/float64 CuPy arrays by cuBLAS's gemm called directly, on the current stream.

    CuPy refuses every cuBLAS call while a stream captures ("calling cuBLAS API
    during stream capture is currently unsupported", CuPy 14), although cuBLAS
    supports capture; this calls the library CuPy loaded (found in the process's
    memory maps) through ctypes, with CuPy's handle. Only captures use it
    (:attr:`capturing`): eager steps keep CuPy's own matmul, quicker to dispatch,
    so a replayed step may differ from an eager one in the last bits.
    """

    capturing = False  # set by _CudaGraphs.capture while a step is captured

    def __init__(self, lib):
        self._lib = lib
        lib.cuda.device.get_cublas_handle()  # makes CuPy load cuBLAS, if it has not yet
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if os.path.basename(line.split()[-1]).startswith("libcublas.so")}
        if not paths:
            raise OSError("CuPy's cuBLAS library is not among the process's loaded libraries")
        cublas = ctypes.CDLL(paths.pop())
        pointer, integer = ctypes.c_void_p, ctypes.c_int
        cublas.cublasSetStream_v2.argtypes = [pointer, pointer]
        cublas.cublasSetPointerMode_v2.argtypes = [pointer, integer]
        self._gemm = {}
        for dtype, name, real in ((np.float64, "cublasDgemm_v2", ctypes.c_double),
                                  (np.float32, "cublasSgemm_v2", ctypes.c_float)):
            function = getattr(cublas, name)
            function.argtypes = [pointer, integer, integer, integer, integer, integer, ctypes.POINTER(real), pointer,
                                 integer, pointer, integer, ctypes.POINTER(real), pointer, integer]
            self._gemm[np.dtype(dtype)] = (function, real(1.0), real(0.0))
        self._cublas = cublas

    def handles(self, a, b) -> bool:
        return (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype in self._gemm
                and a.shape[1] == b.shape[0])

    def matmul(self, a, b):
        lib = self._lib
        a, a_order = self._operand(a)
        b, b_order = self._operand(b)
        c = lib.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
        if c.size == 0 or a.shape[1] == 0:
            return lib.zeros_like(c) if c.size else c
        op_b, op_a, m, n, k, ldb, lda, ldc = gemm_plan(a.shape, a_order, b.shape, b_order)
        gemm, one, zero = self._gemm[a.dtype]
        handle = lib.cuda.device.get_cublas_handle()
        self._check(self._cublas.cublasSetStream_v2(handle, lib.cuda.get_current_stream().ptr), "cublasSetStream")
        self._check(self._cublas.cublasSetPointerMode_v2(handle, 0), "cublasSetPointerMode")  # host scalars
        self._check(gemm(handle, op_b, op_a, m, n, k, ctypes.byref(one), b.data.ptr, ldb, a.data.ptr, lda,
                         ctypes.byref(zero), c.data.ptr, ldc), "gemm")
        return c

    def _operand(self, x):
        if x.flags.c_contiguous:
            return x, "C"
        if x.flags.f_contiguous:
            return x, "F"
        return self._lib.ascontiguousarray(x), "C"

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"cuBLAS {what} failed with status {status}")


class Namespace:
    """A library's Array API namespace (array-api-compat's) with its own ``matmul`` and cached constants.

    The other functions are copied in as plain attributes (no lookup cost per
    call); names the module provides lazily are looked up in it.
    """

    def __init__(self, xp, matmul: Callable, label: str, make_constant: Callable,
                 may_keep: Callable[[], bool] = lambda: True, device_of: Callable = array_api_compat.device):
        self.__dict__.update({name: value for name, value in vars(xp).items() if name != "matmul"})
        self.matmul, self._xp, self._label = matmul, xp, label
        self._make_constant, self._may_keep, self._device_of, self._constants = make_constant, may_keep, device_of, {}

    def constant(self, value: float, like) -> Any:
        """``value`` as a 0-d array of ``like``'s dtype on its device, made once and then reused.

        The steps' constants (ReLU's 0, the sigmoid's 1) enter namespace functions
        as arrays (Python scalars there are standard only from 2024.12 on); making
        one costs more than the rest of a tiny layer's operation, and on a GPU it
        must not be a host copy, which a CUDA-graph capture cannot record. Callers
        never write into it.
        """
        key = (value, like.dtype, self._device_of(like))
        found = self._constants.get(key)
        if found is None:
            found = self._make_constant(self._xp, *key)
            if self._may_keep():  # not while a CUDA graph is captured: its fill would run only in replays
                self._constants[key] = found
        return found

    def __getattr__(self, name):
        if name.startswith("__") or name == "_xp":  # not set yet (unpickling) or not a namespace name
            raise AttributeError(name)
        return getattr(self._xp, name)

    def __repr__(self):
        return f"<{self._xp.__name__}, {self._label}>"


@functools.lru_cache(maxsize=None)
def operator_namespace(xp, make_constant: Callable, device_of: Callable) -> Namespace:
    """``xp`` with ``matmul`` as the ``@`` operator, which every library's arrays implement.

    For the same 2-D float operands it is the standard's ``matmul``, without
    array-api-compat's argument handling around it: on a planar step's tiny
    products 1 us less each on NumPy, 9 us on torch, and about 25 us on CuPy,
    whose ``cupy.matmul`` is a generalized ufunc. One namespace per module, so
    that backends resolved twice compare equal.
    """
    return Namespace(xp, operator.matmul, "matmul as @", make_constant, device_of=device_of)


class _CudaGraphs:
    """CuPy's runs of training steps captured once as a CUDA graph and replayed.

    :meth:`repeat` copies the state (a nest of lists and tuples of arrays) into
    buffers, captures one ``body`` step on a private stream, writing its result
    back into the buffers, and launches that graph ``count`` times: one launch
    per step instead of one per operation, the same kernels as an eager step.
    The buffers are the result. The private stream waits for the caller's
    current stream before, and the caller's stream waits for it after (events,
    no host wait). The capture is made anew for each run of steps, so nothing
    it baked in (the inputs' addresses, the learning rate) outlives the call.
    Runs shorter than :data:`GRAPH_MIN_STEPS`, states holding non-arrays (the
    mini-batch loop's counter) and ``DNN_XP_CUDA_GRAPHS=0`` run eagerly. If a
    capture fails, graphs are switched off for the process with a
    RuntimeWarning that says why, and the steps run eagerly.
    """

    def __init__(self, lib):
        self._lib = lib
        self._streams: dict[int, Any] = {}
        try:
            self._cublas: _Cublas | None = _Cublas(lib)
            self.problem: str | None = None
        except (OSError, AttributeError, RuntimeError) as exc:
            self._cublas, self.problem = None, f"cuBLAS could not be called directly ({exc})"

    @functools.lru_cache(maxsize=None)
    def namespace(self, xp, make_constant):
        """``@`` as ``matmul``, but :class:`_Cublas`'s while a step is captured; one per process."""
        cublas = self._cublas
        if cublas is None:
            return operator_namespace(xp, make_constant, array_api_compat.device)

        def matmul(a, b):
            return cublas.matmul(a, b) if cublas.capturing and cublas.handles(a, b) else a @ b

        return Namespace(xp, matmul, "matmul by cuBLAS directly while a CUDA graph is captured", make_constant,
                         may_keep=lambda: not cublas.capturing)

    def enabled(self) -> bool:
        return self.problem is None and os.environ.get(CUDA_GRAPHS_ENV, "1") != "0"

    def repeat(self, count, body, state):
        lib = self._lib
        leaves = _array_leaves(state, lambda leaf: isinstance(leaf, lib.ndarray))
        if count < GRAPH_MIN_STEPS or leaves is None or not self.enabled():
            return repeat_eagerly(count, body, state)
        current = lib.cuda.get_current_stream()
        stream = self._stream()
        stream.wait_event(current.record())
        with stream:
            buffers = [leaf.copy() for leaf in leaves]
            held = _rebuild(state, iter(buffers))
            try:
                graph = self.capture(stream, body, held, buffers)
            except Exception as exc:  # an operation the capture cannot record
                graph, self.problem = None, f"capturing a training step failed ({type(exc).__name__}: {exc})"
            else:
                for _ in range(count):
                    graph.launch(stream)
        current.wait_event(stream.record())
        if graph is None:
            warnings.warn(f"dnn_xp: CUDA graphs are off for this process: {self.problem}; "
                          f"CuPy runs each step eagerly", RuntimeWarning, stacklevel=2)
            return repeat_eagerly(count, body, state)
        return held

    def capture(self, stream, body, held, buffers):
        """A graph of one ``body`` step from ``held`` whose result is written back into ``buffers``."""
        stream.begin_capture()
        self._cublas.capturing = True
        try:
            result = _array_leaves(body(held), lambda leaf: True)
            for buffer, value in zip(buffers, result, strict=True):
                buffer[...] = value
        except BaseException:
            with contextlib.suppress(Exception):
                stream.end_capture()
            raise
        finally:
            self._cublas.capturing = False
        return stream.end_capture()

    def _stream(self):
        device = self._lib.cuda.Device().id
        if device not in self._streams:
            self._streams[device] = self._lib.cuda.Stream(non_blocking=True)
        return self._streams[device]


class _Torch(_Library):
    name, module = "torch", "torch"
    install_hint = "install it with pip install torch"

    def device(self, lib, spec):
        try:
            device = lib.device("cpu" if spec is None else spec)
        except (RuntimeError, TypeError) as exc:
            raise BackendError(f"backend='torch' cannot use device={spec!r}: {exc}") from None
        if device.type == "cuda" and device.index is None:
            device = lib.device("cuda", lib.cuda.current_device() if lib.cuda.is_available() else 0)
        return device

    def probe(self, lib, device):
        try:
            lib.ones(1, device=device).sum().item()
        except Exception as exc:
            raise BackendError(
                f"backend='torch' cannot use device {str(device)!r} ({type(exc).__name__}: {exc}); "
                f"use device='cpu' or backend='numpy'"
            ) from None

    def asarray(self, lib, array, dtype, device):
        if isinstance(array, np.ndarray) and not array.flags.writeable:
            array = array.copy()  # torch would share a read-only buffer, writable, with a warning
        return lib.asarray(array, dtype=dtype, device=device)

    def to_numpy(self, array):
        return array.detach().cpu().numpy()

    def plain(self, array):
        return array.detach()

    def device_of(self, array):
        return array.device

    def owns(self, array):
        return array_api_compat.is_torch_array(array)

    def devices(self, lib):
        return ["cpu"] + [f"cuda:{i}" for i in range(lib.cuda.device_count())]

    def gpu(self, lib, device):
        return {"name": lib.cuda.get_device_name(device), "cuda_runtime": lib.version.cuda}

    def uniforms(self, lib, device, seed, shapes, dtype):
        generator = lib.Generator(device=device)
        generator.manual_seed(seed)
        return [lib.rand(shape, generator=generator, device=device, dtype=dtype) for shape in shapes]


class _Strict(_Library):
    name, module = "array_api_strict", "array_api_strict"
    install_hint = "install it with pip install array-api-strict"

    def device(self, lib, spec):
        if spec is None:
            return lib.Device("CPU_DEVICE")
        if isinstance(spec, lib.Device):  # a resolved backend's own device, passed on
            spec = self.device_label(spec)
        names = self.devices(lib)
        if str(spec) not in names:
            raise BackendError(f"backend='array_api_strict' has devices {names}; got device={spec!r}")
        return lib.Device(str(spec))

    def asarray(self, lib, array, dtype, device):
        return lib.asarray(array, dtype=dtype, device=device)

    def to_numpy(self, array):
        cpu = type(array.device)("CPU_DEVICE")
        return np.array(np.from_dlpack(array.to_device(cpu)))

    def device_of(self, array):
        return array.device

    def owns(self, array):
        return type(array).__module__.startswith("array_api_strict")

    def device_label(self, device):
        return str(device).split("'")[1]

    def devices(self, lib):
        return [self.device_label(d) for d in lib.__array_namespace_info__().devices()]


class _Jax(_Library):
    """JAX: immutable arrays, steps compiled with ``jax.jit``, devices named as JAX names them.

    Resolving it turns on ``jax_enable_x64`` (process-wide) because dnn_xp's
    default dtype is float64, which JAX gives only with its 64-bit switch on.
    dnn_xp names the dtype of every array it makes, so float32 runs stay float32;
    JAX code of your own in the same process then gets 64-bit defaults.
    """

    name, module = "jax", "jax"
    install_hint = "install it with pip install 'dnn_xp[jax]'"
    mutable = False

    def load(self):
        jax = super().load()
        jax.config.update("jax_enable_x64", True)
        return jax

    def _all_devices(self, lib):
        found = list(lib.devices())
        return found if found[0].platform == "cpu" else found + list(lib.devices("cpu"))

    def device(self, lib, spec):
        if spec is None:
            return lib.devices()[0]
        if isinstance(spec, lib.Device):
            return spec
        names = {}
        for device in self._all_devices(lib):
            names[str(device)] = device
            for alias in (device.platform, str(device).split(":")[0]):  # "gpu" or "cuda": the first one
                names.setdefault(alias, device)
        if str(spec) not in names:
            raise BackendError(f"backend='jax' has devices {self.devices(lib)}; got device={spec!r}")
        return names[str(spec)]

    def probe(self, lib, device):
        try:
            lib.device_put(np.ones(1, dtype=np.float32), device).sum().block_until_ready()
        except Exception as exc:
            raise BackendError(f"backend='jax' cannot use device {str(device)!r} ({type(exc).__name__}: {exc}); "
                               f"use device='cpu' or backend='numpy'") from None

    def asarray(self, lib, array, dtype, device):
        return lib.numpy.asarray(array, dtype=dtype, device=device)

    def to_numpy(self, array):
        return np.array(array)

    def device_of(self, array):
        return array_api_compat.device(array)

    def device_label(self, device):
        return str(device)

    def owns(self, array):
        return array_api_compat.is_jax_array(array)

    def devices(self, lib):
        return [str(device) for device in self._all_devices(lib)]

    def compile(self, lib, fn):
        """``jax.jit(fn)``: traced once per shapes and dtypes; numbers (the trip count) stay arguments."""
        return lib.jit(fn)

    def make_constant(self, xp, value, dtype, device):
        import jax

        with jax.ensure_compile_time_eval():  # a concrete array even when first asked for inside jax.jit
            return super().make_constant(xp, value, dtype, device)

    compile_function = compile

    @staticmethod
    def repeat(count, body, state):
        """``jax.lax.fori_loop`` over ``body``: one compiled loop, ``count`` may be traced."""
        import jax

        return jax.lax.fori_loop(0, count, lambda _, current: body(current), state)


DASK_LOCAL_SCHEDULERS = ("threads", "sync")
DASK_CONNECT_TIMEOUT = 5.0  # seconds to reach a dask scheduler and find a worker, then BackendError
# Each worker process of the embedded cluster runs one single-threaded BLAS: the cores go to processes.
DASK_WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def even_chunks(m: int, count: int) -> tuple[int, ...]:
    """``m`` columns split into ``count`` chunks of nearly equal sizes, the larger first (``10, 3``: ``(4, 3, 3)``)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"chunks must be a positive number of chunks; got chunks={count!r}")
    if count > m:
        raise ValueError(f"chunks={count} is more chunks than the {m} examples; use at most chunks={m}")
    return tuple(len(part) for part in np.array_split(np.arange(m), count))


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class ChunkArrays:
    """The array library of ``backend="dask"``'s chunks: NumPy's (the default) or another NumPy-like one.

    ``to_device(block)`` makes a chunk of a host NumPy block and ``to_host(chunk)``
    the reverse, both run on the workers; ``empty(ndim, dtype)`` is a 0-size chunk,
    dask's ``meta``; ``chunk_type`` is the chunks' class. CuPy's (:func:`dask_device`
    with ``arrays="cupy"``) puts every chunk on the workers' GPUs.
    """

    name: str
    to_device: Callable
    to_host: Callable
    empty: Callable
    chunk_type: type

    def owns(self, array) -> bool:
        """Whether the dask ``array`` has chunks of this library."""
        return isinstance(array._meta, self.chunk_type)

    def place(self, array):
        """The dask ``array`` with chunks of this library: converted on the workers (a blockwise step), if not yet."""
        if self.owns(array):
            return array
        return array.map_blocks(self.to_device, dtype=array.dtype, meta=self.empty(array.ndim, array.dtype))

    def host(self, array):
        """The dask ``array`` with NumPy chunks, converted on the workers."""
        if self.chunk_type is np.ndarray:
            return array
        return array.map_blocks(self.to_host, dtype=array.dtype, meta=np.empty((0,) * array.ndim, array.dtype))


def _numpy_empty(ndim: int, dtype) -> np.ndarray:
    return np.empty((0,) * ndim, dtype)


NUMPY_CHUNKS = ChunkArrays("numpy", np.asarray, np.asarray, _numpy_empty, np.ndarray)


def _cupy_chunks() -> ChunkArrays:
    """CuPy chunks on the workers' GPUs (dask-cuda); the client needs CuPy and a GPU too, for dask's metadata."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(f"arrays='cupy' needs CuPy on the client as on the workers ({exc}); install it with "
                           f"pip install 'dnn_xp[cuda12]' (or cuda13), or use arrays='numpy'") from None
    return ChunkArrays("cupy", cupy.asarray, cupy.asnumpy, lambda ndim, dtype: cupy.empty((0,) * ndim, dtype),
                       cupy.ndarray)


def dask_device(where: Any = None, *, arrays: "str | ChunkArrays" = "numpy") -> "DaskScheduler":
    """A ``device`` for ``backend="dask"``: ``where`` as ``device=`` takes it, with chunks of ``arrays``.

    ``arrays="cupy"`` keeps every chunk on the workers' GPUs, e.g. on a
    ``dask_cuda.LocalCUDACluster`` (``where`` its ``Client``) or ``dask-cuda-worker``
    processes (``where="tcp://host:8786"``); NumPy data are scattered as NumPy and
    moved to the GPUs on the workers. Another :class:`ChunkArrays` works the same way.
    """
    base = _LIBRARIES["dask"].device(None, where)
    if isinstance(arrays, str):
        makers = {"numpy": lambda: NUMPY_CHUNKS, "cupy": _cupy_chunks}
        if arrays not in makers:
            raise BackendError(f"arrays must be 'numpy' or 'cupy' (dask chunks on the workers' GPUs); "
                               f"got arrays={arrays!r}")
        arrays = makers[arrays]()
    if arrays.chunk_type is np.ndarray:
        return base
    key = (id(base), arrays.name)
    if key not in _DASK_PLACES:
        _DASK_PLACES[key] = DaskScheduler(base.label, None if base.local else base.scheduler, owned=False,
                                          arrays=arrays)
    return _DASK_PLACES[key]


class DaskScheduler:
    """Where ``backend="dask"`` computes: a dask.distributed cluster, or one of dask's local schedulers.

    Made by :func:`resolve_backend` from ``device``: None is the embedded
    ``LocalCluster`` (one single-threaded worker process per core, started on
    first use, closed at exit), ``"tcp://host:port"`` a running scheduler,
    a ``dask.distributed.Client`` that client, ``"threads"`` or ``"sync"``
    dask's local threaded or synchronous scheduler (no cluster). One object per
    place, so networks on the same cluster share it. ``arrays`` is the chunks'
    library (:func:`dask_device`).
    """

    def __init__(self, label: str, connect=None, owned: bool = True, arrays: ChunkArrays = NUMPY_CHUNKS):
        self.label, self.arrays = label, arrays
        self._connect = connect
        self._owned = owned  # False for a Client the caller made: theirs to close
        self._client = None
        self._lock = threading.Lock()

    @property
    def local(self) -> bool:
        """Whether this is one of dask's local schedulers (no cluster, no workers)."""
        return self._connect is None

    @property
    def started(self) -> bool:
        return self.local or self._client is not None

    def scheduler(self):
        """What dask computes with here: the cluster's ``Client`` (connected on first call) or a local scheduler name."""
        if self.local:
            return self.label
        with self._lock:
            if self._client is None:
                self._client = self._connect()
        return self._client

    def close(self) -> None:
        """Close the client dnn_xp opened here (and the embedded cluster); the next use connects or starts anew.

        dask's default scheduler then reverts to what it was. A Client you passed is left open.
        """
        with self._lock:
            client, self._client = self._client, None
        if client is None or not self._owned:
            return
        cluster = client.cluster if self.label == "local-cluster" else None
        client.close()
        if cluster is not None:
            cluster.close()

    def workers(self) -> dict[str, dict]:
        """``{address: {"threads": n, "memory": bytes}}`` of the cluster's workers (starts the cluster)."""
        if self.local:
            return {}
        info = self.scheduler().scheduler_info(n_workers=-1)["workers"]
        return {address: {"threads": w["nthreads"], "memory": w["memory_limit"]} for address, w in info.items()}

    def threads(self) -> int:
        """The cluster's worker threads (the default chunk count of scattered data); 1 on a local scheduler."""
        return max(1, sum(w["threads"] for w in self.workers().values()))

    def describe(self) -> str:
        """One line for ``dnn-xp info``: the scheduler, its workers, threads and memory."""
        if self.local:
            return f"dask's local {self.label!r} scheduler in this process (no cluster)"
        if not self.started and self.label == "local-cluster":
            return (f"embedded LocalCluster, not started: {_usable_cores()} worker processes of 1 thread each "
                    f"(single-threaded BLAS), started by the first fit, closed at exit")
        workers = self.workers()
        memory = sum(w["memory"] or 0 for w in workers.values()) / 2**30
        return (f"scheduler {self.scheduler().scheduler.address}, {len(workers)} workers, "
                f"{sum(w['threads'] for w in workers.values())} threads, {memory:.1f} GiB memory, "
                f"{self.arrays.name} chunks")

    def __repr__(self) -> str:
        arrays = "" if self.arrays is NUMPY_CHUNKS else f", arrays={self.arrays.name!r}"
        return f"DaskScheduler({self.label!r}{arrays})"


_DASK_PLACES: dict = {}
_LOCAL_PLACE = DaskScheduler("threads")  # how arrays of no named place (backend_of a dask array) are split


def _embedded_client():
    from distributed import Client, LocalCluster

    try:
        cluster = LocalCluster(n_workers=_usable_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=":0", env=DASK_WORKER_ENV)
    except Exception as exc:  # a worker process that cannot start: spawn, memory, ports
        raise BackendError(f"backend='dask' could not start its embedded LocalCluster ({type(exc).__name__}: "
                           f"{exc}); a script that trains on it needs `if __name__ == '__main__':` (dask starts "
                           f"worker processes by spawning), or pass device='tcp://...' or device='threads'") from None
    client = Client(cluster)
    atexit.register(_close_embedded, client, cluster)
    return client


def _close_embedded(client, cluster) -> None:
    with contextlib.suppress(Exception):  # at exit: the event loop may already be gone
        client.close()
        cluster.close()


def _address_client(address: str):
    def connect():
        from distributed import Client

        hint = (f"start one with `dask scheduler` and `dask worker {address}`, or use device=None for an "
                f"embedded cluster (or device='threads' for dask's local scheduler)")
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"backend='dask' cannot reach the dask scheduler at {address!r} within "
                               f"{DASK_CONNECT_TIMEOUT:g} s ({type(exc).__name__}: {exc}); {hint}") from None
        try:
            client.wait_for_workers(1, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            client.close()
            raise BackendError(f"the dask scheduler at {address!r} has no workers after "
                               f"{DASK_CONNECT_TIMEOUT:g} s; {hint}") from None
        return client

    return connect


class _Dask(_Library):
    """dask arrays with NumPy chunks, chunked along the columns (the examples), on a dask cluster.

    ``device`` is a :class:`DaskScheduler` (see there: the embedded LocalCluster
    by default, a scheduler address, a Client, or ``"threads"``/``"sync"``).
    Examples (``X``, ``Y``: :meth:`Backend.examples`) given as NumPy arrays are
    scattered to the workers once, in one chunk per worker thread (or
    ``chunks``); dask arrays are persisted on the cluster as they are chunked.
    Weights are small single-chunk arrays. Lazy arrays grow a task graph with
    every step, so each compiled run of steps (:meth:`compile`) ends in one
    ``dask.persist``: the new weights stay on the workers, and on a cluster they
    are then anchored (:func:`_anchor`) so that the scheduler keeps no lineage of
    past runs. The client reads the recorded costs and, once per run, the weights.
    """

    name, module = "dask", "dask.array"
    install_hint = "install it with pip install 'dnn_xp[dask]'"
    mutable = False

    def namespace(self, xp):
        """Products of chunks made aligned first (:func:`_aligned_matmul`): the same bits wherever a chunk was."""
        return _aligned_namespace(xp, self.make_constant, self.constant_device)

    def device(self, lib, spec):
        if isinstance(spec, DaskScheduler):
            return spec
        if spec is None or spec == "local-cluster":
            key, make = "local-cluster", lambda: DaskScheduler("local-cluster", _embedded_client)
        elif isinstance(spec, str) and spec in DASK_LOCAL_SCHEDULERS:
            key, make = spec, lambda: DaskScheduler(spec)
        elif isinstance(spec, str) and "://" in spec:
            key, make = spec, lambda: DaskScheduler(spec, _address_client(spec))
        elif type(spec).__name__ == "Client" and type(spec).__module__.startswith("distributed"):
            key, make = ("client", id(spec)), lambda: DaskScheduler(str(spec.scheduler.address), lambda: spec,
                                                                  owned=False)
        else:
            raise BackendError(f"backend='dask' takes device=None (an embedded dask.distributed LocalCluster), a "
                               f"scheduler address such as 'tcp://host:8786', a dask.distributed.Client, or "
                               f"'threads'/'sync' (dask's local schedulers); got device={spec!r}")
        if key not in _DASK_PLACES:
            _DASK_PLACES[key] = make()
        return _DASK_PLACES[key]

    def probe(self, lib, device):
        """A local scheduler computes a sum; a remote cluster is reached now; the embedded one starts on first use."""
        if device.local:
            lib.ones(1).sum().compute(scheduler=device.label)
        elif device.label != "local-cluster":
            device.scheduler()

    def asarray(self, lib, array, dtype, device):
        array = np.asarray(array, dtype=dtype)
        local = device is None or device.local  # None: an array's own backend (backend_of), any scheduler
        dask_array = lib.from_array(array, chunks=(-1, "auto") if array.ndim == 2 and local else -1, name=False)
        return dask_array if device is None else device.arrays.place(dask_array)

    def make_constant(self, xp, value, dtype, device):
        """A NumPy scalar of ``dtype``: no task in any graph, and chunks of any library (CuPy's too) take it."""
        return np.dtype(dtype).type(value)

    def host_examples(self, lib, array, dtype, device):
        return np.asarray(array, dtype=dtype)  # split (scattered) next, by split_examples

    def split_examples(self, lib, array, device, chunks, like):
        """``array: (n, m)`` (NumPy or dask) split along its columns: scattered or persisted on the cluster."""
        m = array.shape[1]
        device = device or _LOCAL_PLACE
        if like is not None:
            columns = tuple(like.chunks[1])
        elif chunks is None:
            columns = None if device.local else even_chunks(m, min(m, device.threads()))
        else:
            columns = even_chunks(m, chunks) if isinstance(chunks, int) else tuple(chunks)
        if columns is not None and sum(columns) != m:
            raise ValueError(f"chunks={chunks!r} splits {sum(columns)} columns, but the array has {m}")
        if isinstance(array, np.ndarray):
            if device.local:
                return device.arrays.place(lib.from_array(array, chunks=(-1, columns or "auto"), name=False))
            client = device.scheduler()
            edges = np.cumsum((0,) + columns)
            parts = client.scatter([np.ascontiguousarray(array[:, a:b]) for a, b in zip(edges[:-1], edges[1:])])
            blocks = [lib.from_delayed(part, shape=(array.shape[0], b - a), dtype=array.dtype)
                      for part, a, b in zip(parts, edges[:-1], edges[1:])]
            whole = blocks[0] if len(blocks) == 1 else lib.concatenate(blocks, axis=1)
            return client.persist(device.arrays.place(whole))
        if columns is not None and tuple(array.chunks[1]) != columns:
            array = array.rechunk((-1, columns))
        array = device.arrays.place(array)
        if not device.local:
            array = device.scheduler().persist(array)
        return array

    def column_chunks(self, array):
        return tuple(array.chunks[1])

    def take_columns(self, lib, xp, array, index, device):
        """Columns ``index`` one piece per chunk, each taken where its chunk lies: no data crosses workers."""
        edges = np.cumsum((0,) + tuple(array.chunks[1]))
        owner = np.searchsorted(edges, index, side="right") - 1
        pieces = [array.blocks[0, j][:, index[owner == j] - edges[j]] for j in range(len(edges) - 1)
                  if np.any(owner == j)]
        return pieces[0] if len(pieces) == 1 else lib.concatenate(pieces, axis=1)

    def to_numpy(self, array):
        """Computed by the client whose futures ``array`` starts from (anchored weights), else by dask's current scheduler."""
        client = _futures_client(array)
        array = next((arrays for arrays in _chunk_libraries() if arrays.owns(array)), NUMPY_CHUNKS).host(array)
        return np.asarray(array.compute() if client is None else client.compute(array, sync=True))

    def owns(self, array):
        return array_api_compat.is_dask_array(array)

    def activate(self, lib, device):
        import dask

        if device is None:
            return contextlib.nullcontext()
        if device.local:
            return dask.config.set(scheduler=device.label)
        # The client as the current one (a context variable), not in dask.config: a nanny restarting a
        # worker pickles the config, and a Client cannot be pickled.
        return device.scheduler().as_current()

    def device_label(self, device):
        return "dask" if device is None else device.label

    def namespace_device(self, device):
        return None

    def devices(self, lib):
        return ["local-cluster", *DASK_LOCAL_SCHEDULERS]

    def compile(self, lib, fn):
        """``fn`` ending in one :meth:`settle` of all its results (weights, state, costs).

        One persist per call, not per step: a key left unpersisted in one step's
        graph (the cost's logits) would be fused otherwise in a later graph, which
        the scheduler flags as two tasks for one key (dask/dask#9888).
        """
        return lambda *args: self.settle(fn(*args))

    def settle(self, state):
        """``state``'s dask arrays (in lists, tuples, dicts) computed in one ``dask.persist``; on a cluster then anchored.

        The results are graphs of one task per chunk holding the values, so the next
        step's graph starts from them instead of from every step before (:func:`_anchor`
        drops a cluster's lineage too).
        """
        import dask
        import dask.array

        result = dask.persist(state)[0]
        client = _cluster_client()
        return result if client is None else _anchor(client, dask.array, result)


def _chunk_libraries() -> list[ChunkArrays]:
    """The chunk libraries of the dask places made so far (NumPy's first)."""
    return [NUMPY_CHUNKS] + [place.arrays for place in _DASK_PLACES.values() if place.arrays is not NUMPY_CHUNKS]


def _aligned_block(block):
    """``block`` itself, or where its memory is not aligned to its dtype, a copy in the same memory order."""
    return block if getattr(block.flags, "aligned", True) else block.copy(order="A")


def _aligned_matmul(a, b):
    """``a @ b`` of 2-D dask arrays as dask's own ``matmul`` computes it, each pair of chunks made aligned first.

    A chunk that crossed workers can arrive at an address that is not a multiple
    of its item size, and NumPy multiplies such an array with its own loop
    instead of BLAS, which rounds differently: the same training would give
    other last bits depending on where the scheduler ran each task. As in dask's
    ``matmul``, chunk pairs are multiplied blockwise (``(n, 1, p)`` per pair along
    the contracted axis), then summed over that axis in chunk order; the
    alignment (:func:`_aligned_block`) is inside each product's task.
    """
    import dask.array as da

    products = da.blockwise(_aligned_product, "ikj", a, "ik", b, "kj", adjust_chunks={"k": 1},
                            dtype=np.result_type(a.dtype, b.dtype), concatenate=False, meta=a._meta)
    return products[:, 0, :] if products.shape[1] == 1 else products.sum(axis=1)


def _aligned_product(a, b):
    """``a @ b`` of two chunks, made aligned first, as ``(n, 1, p)``."""
    return (_aligned_block(a) @ _aligned_block(b))[:, None, :]


@functools.lru_cache(maxsize=None)
def _aligned_namespace(xp, make_constant: Callable, device_of: Callable) -> Namespace:
    return Namespace(xp, _aligned_matmul, "matmul of aligned chunks", make_constant, device_of=device_of)


def _futures_client(array):
    """The dask.distributed Client of the first Future in ``array``'s graph (weights :func:`_anchor` made), or None.

    Such an array computes only on that client's cluster, which need not be dask's
    current scheduler (a ``Client(..., set_as_default=False)`` passed as ``device``).
    """
    return next((value.client for value in array.__dask_graph__().values()
                 if type(value).__name__ == "Future" and type(value).__module__.startswith("distributed")), None)


def _cluster_client():
    """The dask.distributed Client dask computes with now (dask's current scheduler), or None for a local one."""
    from dask.base import get_scheduler

    owner = getattr(get_scheduler(), "__self__", None)
    return owner if hasattr(owner, "scatter") else None


def _anchor(client, lib, tree):
    """``tree``'s dask arrays (weights, optimizer state, a cost) gathered once and put back as data in the graph.

    Each persisted step depends on the one before, and the scheduler keeps that
    lineage to recompute lost results, so it would grow with every iteration. At
    the end of each compiled run (a recorded chunk of iterations, or an epoch) the
    small results come to the client and become arrays whose graph holds their
    values (``from_array``): the next run's graph starts from them, so the
    scheduler holds one run's tasks, and a worker that dies loses no run's
    starting point, since the scheduler can always make them again. (Scattered
    copies would not do: a worker killed while a broadcast is under way can take
    the only copy with it, which fails the fit.)
    """
    leaves = []

    def collect(node):
        if array_api_compat.is_dask_array(node):
            leaves.append(node)
            return _Slot(len(leaves) - 1, node.shape, node.dtype, node._meta)
        return _map_tree(collect, node)

    def rebuild(node):
        if isinstance(node, _Slot):
            value = values[node.index]
            return lib.from_array(value, chunks=value.shape, asarray=False, name=False, meta=node.meta)
        return _map_tree(rebuild, node)

    skeleton = collect(tree)
    values = [value if hasattr(value, "shape") else np.asarray(value) for value in client.gather(client.compute(leaves))]
    return rebuild(skeleton)


@dataclass(frozen=True)
class _Slot:
    """Where :func:`_anchor` took a dask array out of a result: its place among the gathered values."""

    index: int
    shape: tuple
    dtype: Any
    meta: Any  # a 0-size chunk: the chunks' library


def _map_tree(fn, node):
    """``fn`` applied to the items of a list, tuple or dict (one level); any other ``node`` as it is."""
    if isinstance(node, (list, tuple)):
        return type(node)(fn(item) for item in node)
    if isinstance(node, dict):
        return {key: fn(item) for key, item in node.items()}
    return node


_LIBRARIES = {lib.name: lib for lib in (_NumPy(), _CuPy(), _Torch(), _Strict(), _Jax(), _Dask())}
BACKENDS = tuple(_LIBRARIES) + ("auto",)


@dataclass(frozen=True)
class Backend:
    """An array library resolved once: its Array API namespace ``xp`` and a device."""

    name: str
    xp: ModuleType
    device: Any
    _library: _Library
    _module: ModuleType

    @functools.cached_property
    def _floating(self) -> dict:
        return self.xp.__array_namespace_info__().dtypes(device=self._library.namespace_device(self.device), kind="real floating")

    @property
    def float_dtypes(self) -> tuple[str, ...]:
        """The names of :data:`DTYPES` the device has (array_api_strict's ``no_float64``: float32 only)."""
        return tuple(name for name in DTYPES if name in self._floating)

    @property
    def default_float(self) -> str:
        """``"float64"`` where the device has it, else ``"float32"``: the weights' dtype when none is named."""
        return "float64" if "float64" in self._floating else "float32"

    def dtype(self, name: str) -> Any:
        """The namespace's dtype object for ``"float32"`` or ``"float64"``, if the device has it."""
        if name not in self._floating:
            raise BackendError(f"backend={self.name!r} on device {self.device_label!r} has no {name}; "
                               f"use dtype={next(iter(self._floating))!r}")
        return self._floating[name]

    @property
    def integer_dtype(self) -> Any:
        """The library's default integer dtype on the device (int32 on a device without 64-bit types)."""
        return self.xp.__array_namespace_info__().default_dtypes(device=self._library.namespace_device(self.device))["integral"]

    def asarray(self, array: Any, dtype: Any = None, name: str = "array") -> Any:
        """Move a host (NumPy) array, or check an array of this backend, onto the device.

        Arrays of this backend that are already on the device are returned as they
        are (cast to ``dtype`` when it differs); arrays of another library or device
        raise, since a silent copy would hide a transfer. ``name`` is the argument
        named in those errors.
        """
        if self._library.owns(array):
            where = self._library.device_of(array)
            if where is not None and where != self.device:  # None: not tied to a device (dask)
                raise ValueError(
                    f"{name} is on device {where!r} but the backend uses {self.device!r}; "
                    f"move it with dnn_xp.to_numpy() or pick device={where!r}"
                )
            array = self._library.plain(array)
            return array if dtype is None or array.dtype == dtype else self.xp.astype(array, dtype)
        found = _library_of(array)
        if found not in (None, "numpy"):
            switch = f"use backend={found!r}, or " if found in _LIBRARIES else ""
            raise TypeError(
                f"{name} is a {found} array but the network's backend is {self.name!r}; "
                f"{switch}convert it yourself, e.g. np.asarray({name}) (dnn_xp never copies between "
                f"array libraries behind your back)"
            )
        return self._library.asarray(self._module, np.asarray(array), dtype, self.device)

    def owns(self, array: Any) -> bool:
        return self._library.owns(array)

    def examples(self, array: Any, dtype: Any = None, name: str = "X", chunks=None, like: Any = None) -> Any:
        """An ``(n, m)`` array whose columns are examples (``X``, ``Y``), on the device as :meth:`asarray` puts it.

        On dask the examples are split along the columns, once: into ``chunks``
        chunks (a count, or the column counts as dask writes chunks; default one
        per worker thread of the cluster) or as ``like`` (an examples array) is
        split. NumPy data is scattered to the workers, dask arrays are persisted
        on the cluster. Other libraries ignore ``chunks`` and ``like``.
        """
        if isinstance(array, np.ndarray):
            array = self._library.host_examples(self._module, array, dtype, self.device)
        else:
            array = self.asarray(array, dtype, name)
        return self._library.split_examples(self._module, array, self.device, chunks, like)

    def column_chunks(self, array: Any) -> tuple[int, ...] | None:
        """The column counts of ``array``'s chunks along the examples (dask), or None where it is one array."""
        return self._library.column_chunks(array)

    def take_columns(self, array: Any, index: np.ndarray) -> Any:
        """``array[:, index]`` for a host int64 ``index``; on dask one piece per chunk, taken on its worker."""
        return self._library.take_columns(self._module, self.xp, array, index, self.device)

    @property
    def mutable(self) -> bool:
        """Whether the library's in-place operators write into the array (NumPy, CuPy, torch, strict)."""
        return self._library.mutable

    @property
    def accumulate(self):
        """``accumulate(total, term) -> total + term``, chosen once for this library.

        In place into ``total`` where arrays are :attr:`mutable` (``operator.iadd``:
        no new array), a new array otherwise (``operator.add``). Callers always keep
        the result, so both are correct; ``total`` must be an array only they hold.
        """
        return operator.iadd if self._library.mutable else operator.add

    def uniforms(self, seed: int, shapes, dtype) -> list:
        """Uniform [0, 1) arrays drawn on the device by the library's own generator (opt-in dropout masks).

        Fast, but the numbers differ from library to library (and from the host
        generator); BackendError where the library has none (array_api_strict).
        """
        return self._library.uniforms(self._module, self.device, seed, shapes, dtype)

    def compile(self, fn):
        """The one hook through which the training loop lets the backend compile its steps.

        ``fn(*args, repeat)`` is a pure function of arrays (and Python numbers) that
        runs its repeated steps as ``repeat(count, body, state)``. The result takes
        ``*args`` only. NumPy, torch and array_api_strict run ``fn`` as it is, with a
        Python loop for ``repeat``; CuPy too, and this is where a CUDA-graph capture
        would go. JAX returns ``jax.jit(fn)`` with a ``jax.lax.fori_loop`` for
        ``repeat``; dask ends each call with one ``dask.persist`` of the results.
        """
        return self._library.compile(self._module, functools.partial(fn, repeat=self._library.repeat))

    @property
    def settle(self):
        """``settle(state) -> state``: a loop's state (arrays in lists, tuples, dicts) made concrete, once per iteration.

        For loops written step by step in Python (the course's models): calling it on
        the parameters at the end of each iteration keeps a lazy library's work to one
        iteration's. dask persists them (as :meth:`compile` ends its runs); every other
        library returns ``state`` itself, so it costs one function call. Settle all an
        iteration keeps in one call (a lazy value kept past it may clash with the settled
        keys on a cluster, dask/dask#9888). Chosen once: take it before the loop.
        """
        return self._library.settle

    def compile_function(self, fn):
        """``fn(*args)``, a small pure function of arrays without repeated steps, compiled where that pays.

        For the loop's device-side checks that are read back at once (are the
        weights finite?): ``jax.jit`` on JAX, one dispatch instead of one per
        operation; the other libraries run ``fn`` as it is (dask computes it when read).
        """
        return self._library.compile_function(self._module, fn)

    def activate(self):
        """A context making the backend's device current, so kernels run where the arrays are.

        CuPy launches on its current GPU, not the arrays' one; other libraries need nothing.
        """
        return self._library.activate(self._module, self.device)

    @property
    def device_label(self) -> str:
        """The device as a short name: ``"cpu"``, ``"cuda:0"``, ``"device1"``."""
        return self._library.device_label(self.device)

    def __repr__(self) -> str:
        device = "" if self.device is None else f", device={str(self.device)!r}"
        return f"Backend({self.name!r}{device})"


def _library_of(array: Any) -> str | None:
    """The Array API library of ``array`` as array-api-compat finds it (``"jax"``, ``"dask"``,
    ``"ndonnx"``, ...), or None for what is no array of one (lists, scalars)."""
    try:
        namespace = array_api_compat.array_namespace(array)
    except TypeError:
        return None
    return namespace.__name__.removeprefix("array_api_compat.").split(".")[0]


def _owner(array: Any) -> _Library | None:
    return next((lib for lib in _LIBRARIES.values() if lib.owns(array)), None)


def default_backend_name() -> str:
    """The backend used when none is named: ``$DNN_XP_BACKEND`` or ``"numpy"``."""
    return os.environ.get(ENV_VAR, "").strip() or "numpy"


def resolve_backend(name: str | None = None, device: Any = None) -> Backend:
    """Resolve a backend name (None: the default) and device, probing that it works."""
    from_environment = name is None
    name = default_backend_name() if name is None else name
    if name == "auto":
        return _resolve_auto(device)
    if name not in _LIBRARIES:
        if from_environment:
            raise BackendError(f"the environment variable {ENV_VAR}={name!r} names no backend; set it to one of "
                               f"{', '.join(BACKENDS)}, or unset it to use numpy")
        raise BackendError(f"unknown backend={name!r}; choose one of {', '.join(BACKENDS)}")
    library = _LIBRARIES[name]
    module = library.load()
    native_device = library.device(module, device)
    library.probe(module, native_device)
    probe_array = library.asarray(module, np.zeros(1, dtype=np.float32), None, native_device)  # float32: every device has it
    xp = library.namespace(array_api_compat.array_namespace(probe_array))
    return Backend(name, xp, native_device, library, module)


def _resolve_auto(device: Any) -> Backend:
    try:
        return resolve_backend("cupy", device)
    except BackendError:
        return resolve_backend("numpy")


def backend_of(array: Any) -> Backend:
    """The backend (library and device) an array already lives on; NumPy for array-likes."""
    library = _owner(array) or _LIBRARIES["numpy"]
    module = library.load()
    xp = library.namespace(array_api_compat.array_namespace(np.asarray(array) if library.name == "numpy" else array))
    return Backend(library.name, xp, library.device_of(array), library, module)


def to_numpy(array: Any) -> np.ndarray:
    """A host NumPy copy (or view, for NumPy input) of an array of any backend."""
    library = _owner(array) or _LIBRARIES["numpy"]
    return library.to_numpy(array)


def describe_backends() -> list[dict]:
    """For each backend: installed?, usable?, devices seen (and those without float64), why not usable."""
    rows = []
    for name, library in _LIBRARIES.items():
        row = {"backend": name, "installed": False, "usable": False, "devices": [], "float32_only": [], "reason": ""}
        try:
            module = library.load()
            row["installed"] = True
            resolve_backend(name)
            row["usable"] = True
            row["devices"] = library.devices(module)
            row["float32_only"] = [device for device in row["devices"]
                                   if "float64" not in resolve_backend(name, device).float_dtypes]
        except Exception as exc:  # report, never raise: this feeds `dnn-xp info`
            row["reason"] = str(exc)
        rows.append(row)
    return rows


def _nvidia_driver() -> str | None:
    """The NVIDIA kernel driver's version (``580.159.04``) from /proc, or None where it is not there."""
    try:
        text = Path("/proc/driver/nvidia/version").read_text()
    except OSError:
        return None
    found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)", text)
    return found.group(1) if found else None


def gpu_info() -> dict | None:
    """The first usable GPU, as CuPy (else torch) sees it: name, driver, CUDA runtime, library; None if none."""
    for name, device in (("cupy", None), ("torch", "cuda")):
        try:
            backend = resolve_backend(name, device)
        except BackendError:
            continue
        info = backend._library.gpu(backend._module, backend.device)  # name, CUDA runtime
        return {**info, "driver": _nvidia_driver(), "seen_by": name}
    return None


def host_rng(seed: int | None) -> np.random.RandomState:
    """The seeded legacy NumPy generator the course uses; all random draws come from it."""
    return np.random.RandomState(check_seed(seed))
