"""Mini-batches, the course's recipe: a host permutation per epoch, then column slices on the device.

Epoch ``e`` shuffles the columns with ``RandomState(seed + 1 + e).permutation(m)``
(the course's counter starts at ``seed = 10`` and is incremented before each epoch,
so epoch 0 uses 11). The permutation is the only thing that crosses to the device,
once per epoch; the shuffled ``X: (n_x, m)`` and ``Y: (n_y, m)`` are cut into
``m // batch_size`` full batches in order, then one partial batch of the rest.
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
