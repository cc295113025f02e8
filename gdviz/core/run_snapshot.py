"""A run's state between two steps, so that a run can go on from where it was: ``RunSnapshot``.

``runner.iterate(config, cursor=cursor)`` keeps a ``RunCursor`` pointing at what it holds at
each yield (a few attribute stores a step: references, no copies); ``cursor.snapshot()``,
called while the run is suspended at a yield (between two ``next`` calls), copies what the
run will change afterwards: the random generator's state, the schedule, the epoch's sample
order and how far into it the run is. ``iterate(config, resume=snapshot)`` then yields step
s+1, s+2, ... bit for bit as the uninterrupted run would (not step s again).

A snapshot pickles (a step server sends it through its pipe): a few KB for a small network on
500 samples (the parameters, the optimizer state, the epoch's permutation).

Numpy and the standard library only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.scheduler import LrScheduler


@dataclass(frozen=True)
class RunSnapshot:
    """The state to compute step ``step + 1`` of a run (what ``iterate`` holds after yielding
    step ``step``).

    step:      the last step yielded (0: the start point)
    epoch:     its epoch (0 before the first)
    taken:     batches of that epoch taken so far (the epoch's length: the epoch is over)
    samples:   the epoch's sample order (``sampling.epoch_order``), (n,) int64, or None
    params:    (p,) float64, the parameters after step ``step``
    state:     the optimizer's state after it (all of it: L-BFGS's curvature pairs too)
    loss:      the full loss at ``params``
    rng_state: ``bit_generator.state`` of the run's generator (batches and gradient noise)
    scheduler: the schedule as it was when step ``step`` was yielded (it steps after that)
    ended:     the run had ended with step ``step`` (converged, diverged or finished)
    """

    step: int
    epoch: int
    taken: int
    samples: np.ndarray | None
    params: np.ndarray
    state: Mapping[str, Any]
    loss: float
    rng_state: Mapping[str, Any]
    scheduler: LrScheduler
    ended: bool

    def restored_scheduler(self) -> LrScheduler:
        """A scheduler of its own for a resumed run (the snapshot can be resumed again)."""
        return copy.deepcopy(self.scheduler)

    def restored_rng(self) -> np.random.Generator:
        """The run's generator, in the state it had (a new one each call)."""
        rng = np.random.default_rng()
        rng.bit_generator.state = dict(self.rng_state)
        return rng

    def restored_state(self) -> dict[str, Any]:
        """The optimizer state with read-only arrays again (pickling made them writable)."""
        return {key: _read_only(value) for key, value in self.state.items()}

    def restored_params(self) -> np.ndarray:
        return _read_only(self.params)


def _read_only(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.flags.writeable:
        value = value.copy()
        value.setflags(write=False)
    return value


class RunCursor:
    """Where a running ``iterate`` stands: references that the generator sets at each yield
    (never copies; everything it points at is immutable except ``rng`` and ``scheduler``,
    which ``snapshot`` copies)."""

    __slots__ = ("step", "epoch", "taken", "samples", "params", "state", "loss", "rng",
                 "scheduler", "ended")

    def __init__(self) -> None:
        self.step = -1   # nothing yielded yet
        self.epoch = self.taken = 0
        self.samples = self.params = self.state = self.rng = self.scheduler = None
        self.loss = float("nan")
        self.ended = False

    def hold(self, rng: np.random.Generator, scheduler: LrScheduler, step: int, epoch: int,
             taken: int, samples: np.ndarray | None, params: np.ndarray,
             state: Mapping[str, Any], loss: float, ended: bool) -> None:
        """Point at a run's state (its start, or where it resumes): see RunSnapshot."""
        self.rng, self.scheduler, self.step, self.epoch, self.taken = (rng, scheduler, step,
                                                                       epoch, taken)
        self.samples, self.params, self.state, self.loss, self.ended = (samples, params, state,
                                                                        loss, ended)

    def snapshot(self) -> RunSnapshot:
        """The state to go on from the last step yielded (call it between two ``next``)."""
        if self.step < 0:
            raise ValueError("a run can be snapshotted only after its first record")
        return RunSnapshot(self.step, self.epoch, self.taken, self.samples, self.params,
                           dict(self.state), self.loss, self.rng.bit_generator.state,
                           copy.deepcopy(self.scheduler), self.ended)
