"""Mini-batches, the course's recipe: a host permutation per epoch, then column slices on the device.

Epoch ``e`` shuffles the columns with ``RandomState(seed + 1 + e).permutation(m)``
(the course's counter starts at ``seed = 10`` and is incremented before each epoch,
so epoch 0 uses 11). The permutation is the only thing that crosses to the device,
once per epoch; the shuffled ``X: (n_x, m)`` and ``Y: (n_y, m)`` are cut into
``m // batch_size`` full batches in order, then one partial batch of the rest.

The chunked order (``batch_order="chunks"``, dask's default) keeps every example
in its chunk, so on a cluster no example leaves its worker: see :func:`chunked_batches`.
"""

from __future__ import annotations

import numpy as np

from .backend import host_rng


def epoch_permutation(seed: int, epoch: int, m: int) -> np.ndarray:
    """The host permutation of ``m`` columns for ``epoch`` (counting from 0): int64 ``(m,)``."""
    return host_rng(seed + 1 + epoch).permutation(m).astype(np.int64)


def batch_slices(m: int, batch_size: int) -> list[slice]:
    """Column ranges: full batches in order, then the partial one (``m = 300, 64``: 4 of 64 and 44)."""
    return [slice(start, min(start + batch_size, m)) for start in range(0, m, batch_size)]


def shuffle_columns(arrays, permutation, xp) -> list:
    """Each ``(n, m)`` array with its columns in ``permutation``'s order (a device index array)."""
    return [xp.take(A, permutation, axis=1) for A in arrays]


def chunked_batches(seed: int, epoch: int, chunk_sizes, batch_size: int) -> list[np.ndarray]:
    """The chunked batch order: epoch ``epoch``'s batches as int64 column indices, each batch from every chunk.

    The examples are split into consecutive chunks of ``chunk_sizes`` columns.
    ``rng = RandomState(seed + 1 + epoch)`` draws one permutation per chunk, in
    chunk order (``rng.permutation(c)`` for each size ``c``); each chunk's permuted
    columns are cut into ``ceil(m / batch_size)`` nearly equal consecutive parts
    (``np.array_split``), and batch ``t`` is part ``t`` of every chunk, chunk by
    chunk. So an epoch has as many batches as the course's order, each of at most
    about ``batch_size`` examples (``m = 300``, chunks ``(100, 100, 100)``, 64: five
    batches of 60), and every batch takes its columns from all chunks in step.
    """
    sizes = [int(c) for c in chunk_sizes]
    count = -(-sum(sizes) // batch_size)
    rng = host_rng(seed + 1 + epoch)
    offsets = np.cumsum([0] + sizes[:-1])
    parts = [np.array_split(offset + rng.permutation(size), count) for offset, size in zip(offsets, sizes)]
    return [np.concatenate([chunk[t] for chunk in parts]).astype(np.int64) for t in range(count)]
