"""Which samples each step sees: shuffle, sequential, or with replacement.

All randomness comes from the run's one seeded ``numpy.random.Generator``, so the same
configuration and seed give the same batches, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def epoch_batches(n: int, batch_size: int, order: str,
                  rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The batches of one epoch: ceil(n / batch_size) arrays of sample indices.

    ``shuffle``: a fresh permutation every epoch, cut into consecutive batches (the last one
    may be smaller, like torch's DataLoader with drop_last=False).
    ``sequential``: 0, 1, ..., n-1 in order, cut the same way.
    ``replacement``: every batch draws ``batch_size`` indices uniformly with replacement.
    """
    steps = -(-n // batch_size)
    if order == "replacement":
        for _ in range(steps):
            yield rng.integers(0, n, size=batch_size)
        return
    perm = rng.permutation(n) if order == "shuffle" else np.arange(n)
    for start in range(0, n, batch_size):
        yield perm[start : start + batch_size]
