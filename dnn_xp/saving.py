"""Model files: an ``.npz`` of host arrays plus a JSON description, written atomically.

The description carries ``format_version`` (:data:`FORMAT_VERSION`); a newer
version is refused, a file without one (written before it existed) reads as version 0.
The file opens with ``numpy.load(path, allow_pickle=False)``: parameters are the
arrays ``W1, b1, ...`` and the description is the 0-d string array ``__meta__``.

Every file written here (models, checkpoints, prediction tables) goes to a
temporary file ``.<name>.<pid>.<random>.tmp`` next to the target and is renamed
over it, so the target is always the old or the new complete file. SIGTERM (and
Ctrl-C) during a write remove the temporary file before the process ends; a
temporary file left by a process killed outright is removed by the next write
of the same target once its process is gone.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import threading
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from . import __version__
from .validation import check_fits_in_memory

FORMAT = "dnn_xp-model"
# The layout of the file. Raise it when a change would make older dnn_xp misread a file;
# files from before the number existed (no "format_version") are version 0 and read the same.
FORMAT_VERSION = 1
META_KEY = "__meta__"
ZIP_SIGNATURE = b"PK\x03\x04"
ARRAY_SUFFIX = ".npy"
READABLE_KINDS = "biufcU"  # numbers, and the description's string; never objects


# ---------------------------------------------------------------------- writing
def write_model(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, then rename)."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the description")
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **meta},
                                            allow_nan=False))
    return write_atomically(path, lambda handle: np.savez(handle, **payload))


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, like a model."""
    return write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))


def write_atomically(path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    An interrupted write (an exception, SIGTERM, Ctrl-C) leaves the previous file intact and no
    temporary file behind; a replaced file keeps its permissions, a new one follows the umask.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {str(path)!r}: it is a folder; "
                                f"give a file name such as model{path.suffix or '.npz'}")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save {str(path)!r}: folder {str(folder)!r} does not exist")
    remove_stale_temporaries(path)
    tmp = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with _removed_on_termination(tmp):
        try:
            # O_EXCL: never reuse a file; mode 0o666 lets the process umask apply, as for any new file.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as handle:
                if path.exists():
                    os.chmod(tmp, path.stat().st_mode & 0o777)  # a replaced file keeps its permissions
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _sync_folder(folder)
    return path


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporary files of earlier writes of ``path`` whose process is gone; returns them.

    Only names of this module's pattern for this very target are considered, and
    only on POSIX, where whether a process exists can be asked without touching it.
    """
    path = Path(path)
    if os.name != "posix" or not path.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{32}}\.tmp")
    removed = []
    for candidate in path.parent.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match and not _process_exists(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):  # another writer removed it first
                candidate.unlink()
                removed.append(candidate)
    return removed


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True  # maybe a write in progress in another thread
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or a number no process can have): leave it
    return True


@contextlib.contextmanager
def _removed_on_termination(tmp: Path):
    """While the body runs, SIGTERM or SIGHUP remove ``tmp``, then end the process as they would have.

    The handler raises nothing, so a signal that lands anywhere (even while the previous
    handlers are put back) ends the process the usual way, with nothing left behind.
    Only signals left at their default action are taken over, and only in the main
    thread (the one Python delivers signals to). SIGINT raises KeyboardInterrupt, which
    the write's own clean-up handles.
    """

    def die(signum, frame):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # the default action: the process ends here

    taken = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                taken[signum] = signal.signal(signum, die)
    try:
        yield
    finally:
        for signum, previous in taken.items():
            signal.signal(signum, previous)


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows opening a folder (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- reading
def is_zip(path) -> bool:
    """Whether the file starts like a zip archive, as every ``.npz`` does."""
    with open(path, "rb") as handle:
        return handle.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE


def read_model(path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and description stored by :func:`write_model`; ValueError if not such a file.

    Each array's header is checked against the bytes the archive holds before
    anything is allocated, so a damaged or hostile file cannot ask for memory it
    does not back with data.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"model file {str(path)!r} is a folder; give the .npz file inside it "
                                f"that dnn-xp train --save or Network.save wrote")
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if not is_zip(path):
        raise ValueError(f"{str(path)!r} is not a dnn_xp model: it is not an .npz (zip) archive")
    if _is_torch_archive(path):
        raise ValueError(f"{str(path)!r} is a PyTorch file (torch.save), not a dnn_xp model; dnn_xp reads "
                         f"the .npz files that Network.save writes (Network.from_parameters takes W1, b1, ...)")
    try:
        arrays = read_arrays(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{str(path)!r} is not a readable dnn_xp model; it may be truncated or corrupt ({exc})"
        ) from None
    if META_KEY not in arrays:
        raise ValueError(f"{str(path)!r} is an .npz file but not a dnn_xp model (no {META_KEY!r} entry)")
    description = arrays.pop(META_KEY)
    if description.dtype.kind != "U" or description.ndim != 0:
        raise ValueError(f"{str(path)!r} has a corrupt model description: {META_KEY!r} is not a text")
    try:
        meta = json.loads(str(description), parse_constant=_refuse_constant)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{str(path)!r} has a corrupt model description: {exc}") from None
    found = meta.get("format") if isinstance(meta, dict) else meta
    if found != FORMAT:
        raise ValueError(f"{str(path)!r} is not a dnn_xp model (its description names format {found!r})")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"{str(path)!r} has a corrupt model description: format_version {version!r} "
                         f"is not a non-negative integer")
    if version > FORMAT_VERSION:
        raise ValueError(f"{str(path)!r} is a dnn_xp model of format version {version}, newer than this "
                         f"dnn_xp {__version__} reads (up to {FORMAT_VERSION}); upgrade dnn_xp to load it")
    return arrays, meta


def _is_torch_archive(path) -> bool:
    """Whether the zip is one ``torch.save`` wrote: its members sit beside a ``data.pkl``."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.rsplit("/", 1)[-1] == "data.pkl" for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _refuse_constant(name: str):
    raise ValueError(f"it holds {name}, which is not a number a description may hold")


def read_arrays(path) -> dict[str, np.ndarray]:
    """The ``.npy`` members of the zip archive ``path``, each read only after its header checks out."""
    archive_size = Path(path).stat().st_size
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(ARRAY_SUFFIX):
                raise ValueError(f"member {info.filename!r} is not an array ({ARRAY_SUFFIX})")
            stored = info.compress_type == zipfile.ZIP_STORED
            if stored and (info.compress_size != info.file_size or info.compress_size > archive_size):
                raise ValueError(f"member {info.filename!r} claims {info.file_size} bytes, more than the file holds")
            with archive.open(info) as member:
                arrays[info.filename[: -len(ARRAY_SUFFIX)]] = _read_member(member, info)
    return arrays


def _read_member(member, info: zipfile.ZipInfo) -> np.ndarray:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"member {info.filename!r} has .npy format version {version}, not 1.0 or 2.0")
    name = info.filename[: -len(ARRAY_SUFFIX)]
    if dtype.hasobject or dtype.kind not in READABLE_KINDS or dtype.itemsize == 0:
        raise ValueError(f"array {name!r} has dtype {dtype}, not numbers")
    declared = math.prod(shape) * dtype.itemsize
    held = info.file_size - member.tell()
    if declared != held:
        raise ValueError(f"array {name!r} declares shape {shape} of {dtype} ({declared} bytes) "
                         f"but the archive holds {held} bytes for it")
    check_fits_in_memory(math.prod(shape), dtype.itemsize, f"array {name!r} of shape {shape}")
    raw = np.empty(declared, np.uint8)
    view, filled = memoryview(raw), 0
    while filled < declared:
        count = member.readinto(view[filled:])
        if not count:
            raise EOFError(f"array {name!r} ends after {filled} of {declared} bytes")
        filled += count
    if member.read(1):  # reaching the end also checks the member's CRC-32
        raise ValueError(f"array {name!r} is followed by unexpected bytes")
    return raw.view(dtype).reshape(shape, order="F" if fortran else "C")
