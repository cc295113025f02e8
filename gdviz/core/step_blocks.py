"""The one step format from the step server to the histories: ``StepBlock``.

A StepBlock is a stretch of consecutive lock-step groups (``lockstep.iterate_lockstep``) held
as read-only numpy columns, one ``RunBlock`` per run. It is what a step server sends through
its pipe, what the worker emits to the window and what a run's history appends
(``RunHistory.append(run_block)``); records (``StepRecord``) are made of it only where one is
needed (a history's first and last, the step math of the newest step).

Why columns: pickling StepRecords one by one costs ~24 µs a record to write and ~18 µs to read
(six small arrays and a mapping each), a third of what computing the step costs; a block of
columns costs ~4 µs a record, and a history appends it column by column without a record
object per step. ``RunBlock.record(i)`` gives back each record bit for bit (same values,
dtypes, shapes and Python types), its arrays read-only views of the block's columns — except
the per-sample gradients of a block made with ``every_sample_grads=False``, which a step
server sends: only its last step has them (the only ones a history keeps).

Numpy and the standard library only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.lockstep import StepGroup
from gdviz.core.records import StepRecord

_ARRAYS = ("steps", "epochs", "lrs", "batch_losses", "losses", "params_before", "params",
           "grads", "batch_ends", "batches", "grad_ends", "sample_grads")


@dataclass(frozen=True, eq=False)
class RunBlock:
    """Consecutive steps of one run as read-only columns (n steps, p parameters).

    steps, epochs:            (n,) int64
    lrs, batch_losses, losses: (n,) float64
    params_before, params, grads: (n, p) float64
    batch_ends:   (n,) int64, step i's batch is ``batches[batch_ends[i-1]:batch_ends[i]]``
    batches:      (sum of batch sizes,) sample indices, one batch after another
    grad_ends:    (n,) int64, step i's per-sample gradients likewise in ``sample_grads``
    sample_grads: (rows, p) float64
    statuses, messages: n strings each
    state_columns: the optimizer state as columns, key -> (n,) or (n, width), when every step
        has the same keys and each key the same kind of value (``state_kinds``: "int",
        "float" or "array"); else None and ``state_rows`` holds one mapping per step (a block
        that holds step 0, whose state is still empty for some optimizers).
    """

    steps: np.ndarray
    epochs: np.ndarray
    lrs: np.ndarray
    batch_losses: np.ndarray
    losses: np.ndarray
    params_before: np.ndarray
    params: np.ndarray
    grads: np.ndarray
    batch_ends: np.ndarray
    batches: np.ndarray
    grad_ends: np.ndarray
    sample_grads: np.ndarray
    statuses: tuple[str, ...]
    messages: tuple[str, ...]
    state_columns: Mapping[str, np.ndarray] | None
    state_kinds: Mapping[str, str]
    state_rows: tuple[Mapping[str, Any], ...] | None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in _ARRAYS:
            set_(self, name, _read_only(getattr(self, name)))
        if self.state_columns is not None:
            set_(self, "state_columns", MappingProxyType(
                {key: _read_only(values) for key, values in self.state_columns.items()}))
        set_(self, "state_kinds", MappingProxyType(dict(self.state_kinds)))
        if self.state_rows is not None:
            set_(self, "state_rows", tuple(MappingProxyType(
                {key: _read_only(v) if isinstance(v, np.ndarray) else v
                 for key, v in row.items()}) for row in self.state_rows))

    def __reduce__(self):
        # plain dicts through the pipe (mapping proxies do not pickle); the constructor on the
        # other side makes the columns read-only again
        rows = None if self.state_rows is None else tuple(dict(row) for row in self.state_rows)
        return (RunBlock, (*(getattr(self, name) for name in _ARRAYS), self.statuses,
                           self.messages,
                           None if self.state_columns is None else dict(self.state_columns),
                           dict(self.state_kinds), rows))

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def ended(self) -> bool:
        """True when the last step ended the run (converged, diverged or finished)."""
        return self.statuses[-1] != "running"

    # -- records ---------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Sequence[StepRecord],
                     every_sample_grads: bool = True) -> RunBlock:
        """The columns of consecutive records of one run (at least one). With
        ``every_sample_grads=False`` only the last step keeps its per-sample gradients, the
        only ones a history keeps (``RunHistory.last``; ``recorded.record_at`` recomputes
        the others): the earlier steps' records then hold none (0 rows). A 2-8-8-1 network's
        per-sample gradients are two thirds of its steps' bytes through a step server's pipe."""
        kept = records if every_sample_grads else records[-1:]
        skipped = [0] * (len(records) - len(kept))
        scalars = [(r.step, r.epoch, r.lr, r.batch_loss, r.loss) for r in records]
        steps, epochs, lrs, batch_losses, losses = (np.array(c) for c in zip(*scalars))
        states = [r.state for r in records]
        columns, kinds = state_columns(states)
        return cls(
            steps.astype(np.int64, copy=False), epochs.astype(np.int64, copy=False),
            lrs.astype(np.float64, copy=False), batch_losses.astype(np.float64, copy=False),
            losses.astype(np.float64, copy=False),
            np.stack([r.params_before for r in records]), np.stack([r.params for r in records]),
            np.stack([r.grad for r in records]),
            np.cumsum([len(r.batch) for r in records], dtype=np.int64),
            np.concatenate([r.batch for r in records]),
            np.cumsum(skipped + [len(r.sample_grads) for r in kept], dtype=np.int64),
            np.concatenate([r.sample_grads for r in kept]),
            tuple(r.status for r in records), tuple(r.message for r in records),
            columns, kinds, None if columns is not None else tuple(dict(s) for s in states))

    def record(self, i: int) -> StepRecord:
        """The i-th record (negative i counts from the end), as the runner yielded it."""
        n = len(self.steps)
        i = i + n if i < 0 else i
        b0 = int(self.batch_ends[i - 1]) if i else 0
        g0 = int(self.grad_ends[i - 1]) if i else 0
        return StepRecord(
            int(self.steps[i]), int(self.epochs[i]), float(self.lrs[i]),
            self.batches[b0:int(self.batch_ends[i])], self.params_before[i], self.params[i],
            self.grads[i], self.sample_grads[g0:int(self.grad_ends[i])], self.state_at(i),
            float(self.batch_losses[i]), float(self.losses[i]), self.statuses[i],
            self.messages[i])

    def records(self) -> list[StepRecord]:
        return [self.record(i) for i in range(len(self.steps))]

    @property
    def lacks_last_sample_grads(self) -> bool:
        """True when the last step has a batch but its per-sample gradients were left out (a
        block cut from one made with ``every_sample_grads=False``)."""
        n = len(self.steps)
        batch = int(self.batch_ends[-1]) - (int(self.batch_ends[-2]) if n > 1 else 0)
        grads = int(self.grad_ends[-1]) - (int(self.grad_ends[-2]) if n > 1 else 0)
        return batch > 0 and grads == 0

    def with_last_sample_grads(self, problem) -> RunBlock:
        """This block with its last step's per-sample gradients recomputed from ``problem``
        where they were left out, as the runner computes them (the same call on the same
        parameters and batch: bit for bit). Never for a problem with gradient noise, whose
        noise cannot be recomputed: its blocks keep every step's."""
        if not self.lacks_last_sample_grads:
            return self
        if problem.grad_noise:
            raise ValueError("the per-sample gradients of a problem with gradient noise "
                             "cannot be recomputed")
        b0 = int(self.batch_ends[-2]) if len(self.steps) > 1 else 0
        with np.errstate(all="ignore"):
            grads = np.asarray(problem.sample_grads(self.params_before[-1], self.batches[b0:]),
                               dtype=np.float64)
        ends = self.grad_ends.copy()
        ends[-1] += len(grads)
        return dataclasses.replace(self, grad_ends=ends,
                                   sample_grads=np.concatenate([self.sample_grads, grads]))

    def state_at(self, i: int) -> Mapping[str, Any]:
        """The optimizer state after step i (read-only arrays; ints and floats as such)."""
        if self.state_columns is None:
            return self.state_rows[i]
        kinds = self.state_kinds
        return MappingProxyType({
            key: values[i] if kinds[key] == "array" else
            int(values[i]) if kinds[key] == "int" else float(values[i])
            for key, values in self.state_columns.items()})

    # -- cutting and joining ---------------------------------------------------------------------
    def cut(self, lo: int, hi: int) -> RunBlock:
        """Steps lo..hi-1 (0 <= lo < hi <= len) as a block of their own."""
        b0 = int(self.batch_ends[lo - 1]) if lo else 0
        g0 = int(self.grad_ends[lo - 1]) if lo else 0
        return RunBlock(
            self.steps[lo:hi], self.epochs[lo:hi], self.lrs[lo:hi], self.batch_losses[lo:hi],
            self.losses[lo:hi], self.params_before[lo:hi], self.params[lo:hi],
            self.grads[lo:hi], self.batch_ends[lo:hi] - b0,
            self.batches[b0:int(self.batch_ends[hi - 1])], self.grad_ends[lo:hi] - g0,
            self.sample_grads[g0:int(self.grad_ends[hi - 1])], self.statuses[lo:hi],
            self.messages[lo:hi],
            None if self.state_columns is None else
            {key: values[lo:hi] for key, values in self.state_columns.items()},
            self.state_kinds, None if self.state_rows is None else self.state_rows[lo:hi])

    def select(self, mask: np.ndarray) -> RunBlock:
        """The steps where ``mask`` ((n,) bool, at least one True) holds, as a block of their
        own (a thinned history keeps only some steps: core.thinning)."""
        mask = np.asarray(mask, dtype=bool)
        batch_lens = np.diff(self.batch_ends, prepend=0)
        grad_lens = np.diff(self.grad_ends, prepend=0)
        kept = np.flatnonzero(mask)
        return RunBlock(
            self.steps[mask], self.epochs[mask], self.lrs[mask], self.batch_losses[mask],
            self.losses[mask], self.params_before[mask], self.params[mask], self.grads[mask],
            np.cumsum(batch_lens[mask], dtype=np.int64),
            self.batches[np.repeat(mask, batch_lens)],
            np.cumsum(grad_lens[mask], dtype=np.int64),
            self.sample_grads[np.repeat(mask, grad_lens)],
            tuple(self.statuses[i] for i in kept), tuple(self.messages[i] for i in kept),
            None if self.state_columns is None else
            {key: values[mask] for key, values in self.state_columns.items()},
            self.state_kinds,
            None if self.state_rows is None else tuple(self.state_rows[i] for i in kept))

    @staticmethod
    def join(parts: Sequence[RunBlock]) -> RunBlock:
        """One block holding consecutive blocks one after another: what ``from_records`` makes
        of all their records. Its states stay columns when every part's columns agree (keys,
        kinds, widths, dtypes), else they become rows."""
        if len(parts) == 1:
            return parts[0]

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])

        def ends(name: str) -> np.ndarray:
            offsets = np.cumsum([0] + [int(getattr(p, name)[-1]) for p in parts[:-1]])
            return np.concatenate([getattr(p, name) + off for p, off in zip(parts, offsets)])

        first = parts[0]
        if all(part.state_columns is not None and _same_columns(first, part)
               for part in parts):
            columns: dict | None = {key: np.concatenate([p.state_columns[key] for p in parts])
                                    for key in first.state_columns}
            kinds, rows = first.state_kinds, None
        else:
            columns, kinds = None, {}
            rows = tuple(part.state_at(i) for part in parts for i in range(len(part)))
        return RunBlock(
            cat("steps"), cat("epochs"), cat("lrs"), cat("batch_losses"), cat("losses"),
            cat("params_before"), cat("params"), cat("grads"), ends("batch_ends"),
            cat("batches"), ends("grad_ends"), cat("sample_grads"),
            tuple(s for p in parts for s in p.statuses),
            tuple(m for p in parts for m in p.messages), columns, kinds, rows)


@dataclass(frozen=True, eq=False)
class StepBlock:
    """``count`` consecutive lock-step groups, the first of step ``first_step``. ``runs[k]``
    holds run k's steps of the first ``len(runs[k])`` groups (fewer than ``count``: run k
    ended inside the block), or None when run k had ended before it. Immutable."""

    first_step: int
    count: int
    runs: tuple[RunBlock | None, ...]

    def __reduce__(self):
        return (StepBlock, (self.first_step, self.count, self.runs))

    @property
    def last_step(self) -> int:
        return self.first_step + self.count - 1

    @property
    def ends_iteration(self) -> bool:
        """True when the last group ends the lock-step iteration (no run still running)."""
        return all(run is None or len(run) < self.count or run.ended for run in self.runs)

    @classmethod
    def from_groups(cls, groups: Sequence[StepGroup],
                    every_sample_grads: bool = True) -> StepBlock:
        """The block of consecutive lock-step groups (at least one); ``every_sample_grads``:
        see ``RunBlock.from_records``."""
        runs = []
        for k in range(len(groups[0])):
            records = [group[k] for group in groups if group[k] is not None]
            runs.append(RunBlock.from_records(records, every_sample_grads) if records
                        else None)
        first = next(r.step for r in groups[0] if r is not None)
        return cls(first, len(groups), tuple(runs))

    @property
    def lacks_last_sample_grads(self) -> bool:
        """True when a run's last step lacks its per-sample gradients (a cut block of a step
        server's: ``RunBlock.lacks_last_sample_grads``)."""
        return any(run is not None and run.lacks_last_sample_grads for run in self.runs)

    def with_last_sample_grads(self, problems: Sequence) -> StepBlock:
        """Every run's last step with its per-sample gradients (``problems[k]`` recomputes run
        k's where they were left out: ``RunBlock.with_last_sample_grads``)."""
        if not self.lacks_last_sample_grads:
            return self
        return StepBlock(self.first_step, self.count, tuple(
            None if run is None else run.with_last_sample_grads(problem)
            for run, problem in zip(self.runs, problems)))

    def groups(self) -> list[StepGroup]:
        """The lock-step groups again, as records (tests, and a look at every record)."""
        columns = [run.records() if run is not None else [] for run in self.runs]
        return [tuple(records[i] if i < len(records) else None for records in columns)
                for i in range(self.count)]

    def split(self, n: int) -> tuple[StepBlock, StepBlock]:
        """(the first n groups, the rest), 0 < n < count."""
        head, tail = [], []
        for run in self.runs:
            size = 0 if run is None else len(run)
            head.append(run.cut(0, min(n, size)) if size else None)
            tail.append(run.cut(n, size) if size > n else None)
        return (StepBlock(self.first_step, n, tuple(head)),
                StepBlock(self.first_step + n, self.count - n, tuple(tail)))

    @staticmethod
    def join(blocks: Sequence[StepBlock]) -> StepBlock:
        """One block of consecutive blocks: appending it once costs a history what appending
        one block costs, whatever the number joined."""
        if len(blocks) == 1:
            return blocks[0]
        runs = []
        for k in range(len(blocks[0].runs)):
            parts = [block.runs[k] for block in blocks if block.runs[k] is not None]
            runs.append(RunBlock.join(parts) if parts else None)
        return StepBlock(blocks[0].first_step, sum(b.count for b in blocks), tuple(runs))


def state_columns(states: Sequence[Mapping[str, Any]]
                   ) -> tuple[dict[str, np.ndarray] | None, dict[str, str]]:
    """(key -> stacked values, key -> kind) when every state has the same keys and each key
    the same kind of value (int, float, or arrays of one shape and dtype); else (None, {})."""
    keys = tuple(states[0])
    if any(tuple(s) != keys for s in states):
        return None, {}
    columns, kinds = {}, {}
    for key in keys:
        values = [s[key] for s in states]
        first = values[0]
        if isinstance(first, np.ndarray) and first.ndim > 0 and all(
                isinstance(v, np.ndarray) and v.shape == first.shape
                and v.dtype == first.dtype for v in values):
            columns[key], kinds[key] = np.stack(values), "array"
        elif type(first) in (int, float) and all(type(v) is type(first) for v in values):
            kind = type(first).__name__
            columns[key] = np.array(values, dtype=np.int64 if kind == "int" else np.float64)
            kinds[key] = kind
        else:
            return None, {}
    return columns, kinds


def _same_columns(a: RunBlock, b: RunBlock) -> bool:
    if tuple(a.state_columns) != tuple(b.state_columns) or a.state_kinds != b.state_kinds:
        return False
    return all(x.shape[1:] == y.shape[1:] and x.dtype == y.dtype
               for x, y in zip(a.state_columns.values(), b.state_columns.values()))


def _read_only(array: np.ndarray) -> np.ndarray:
    """``array`` read-only: itself when it owns its data or is read-only already, else a
    read-only view (a writable array someone else holds stays writable for them)."""
    if array.flags.writeable and array.base is not None:
        array = array.view()
    array.setflags(write=False)
    return array
