"""Model files: an ``.npz`` of host arrays plus a JSON description, written atomically.

The file opens with ``numpy.load(path, allow_pickle=False)``: parameters are the
arrays ``W1, b1, ...`` and the description is the 0-d string array ``__meta__``.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

FORMAT = "dnn_xp-model"
META_KEY = "__meta__"
ZIP_SIGNATURE = b"PK\x03\x04"


def write_model(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the description")
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps({"format": FORMAT, **meta}))
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save {str(path)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(tmp, _file_mode(path))
            np.savez(handle, **payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _file_mode(path: Path) -> int:
    """The mode of the file being replaced, else that of a new file (``mkstemp`` makes 0o600)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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
    return arrays, meta
