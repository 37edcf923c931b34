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


def write_model(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the description")
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps({"format": FORMAT, **meta}))
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def read_model(path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and description stored by :func:`write_model`; ValueError if not such a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive")
        with data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{str(path)!r} is not a readable dnn_xp model (.npz): {exc}; it may be truncated or corrupt"
        ) from None
    if META_KEY not in arrays:
        raise ValueError(f"{str(path)!r} is an .npz file but not a dnn_xp model (no {META_KEY!r} entry)")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} has a corrupt model description: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a dnn_xp model (format {meta.get('format')!r})")
    return arrays, meta
