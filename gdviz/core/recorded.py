"""Looking back at a recorded run: the StepRecord of any earlier step, rebuilt from arrays.

RunHistory keeps every step's numbers in arrays but only the newest record object; the
optimizer's state (momentum buffers, Adam's averages, ...) is not in it. ``StateHistory``
keeps that state per step, in arrays too (a few floats per parameter and step), so that
``record_at`` can give the step math of an earlier step exactly as it was. No Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.history import Growing, RunHistory
from gdviz.core.prefault import RowsAhead
from gdviz.core.records import StepRecord
from gdviz.core.step_blocks import RunBlock
from gdviz.core.thinning import FULL_HISTORY_STEPS, Thinning, max_rows

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Column:
    """One state entry over the steps: (N,) or (N, width) float64, NaN where it is absent.

    ``reserve`` rows are allocated up front and left untouched (``np.empty``: address space,
    not memory); rows are set to NaN only as the history reaches them (``filled``), so the
    column never copies itself while the history grows to its bound (core.history.Growing:
    a network's Adam state copied at 78 000 rows froze the window for 0.9 s)."""

    def __init__(self, width: int | None, rows: int, integer: bool, reserve: int = 0) -> None:
        self.width, self.integer = width, integer
        capacity = max(rows, 64, reserve)
        self.data = np.empty((capacity,) if width is None else (capacity, width))
        self.filled = 0   # rows 0..filled-1 hold a value or NaN; the rest were never written
        self._ahead = RowsAhead() if reserve else None   # pages faulted in ahead (prefault)
        self.fill_to(rows)

    def fill_to(self, rows: int) -> None:
        """Rows up to ``rows`` exist (NaN where nothing was put), growing the column if
        needed."""
        if rows > self.data.shape[0]:
            grown = np.empty((max(rows, int(self.data.shape[0] * 1.5)), *self.data.shape[1:]))
            grown[: self.filled] = self.data[: self.filled]
            self.data = grown
            if self._ahead is not None:
                self._ahead = RowsAhead()
        if rows > self.filled:
            self.data[self.filled: rows] = np.nan
            self.filled = rows
            if self._ahead is not None:
                self._ahead.written(self.data, rows)

    def put(self, row: int, value: Any) -> None:
        self.fill_to(row + 1)
        self.data[row] = value

    def put_rows(self, row: int, values: np.ndarray) -> None:
        self.fill_to(row + len(values))
        self.data[row: row + len(values)] = values

    def keep(self, size: int, mask: np.ndarray) -> None:
        """Of rows 0..size-1, keep those where ``mask`` holds, in order; the rest are NaN."""
        self.fill_to(size)
        kept = self.data[:size][mask[:size]]
        self.data[: len(kept)] = kept
        self.data[len(kept): size] = np.nan


class StateHistory:
    """The optimizer state of every recorded step (append the same blocks as RunHistory, with
    the same bound: it keeps the same rows, ``core.thinning``)."""

    def __init__(self, bound: int = FULL_HISTORY_STEPS) -> None:
        self.size = 0
        self._columns: dict[str, _Column] = {}
        self._steps = Growing(None, np.int64, reserve=max_rows(1, bound))
        self.thinning = Thinning(bound)

    def __len__(self) -> int:
        return self.size

    def append(self, block: RunBlock | Iterable[StepRecord]) -> None:
        """Append the states of consecutive steps: a ``RunBlock``, or records (made into one
        first), a column at a time when the block holds them as columns."""
        if not isinstance(block, RunBlock):
            records = tuple(block)
            if not records:
                return
            block = RunBlock.from_records(records)
        self.thinning.append(self, block)

    # -- the rows, as core.thinning acts on them -------------------------------------------------
    def kept_steps(self) -> np.ndarray:
        return self._steps.view()

    def drop_last_row(self) -> None:
        self.size -= 1
        self._steps.truncate(self.size)
        for column in self._columns.values():
            if self.size < column.filled:
                column.data[self.size] = np.nan

    def keep_rows(self, mask: np.ndarray) -> None:
        for column in self._columns.values():
            column.keep(self.size, mask)
        self._steps.keep(mask)
        self.size = self._steps.size

    def append_rows(self, block: RunBlock) -> None:
        """Append the states of every step of ``block`` as rows."""
        self._steps.append_many(block.steps)
        count = len(block)
        if block.state_columns is None:
            for i, state in enumerate(block.state_rows):
                for key, value in state.items():
                    column = self._columns.get(key)
                    if column is None:
                        array = np.asarray(value)
                        width = None if array.ndim == 0 else array.shape[0]
                        column = _Column(width, self.size + i + 1,
                                         isinstance(value, (int, np.integer)),
                                         max_rows(width or 1, self.thinning.bound))
                        self._columns[key] = column
                    column.put(self.size + i, value)
            self.size += count
            return
        for key, values in block.state_columns.items():
            values = np.asarray(values, dtype=np.float64)
            column = self._columns.get(key)
            if column is None:
                width = None if values.ndim == 1 else values.shape[1]
                column = _Column(width, self.size + count, block.state_kinds[key] == "int",
                                 max_rows(width or 1, self.thinning.bound))
                self._columns[key] = column
            column.put_rows(self.size, values)
        self.size += count

    def at(self, index: int) -> Mapping[str, Any]:
        """The state after step ``index`` (read-only arrays; ints as ints); {} if unknown."""
        if not 0 <= index < self.size:
            return _EMPTY
        out: dict[str, Any] = {}
        for key, column in self._columns.items():
            if index >= column.filled:
                continue
            value = column.data[index]
            if column.width is None:
                if not np.isnan(value):
                    out[key] = int(value) if column.integer else float(value)
            elif not np.all(np.isnan(value)):
                array = np.array(value)
                array.setflags(write=False)
                out[key] = array
        return MappingProxyType(out)

    def nbytes(self) -> int:
        """Bytes of memory held: the rows ever written (see _Column)."""
        return self._steps.nbytes + sum(
            c.filled * (c.data.nbytes // max(1, c.data.shape[0])) for c in self._columns.values())


def record_at(history: RunHistory, index: int, problem,
              states: StateHistory | None = None) -> StepRecord:
    """The StepRecord of row ``index`` of a recorded run (``history.row_at`` finds the row of a
    step), rebuilt from ``history``'s arrays.
    Exact for step, epoch, lr, batch, parameters, gradient, losses and status; the optimizer
    state comes from ``states`` (empty when not given). The per-sample gradients are recomputed
    from the problem (exact, as the runner computes them) unless the problem adds gradient
    noise, which was random: then they are NaN. The newest index gives ``history.last``."""
    if index >= len(history) - 1 and history.last is not None:
        return history.last
    p = history.n_params
    batch = history.batch_at(index)
    batch.setflags(write=False)
    before = np.array(history.params_before(index))
    if index == 0 or len(batch) == 0:
        sample_grads = np.zeros((0, p))
    elif problem.grad_noise:
        sample_grads = np.full((len(batch), p), np.nan)
    else:
        with np.errstate(all="ignore"):
            sample_grads = np.asarray(problem.sample_grads(before, batch), dtype=np.float64)
    arrays = [before, np.array(history.params[index]), np.array(history.grads[index]),
              sample_grads]
    for array in arrays:
        array.setflags(write=False)
    state = states.at(index) if states is not None else _EMPTY
    return StepRecord(int(history.steps[index]), int(history.epochs[index]),
                      float(history.lrs[index]), batch, arrays[0], arrays[1], arrays[2],
                      arrays[3], state, float(history.batch_losses[index]),
                      float(history.losses[index]), history.status_at(index), "")
