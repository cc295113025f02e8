"""Which steps a bounded run history keeps: every step up to a bound, a thinned rest beyond.

The window records every step of its runs, ~90 bytes a step and more with many parameters;
without a bound 10^7 steps would take ~1 GB. A history keeps every step below ``bound``
(``FULL_HISTORY_STEPS`` in the window); beyond it every ``stride``-th step (stride 2 on
crossing the bound, doubled whenever more than ``bound`` steps beyond it would be kept) and
always the newest step. So a history holds at most 2 * bound + 1 rows, whatever the run's
length, and its rows stay sorted by step.

``RunHistory`` and ``StateHistory`` each hold a ``Thinning`` and apply it to the same blocks,
so they keep the same rows. No Qt.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from gdviz.core.step_blocks import RunBlock

FULL_HISTORY_STEPS = 1_000_000  # steps of a run the window keeps at full resolution
# ... unless the rows of all runs would then exceed HISTORY_BYTES: a row holds the parameters
# before and after, the gradient and the optimizer state, 8 bytes each, so a 2-8-8-1 network
# (105 parameters) with Adam takes ~4.3 KB a row, and 2 * 10^6 rows 8.6 GB
HISTORY_BYTES = 2 ** 30
MIN_FULL_STEPS = 10_000         # but never fewer steps than this at full resolution


def memory_bound(n_params: int, runs: int) -> int:
    """Steps a run of the window keeps at full resolution: FULL_HISTORY_STEPS, or fewer so that
    ``runs`` histories of at most 2 * bound + 1 rows stay within HISTORY_BYTES (the optimizer
    state counted as 3 numbers a parameter, the most any optimizer records: Adam with
    amsgrad). 10⁶ up to 6 parameters (one run; 559 240 each for six runs of 2), a 2-8-8-1
    network 105 186 (17 531 each for six; measured: 3.6 KB a row with Adam, so 2·10⁶ rows
    would have taken 7.3 GB)."""
    row = 8 * 6 * n_params + 64   # + steps, epochs, losses, batch, status
    fit = HISTORY_BYTES // (max(1, runs) * 2 * row)
    return int(min(FULL_HISTORY_STEPS, max(MIN_FULL_STEPS, fit)))


def max_rows(width: int, bound: int) -> int:
    """Rows a history of ``bound`` reserves up front (core.history.Growing): the 2 * bound + 1
    it can hold, plus one for a block's newest row before it is thinned; at most what
    ``memory_bound(width, 1)`` would keep, so that a history made with the default bound for a
    network does not reserve gigabytes of address space (beyond, it grows by copying)."""
    return 2 * min(int(bound), memory_bound(max(1, width), 1)) + 2


class ThinnedRows(Protocol):
    """What a history gives ``Thinning.append`` to act on (rows in step order)."""

    def kept_steps(self) -> np.ndarray: ...   # (rows,) int64, the step of each row
    def drop_last_row(self) -> None: ...
    def append_rows(self, block: RunBlock) -> None: ...
    def keep_rows(self, mask: np.ndarray) -> None: ...   # (rows,) bool, compacts in place


class Thinning:
    """The rule a history keeps its steps by (see the module docstring).

    ``bound``: steps 0..bound-1 are all kept (>= 1). ``stride``: 1 while no step beyond the
    bound was recorded, then 2, 4, 8, ...
    """

    def __init__(self, bound: int = FULL_HISTORY_STEPS) -> None:
        if int(bound) < 1:
            raise ValueError(f"the history bound must be at least 1, not {bound}")
        self.bound = int(bound)
        self.stride = 1

    @property
    def thinned(self) -> bool:
        """True once steps beyond the bound are thinned."""
        return self.stride > 1

    def describe(self) -> str:
        """"history thinned: every 4th step kept beyond step 1000000" ("" when not thinned)."""
        if not self.thinned:
            return ""
        return f"history thinned: every {_ordinal(self.stride)} step kept beyond step {self.bound}"

    def keeps(self, steps: np.ndarray) -> np.ndarray:
        """(n,) bool: which of ``steps`` lie on the grid kept at the present stride (the newest
        step is kept besides, whether on it or not)."""
        steps = np.asarray(steps)
        return (steps < self.bound) | (steps % self.stride == 0)

    def append(self, rows: ThinnedRows, block: RunBlock) -> None:
        """Append ``block`` (the steps following the newest row) to ``rows`` under the rule:
        the previous newest row goes if it is off the grid, the block's steps off the grid
        are left out except its newest, and the stride doubles (the rows compacted) while
        more than ``bound`` rows lie beyond the bound."""
        steps = block.steps
        if not self.thinned and (len(steps) == 0 or int(steps[-1]) < self.bound):
            rows.append_rows(block)  # below the bound: every step, as it comes
            return
        if not self.thinned:
            self.stride = 2
        kept = rows.kept_steps()
        if len(kept) and not self.keeps(kept[-1:])[0]:
            rows.drop_last_row()
        mask = self.keeps(steps)
        mask[-1] = True
        rows.append_rows(block if mask.all() else block.select(mask))
        kept = rows.kept_steps()
        beyond = len(kept) - int(np.searchsorted(kept, self.bound))
        if beyond <= self.bound:
            return
        while beyond > self.bound:
            self.stride *= 2
            mask = self.keeps(kept)
            mask[-1] = True
            beyond = int(np.count_nonzero(mask & (kept >= self.bound)))
        rows.keep_rows(mask)


def nearest_row(kept_steps: np.ndarray, step: int) -> int:
    """The row of the kept step nearest to ``step`` (the earlier of two as near; the first
    row before the first step, the last after the last). ``kept_steps`` sorted, not empty."""
    n = len(kept_steps)
    right = int(np.searchsorted(kept_steps, step, side="left"))
    if right >= n:
        return n - 1
    if right == 0 or int(kept_steps[right]) == step:
        return right
    before, after = int(kept_steps[right - 1]), int(kept_steps[right])
    return right - 1 if step - before <= after - step else right


def _ordinal(k: int) -> str:
    suffix = "th" if k % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"
