"""Model files: an ``.npz`` of host arrays plus a JSON description, written atomically.

The description carries ``format_version`` (:data:`FORMAT_VERSION`); a newer
version is refused, a file without one (written before it existed) reads as version 0.
The file opens with ``numpy.load(path, allow_pickle=False)``: parameters are the
arrays ``W1, b1, ...`` and the description is the 0-d string array ``__meta__``.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from . import __version__

FORMAT = "dnn_xp-model"
# The layout of the file. Raise it when a change would make older dnn_xp misread a file;
# files from before the number existed (no "format_version") are version 0 and read the same.
FORMAT_VERSION = 1
META_KEY = "__meta__"
ZIP_SIGNATURE = b"PK\x03\x04"


def write_model(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, then rename)."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the description")
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **meta}))
    return write_atomically(path, lambda handle: np.savez(handle, **payload))


def write_atomically(path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, flush it to disk, rename it over ``path``.

    An interrupted write leaves the previous file intact and no temporary file behind;
    a replaced file keeps its permissions, a new one follows the umask.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {str(path)!r}: it is a folder; "
                                f"give a file name such as model{path.suffix or '.npz'}")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save {str(path)!r}: folder {str(folder)!r} does not exist")
    tmp = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    # O_EXCL: never reuse a file; mode 0o666 lets the process umask apply, as for any new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
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


def is_zip(path) -> bool:
    """Whether the file starts like a zip archive, as every ``.npz`` does."""
    with open(path, "rb") as handle:
        return handle.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE


def read_model(path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and description stored by :func:`write_model`; ValueError if not such a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if not is_zip(path):
        raise ValueError(f"{str(path)!r} is not a dnn_xp model: it is not an .npz (zip) archive")
    try:
        # np.load(path) leaks the handle it opened when the zip directory is damaged
        # (numpy 2.4: NpzFile raises after ownership moved to it), so the file is opened here.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{str(path)!r} is not a readable dnn_xp model; it may be truncated or corrupt ({exc})"
        ) from None
    if META_KEY not in arrays:
        raise ValueError(f"{str(path)!r} is an .npz file but not a dnn_xp model (no {META_KEY!r} entry)")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as exc:
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
