"""Which samples each step sees: shuffle, sequential, or with replacement.

All randomness comes from the run's one seeded ``numpy.random.Generator``, so the same
configuration and seed give the same batches, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def epoch_batches(n: int, batch_size: int, order: str,
                  rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The batches of one epoch: ceil(n / batch_size) arrays of sample indices.

    ``shuffle``: a fresh permutation every epoch, cut into consecutive batches (the last one
    may be smaller, like torch's DataLoader with drop_last=False).
    ``sequential``: 0, 1, ..., n-1 in order, cut the same way.
    ``replacement``: every batch draws ``batch_size`` indices uniformly with replacement.
    """
    for batches in member_epoch_batches(n, batch_size, order, (rng,)):
        yield batches[0]


def epoch_order(n: int, order: str, rng: np.random.Generator) -> np.ndarray | None:
    """The order one epoch takes its samples in, drawn when the epoch starts: ``shuffle`` a
    fresh permutation (the one ``rng.permutation(n)`` call ``epoch_batches`` makes before the
    epoch's first batch), ``sequential`` 0..n-1, ``replacement`` None (each batch is drawn
    when it is taken). (n,) int64."""
    if order == "shuffle":
        return rng.permutation(n)
    if order == "sequential":
        return np.arange(n)
    return None


def batches_after(n: int, batch_size: int, order: str, rng: np.random.Generator,
                  samples: np.ndarray | None, start: int) -> Iterator[np.ndarray]:
    """The batches of an epoch after its first ``start`` ones, as ``epoch_batches`` gives them
    (same values, same draws from ``rng``): ``samples`` is the epoch's ``epoch_order``. With
    start 0, ``epoch_order`` then this is one whole epoch; a run resumed mid-epoch
    (``core.run_snapshot``) goes on with the ``samples`` and ``start`` it had reached."""
    steps = -(-n // batch_size)
    if samples is None:
        for _ in range(start, steps):
            yield rng.integers(0, n, size=batch_size)
        return
    for begin in range(start * batch_size, n, batch_size):
        yield samples[begin : begin + batch_size]


def member_epoch_batches(n: int, batch_size: int, order: str,
                         rngs: Sequence[np.random.Generator]) -> Iterator[np.ndarray]:
    """The batches of one epoch of K runs at once (core.ensemble): (K, k) index arrays, row m
    drawn from ``rngs[m]`` exactly as ``epoch_batches`` draws one run's (same calls, same
    order, drawn lazily when the batch is asked for). Every row has the same length k (the
    last batch of an epoch may be shorter, for every run alike). ``sequential`` rows are one
    broadcast, read-only view."""
    steps = -(-n // batch_size)
    if order == "replacement":
        for _ in range(steps):
            if len(rngs) == 1:
                yield rngs[0].integers(0, n, size=batch_size)[None]
            else:
                yield np.stack([rng.integers(0, n, size=batch_size) for rng in rngs])
        return
    if order == "shuffle":
        perms = (rngs[0].permutation(n)[None] if len(rngs) == 1
                 else np.stack([rng.permutation(n) for rng in rngs]))
    else:
        perms = np.broadcast_to(np.arange(n), (len(rngs), n))
    for start in range(0, n, batch_size):
        yield perms[:, start : start + batch_size]
