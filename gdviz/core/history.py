"""Run history in preallocated, growing numpy arrays (never lists of record objects).

Bounded: every step below ``bound`` (``core.thinning.FULL_HISTORY_STEPS``) is kept, beyond it
every k-th step and the newest (``core.thinning``), so a row is a kept step, not always the
step of its number: ``steps[i]`` says which, ``row_at(step)`` finds the row shown for a step.

The GUI appends every block of steps the worker emits (``step_blocks.RunBlock``, one append per
block and run); views read slices of the arrays
(decimated for drawing). Memory per step is ~ (6 + 2p) * 8 bytes plus the batch indices, which
are stored compactly: a contiguous batch (sequential order, full batch) costs nothing beyond its
(start, length); only scattered batches store their indices.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gdviz.core.prefault import RowsAhead
from gdviz.core.records import StepRecord
from gdviz.core.step_blocks import RunBlock
from gdviz.core.thinning import FULL_HISTORY_STEPS, Thinning, max_rows, nearest_row

_STATUS_CODES = {"running": 0, "converged": 1, "diverged": 2, "finished": 3}
_STATUS_NAMES = {v: k for k, v in _STATUS_CODES.items()}


class Growing:
    """A 1-D or 2-D float/int array that grows by 1.5x, amortised O(1) per append.

    ``reserve``: rows allocated up front (``np.empty``: the pages are untouched, so they cost
    address space, not memory, until rows are written), so that a history growing to its
    bound never copies itself. Growing by copying stalled the GUI thread for the length of the
    copy: a 2-8-8-1 network's parameters at 91 000 rows took 340 ms, its Adam state at 78 000
    rows 920 ms (the window froze for that long, later and later as the run went on)."""

    def __init__(self, width: int | None, dtype: type, capacity: int = 1024,
                 reserve: int = 0) -> None:
        rows = max(capacity, reserve)
        shape = (rows,) if width is None else (rows, width)
        self._data = np.empty(shape, dtype=dtype)
        self.size = 0
        self._touched = 0   # the most rows ever held: the pages written
        # a reserve's pages are faulted in ahead of the rows, off this thread (core.prefault)
        self._ahead = RowsAhead() if reserve else None

    def reserve(self, extra: int) -> None:
        need = self.size + extra
        if need > self._data.shape[0]:
            cap = max(need, int(self._data.shape[0] * 1.5) + 16)
            new = np.empty((cap, *self._data.shape[1:]), dtype=self._data.dtype)
            new[: self.size] = self._data[: self.size]
            self._data = new
            self._touched = self.size
            if self._ahead is not None:
                self._ahead = RowsAhead()   # a new buffer: nothing of it is populated

    def append_many(self, values: np.ndarray) -> None:
        k = len(values)
        self.reserve(k)
        self._data[self.size : self.size + k] = values
        self.size += k
        self._touched = max(self._touched, self.size)
        if self._ahead is not None:
            self._ahead.written(self._data, self.size)

    @property
    def nbytes(self) -> int:
        """Bytes of memory the array holds: the rows ever written (the pages of a reserve
        never written are not memory; an array grown by copying holds only what it copied
        and wrote since)."""
        return self._touched * (self._data.nbytes // max(1, self._data.shape[0]))

    def truncate(self, size: int) -> None:
        """Forget the rows from ``size`` on."""
        self.size = min(self.size, max(0, int(size)))

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` ((size,) bool) holds, in order, in place."""
        kept = self._data[: self.size][mask]
        self._data[: len(kept)] = kept
        self.size = len(kept)

    def view(self) -> np.ndarray:
        out = self._data[: self.size]
        out = out.view()
        out.setflags(write=False)
        return out


class RunHistory:
    """Everything recorded about one run, row i = step i below the bound (row 0 is the start
    point); beyond it the rows are the kept steps (``steps``, ``thinning``).

    Arrays (read-only views, valid until the next append):
        steps (N,), epochs (N,), lrs (N,), losses (N,), batch_losses (N,),
        params (N, p), grads (N, p), status codes (N,)
    ``last`` is the newest StepRecord (with per-sample gradients and optimizer state).
    ``generation`` counts the times rows were dropped or moved (thinning): a cache of per-row
    values keeps the rows ``unchanged_rows`` says still hold and computes the rest.
    """

    def __init__(self, n_params: int, bound: int = FULL_HISTORY_STEPS) -> None:
        self.n_params = n_params
        self.thinning = Thinning(bound)
        self.generation = 0
        self._changes: list[tuple[int, int]] = []  # (generation, first row changed), newest
        rows = max_rows(n_params, bound)
        self._steps = Growing(None, np.int64, reserve=rows)
        self._epochs = Growing(None, np.int32, reserve=rows)
        self._lrs = Growing(None, np.float64, reserve=rows)
        self._losses = Growing(None, np.float64, reserve=rows)
        self._batch_losses = Growing(None, np.float64, reserve=rows)
        self._params = Growing(n_params, np.float64, reserve=rows)
        self._grads = Growing(n_params, np.float64, reserve=rows)
        self._status = Growing(None, np.int8, reserve=rows)
        # batch of step i: if _batch_len[i] >= 0 it is range(_batch_start[i], +len);
        # otherwise indices live in _scattered[_batch_start[i] : _batch_start[i] - _batch_len[i]]
        self._batch_start = Growing(None, np.int64, reserve=rows)
        self._batch_len = Growing(None, np.int64, reserve=rows)
        self._scattered = Growing(None, np.int32)
        # the parameters before the step of rows bound.. (row i - bound): below the bound
        # they are the previous row's, beyond it the previous row is another step
        self._before = Growing(n_params, np.float64, reserve=max(0, rows - bound))
        self.last: StepRecord | None = None
        self.first: StepRecord | None = None

    def __len__(self) -> int:
        return self._steps.size

    def append(self, block: RunBlock | Iterable[StepRecord]) -> None:
        """Append consecutive steps of this run: a ``RunBlock`` (as the worker emits them), or
        records, which are made into one first, so that both take the same path, column by
        column."""
        if not isinstance(block, RunBlock):
            records = tuple(block)
            if not records:
                return
            block = RunBlock.from_records(records)
        if self.first is None:
            self.first = block.record(0)
        self.thinning.append(self, block)
        self.last = block.record(-1)

    @property
    def last_step(self) -> int:
        """The newest step recorded (-1 while empty)."""
        return int(self._steps.view()[-1]) if self._steps.size else -1

    def row_at(self, step: int) -> int:
        """The row shown for ``step``: the step's own row, or of a thinned step the nearest
        kept one; the last row beyond the newest step. The history is not empty."""
        if not self.thinning.thinned:
            return max(0, min(int(step), self._steps.size - 1))
        return nearest_row(self._steps.view(), int(step))

    def unchanged_rows(self, generation: int, rows: int) -> int:
        """Of the first ``rows`` rows as they were at ``generation``, how many still hold the
        same steps (rows below the bound never change; the newest row beyond it is replaced
        by the next append; a doubled stride moves the rows beyond the bound)."""
        if generation != self.generation:
            changed = [row for g, row in self._changes if g > generation]
            if generation < self.generation - len(self._changes) or not changed:
                return 0
            rows = min(rows, *changed)
        return max(0, min(rows, len(self)))

    def _changed(self, first_row: int) -> None:
        self.generation += 1
        self._changes = [*self._changes[-63:], (self.generation, first_row)]

    # -- the rows, as core.thinning acts on them -------------------------------------------------
    def kept_steps(self) -> np.ndarray:
        return self._steps.view()

    def _columns(self) -> tuple[Growing, ...]:
        return (self._steps, self._epochs, self._lrs, self._losses, self._batch_losses,
                self._params, self._grads, self._status, self._batch_start, self._batch_len)

    def drop_last_row(self) -> None:
        last = self._steps.size - 1
        if int(self._batch_len.view()[last]) < 0:
            self._scattered.truncate(int(self._batch_start.view()[last]))
        for column in self._columns():
            column.truncate(last)
        self._before.truncate(last - self.thinning.bound)
        self._changed(last)

    def keep_rows(self, mask: np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        lens = self._batch_len.view()
        scattered = bool(np.any(lens < 0))
        if scattered:  # scattered batches: their indices move up with their rows
            starts = self._batch_start.view()[mask]
            sizes = -np.minimum(lens[mask], 0)
            offsets = np.cumsum(sizes) - sizes
            gather = np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))
            indices = self._scattered.view()[gather]
            self._scattered.truncate(0)
            self._scattered.append_many(indices)
            new_starts = np.where(lens[mask] < 0, offsets, starts)
        for column in self._columns():
            column.keep(mask)
        if scattered:
            self._batch_start.truncate(0)
            self._batch_start.append_many(new_starts)
        self._before.keep(mask[self.thinning.bound:])
        self._changed(int(np.argmin(mask)) if not mask.all() else len(mask))

    def append_rows(self, block: RunBlock) -> None:
        """Append every step of ``block`` as rows (``append`` decides which steps come)."""
        first_row = self._steps.size
        self._steps.append_many(block.steps)
        self._epochs.append_many(block.epochs)
        self._lrs.append_many(block.lrs)
        self._losses.append_many(block.losses)
        self._batch_losses.append_many(block.batch_losses)
        self._params.append_many(block.params)
        self._grads.append_many(block.grads)
        self._status.append_many(
            np.fromiter((_STATUS_CODES[s] for s in block.statuses), np.int8, len(block)))
        self._append_batches(np.diff(block.batch_ends, prepend=0), block.batches)
        beyond = max(0, self.thinning.bound - first_row)
        if beyond < len(block):
            self._before.append_many(block.params_before[beyond:])

    def _append_batches(self, lens: np.ndarray, batch: np.ndarray) -> None:
        """Batches given as their lengths and their indices one after another. A contiguous
        ascending batch (sequential order, full batch) is kept as (start, length); only a
        scattered one stores its indices."""
        ends = np.cumsum(lens)
        begins = ends - lens
        some = lens > 0
        first = np.zeros(len(lens), np.int64)
        last = np.zeros(len(lens), np.int64)
        first[some] = batch[begins[some]]
        last[some] = batch[ends[some] - 1]
        gaps = np.concatenate(([0], np.cumsum(np.diff(batch) != 1))) if len(batch) else \
            np.zeros(1, np.int64)
        broken = np.zeros(len(lens), np.int64)
        broken[some] = gaps[ends[some] - 1] - gaps[begins[some]]
        contiguous = ~some | ((first + lens - 1 == last) & (broken == 0))
        scattered = ~contiguous
        sizes = np.where(scattered, lens, 0)
        offsets = self._scattered.size + np.cumsum(sizes) - sizes
        self._batch_start.append_many(np.where(contiguous, first, offsets))
        self._batch_len.append_many(np.where(contiguous, lens, -lens))
        if np.any(scattered):
            self._scattered.append_many(batch[np.repeat(scattered, lens)].astype(np.int32))

    # -- arrays ------------------------------------------------------------------------------
    @property
    def steps(self) -> np.ndarray:
        return self._steps.view()

    @property
    def epochs(self) -> np.ndarray:
        return self._epochs.view()

    @property
    def lrs(self) -> np.ndarray:
        return self._lrs.view()

    @property
    def losses(self) -> np.ndarray:
        return self._losses.view()

    @property
    def batch_losses(self) -> np.ndarray:
        return self._batch_losses.view()

    @property
    def params(self) -> np.ndarray:
        return self._params.view()

    @property
    def grads(self) -> np.ndarray:
        return self._grads.view()

    def status_at(self, i: int) -> str:
        return _STATUS_NAMES[int(self._status.view()[i])]

    def batch_at(self, i: int) -> np.ndarray:
        """(k,) sample indices of the batch of step i (empty for step 0)."""
        start = int(self._batch_start.view()[i])
        length = int(self._batch_len.view()[i])
        if length >= 0:
            return np.arange(start, start + length)
        return self._scattered.view()[start : start - length].astype(np.int64)

    def first_samples(self, lo: int, hi: int) -> np.ndarray:
        """(hi - lo,) the first sample index of the batches of steps lo..hi-1, vectorised
        (``batch_at(i)[0]``; 0 for a step without a batch, such as step 0)."""
        starts = self._batch_start.view()[lo:hi]
        lens = self._batch_len.view()[lo:hi]
        first = starts.copy()
        scattered = lens < 0
        if np.any(scattered):
            first[scattered] = self._scattered.view()[starts[scattered]]
        first[lens == 0] = 0
        return first

    def batch_sizes(self, lo: int, hi: int) -> np.ndarray:
        """(hi - lo,) how many samples the batches of steps lo..hi-1 hold (0 for step 0)."""
        return np.abs(self._batch_len.view()[lo:hi])

    def params_before_rows(self, lo: int, hi: int) -> np.ndarray:
        """(hi - lo, p) the parameters before the steps of rows lo..hi-1 (1 <= lo)."""
        bound = self.thinning.bound
        mid = max(lo, min(hi, bound))
        return np.concatenate((self.params[lo - 1 : mid - 1],
                               self._before.view()[mid - bound : hi - bound]))

    def params_before(self, i: int) -> np.ndarray:
        """(p,) parameters before the step of row i (the start point for i = 0)."""
        bound = self.thinning.bound
        if i >= bound:
            return self._before.view()[i - bound]
        return self.params[max(i - 1, 0)]

    def nbytes(self) -> int:
        """Bytes of memory held by the arrays (``Growing.nbytes``: the rows ever written)."""
        parts = (*self._columns(), self._scattered, self._before)
        return sum(p.nbytes for p in parts)


def decimate(x: np.ndarray, max_points: int = 4000) -> np.ndarray:
    """Indices that keep at most ~max_points of a series, always including the last point.

    Plain striding: cheap, and for monotone step axes visually indistinguishable at screen
    resolution; views draw ``series[idx]``.
    """
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    stride = -(-n // max_points)
    idx = np.arange(0, n, stride)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx


def peaks(y: np.ndarray, bins: int, look: int = 32) -> np.ndarray:
    """Sorted indices that keep, of each of ``bins`` equal runs of ``y``, its lowest and its
    highest value, plus the first and the last point. A noisy series (SGD's batch losses)
    drawn from them at about one bin per pixel column looks as drawn in full: its envelope
    survives, which striding (``decimate``) would cut. NaNs are never chosen over numbers.
    The cost per call is bounded: of a very long series, every k-th point is looked at (at
    most ``look`` per bin)."""
    y = np.asarray(y)
    n = len(y)
    if n <= 2 * bins + 2:
        return np.arange(n)
    seen = decimate(y, look * bins) if n > look * bins else None
    values = np.asarray(y if seen is None else y[seen], dtype=np.float64)
    m = len(values)
    size = -(-m // bins)
    rows = -(-m // size)
    if np.isnan(values).any():
        padded = np.full(rows * size, np.nan)
        padded[:m] = values
        block = padded.reshape(-1, size)
        nan = np.isnan(block)
        low = np.where(nan, np.inf, block).argmin(axis=1)
        high = np.where(nan, -np.inf, block).argmax(axis=1)
    else:
        # no NaN (the usual case): the last block is padded with the last value, which
        # argmin/argmax never choose over the equal real value before it (the first wins)
        if rows * size != m:
            padded = np.empty(rows * size)
            padded[:m] = values
            padded[m:] = values[-1]
            values = padded
        block = values.reshape(-1, size)
        low = block.argmin(axis=1)
        high = block.argmax(axis=1)
    base = np.arange(0, rows * size, size)
    low += base
    high += base
    # blocks are disjoint and in order: (lower, higher) of each, interleaved, is sorted, and
    # equals np.unique(low, high, 0, m - 1) once repeats are dropped (a sort-free unique: it
    # runs on every frame while a run plays)
    pairs = np.empty((rows, 2), dtype=np.int64)
    np.minimum(low, high, out=pairs[:, 0])
    np.maximum(low, high, out=pairs[:, 1])
    idx = pairs.ravel()
    idx = idx[np.concatenate(([True], idx[1:] != idx[:-1]))]
    if idx[0] != 0:
        idx = np.concatenate(([0], idx))
    if idx[-1] < m - 1:
        idx = np.concatenate((idx, [m - 1]))
    idx = idx[idx < m]
    return idx if seen is None else seen[idx]
