"""Several runs side by side, in lock-step: the comparison of optimizers, rates and batches.

``iterate_lockstep(configs)`` advances every run by one step per group, so group ``i`` holds
each run's step ``i``: the views can show "all runs after i steps" with one index. A run that
has ended yields None in every later group; the iteration ends after the group in which the
last run ended. Each run is ``runner.iterate`` unchanged, so its records are exactly those of
``run_to_end(config)``. Like a run, the iteration can be snapshotted between two groups
(``LockstepCursor``) and resumed from there (``LockstepSnapshot``): the step server's fallback.

Also here, because the GUI, the presets and the session files all need the same rules:
``default_run_name`` (a short description such as "sgd lr=0.01 mom=0.9 batch=10") and
``share_settings`` (the settings every run of a comparison has in common). No Qt.
(Looking back at a recorded step: gdviz.core.recorded.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_snapshot import RunCursor, RunSnapshot
from gdviz.core.runner import iterate as _iterate

MAX_RUNS = 6

# What every run of a comparison shares (one problem, one start point, one set of limits);
# the rest (optimizer, lr, hyperparameters, schedule, batch size, order, seed) is per run.
SHARED_FIELDS = ("problem", "settings", "data_path", "init", "max_epochs", "max_steps", "tol",
                 "diverge_threshold")

StepGroup = tuple[StepRecord | None, ...]


def iterate_lockstep(configs: Sequence[RunConfig],
                     iterate: Callable[..., Iterator[StepRecord]] = _iterate,
                     resume: LockstepSnapshot | None = None,
                     cursor: LockstepCursor | None = None) -> Iterator[StepGroup]:
    """Yield one tuple per step index: ``group[k]`` is run k's record of that step, or None once
    run k has ended (its last record was converged / diverged / finished). Group 0 holds the
    start records. Ends after the group in which the last running run ended.

    ``iterate`` is the single-run iterator (tests substitute a failing one); with ``cursor`` or
    ``resume`` it is called as ``iterate(config, resume=..., cursor=...)``. ``cursor``: a
    ``LockstepCursor`` whose ``snapshot()`` (taken between two groups) is the state to go on
    from; ``resume``: such a snapshot of these configs after group g: the groups then go on
    with group g+1, exactly as the uninterrupted iteration's (a run that had ended stays
    ended, its entries None)."""
    if cursor is None and resume is None:
        runs = [iterate(config) for config in configs]
        alive = [True] * len(runs)
    else:
        cursor = LockstepCursor() if cursor is None else cursor
        cursor.runs = [RunCursor() for _ in configs]
        if resume is None:
            starts: tuple[RunSnapshot | None, ...] = (None,) * len(configs)
            alive = [True] * len(configs)
        else:
            starts = resume.runs
            if len(starts) != len(configs):
                raise ValueError(f"a snapshot of {len(starts)} runs, resumed with "
                                 f"{len(configs)}")
            alive = [start is not None and not start.ended for start in starts]
            cursor.group = resume.group
        runs = [iterate(config, resume=start, cursor=run_cursor) if live else None
                for config, start, run_cursor, live in zip(configs, starts, cursor.runs, alive)]
        cursor.alive = alive
    while any(alive):
        group: list[StepRecord | None] = []
        for k, records in enumerate(runs):
            record = None
            if alive[k]:
                record = next(records, None)
                if record is None or record.finished:
                    alive[k] = False
            group.append(record)
        if all(r is None for r in group):
            return
        if cursor is not None:
            cursor.group += 1
        yield tuple(group)


class LockstepCursor:
    """Where an ``iterate_lockstep`` stands (set by it): the last group's index, the runs that
    are still going and each run's ``RunCursor``."""

    def __init__(self) -> None:
        self.group = -1   # nothing yielded yet
        self.alive: list[bool] = []
        self.runs: list[RunCursor] = []

    def snapshot(self) -> LockstepSnapshot:
        """The state to go on from the last group yielded (call it between two groups)."""
        if self.group < 0:
            raise ValueError("a lock-step iteration can be snapshotted only after its first "
                             "group")
        return LockstepSnapshot(self.group, tuple(
            run.snapshot() if live else None for run, live in zip(self.runs, self.alive)))


@dataclass(frozen=True)
class LockstepSnapshot:
    """The state of a lock-step iteration after group ``group`` (its step index): one
    ``RunSnapshot`` per run, None for a run that had ended before or in that group. Pickles."""

    group: int
    runs: tuple[RunSnapshot | None, ...]


def group_finished(group: StepGroup) -> bool:
    """True for the last group of a lock-step iteration: no run is still running."""
    return all(r is None or r.finished for r in group)


def group_step(group: StepGroup) -> int:
    """The step index of a group (every record in it has this step)."""
    for record in group:
        if record is not None:
            return record.step
    raise ValueError("an empty step group")


def split_groups(groups: Iterable[StepGroup], n_runs: int) -> list[list[StepRecord]]:
    """Per run, its records in ``groups`` (Nones dropped): what each run's history appends."""
    out: list[list[StepRecord]] = [[] for _ in range(n_runs)]
    for group in groups:
        for k, record in enumerate(group):
            if record is not None:
                out[k].append(record)
    return out


# -- naming and shared settings -------------------------------------------------------------
_HP_WORDS = {"momentum": "mom", "dampening": "damp", "weight_decay": "wd", "alpha": "α",
             "betas": "β", "eps": "eps", "lr_decay": "decay",
             "initial_accumulator_value": "acc0"}
_FLAGS = {"nesterov": "nesterov", "centered": "centered", "amsgrad": "amsgrad",
          "decoupled_weight_decay": "decoupled wd"}


def _num(value: Any) -> str:
    """A number as ``%g``; the text settings (L-BFGS's line search) and None as they read."""
    if value is None:
        return "none"
    return value if isinstance(value, str) else f"{value:g}"


def default_run_name(config: RunConfig) -> str:
    """A short description that tells runs apart: the optimizer and lr, every hyperparameter
    that differs from torch's default, then the batch size (problems with data), the schedule,
    the order and the seed when they are not the usual ones.

    >>> default_run_name(RunConfig(problem="linreg", lr=0.01, batch_size=10,
    ...                            hyperparams={"momentum": 0.9}))
    'sgd lr=0.01 mom=0.9 batch=10'
    """
    from gdviz.core.optimizers import OPTIMIZERS

    parts = [config.optimizer, f"lr={_num(config.lr)}"]
    for spec in OPTIMIZERS[config.optimizer].hyperparams:
        value: Any = config.hyperparams.get(spec.name, spec.default)
        if _same(value, spec.default):
            continue
        if spec.name in _FLAGS:
            parts.append(_FLAGS[spec.name] if value else f"no {_FLAGS[spec.name]}")
        elif isinstance(value, (tuple, list)):
            parts.append(f"{_HP_WORDS.get(spec.name, spec.name)}="
                         + ",".join(_num(v) for v in value))
        else:
            parts.append(f"{_HP_WORDS.get(spec.name, spec.name)}={_num(value)}")
    problem = config.make_problem()
    if problem.has_data:
        parts.append("batch=full" if config.batch_size is None or
                     config.batch_size >= problem.n_samples else f"batch={config.batch_size}")
        if config.order != "shuffle":
            parts.append({"replacement": "with repl."}.get(config.order, config.order))
    if config.schedule != "constant":
        parts.append(f"{config.schedule} schedule")
    if config.seed != 0:
        parts.append(f"seed={config.seed}")
    return " ".join(parts)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return tuple(a) == tuple(b)
    return a == b


def share_settings(config: RunConfig, source: RunConfig) -> RunConfig:
    """``config`` with the shared settings (SHARED_FIELDS) of ``source``: what another run of a
    comparison becomes when the problem, start point or limits are edited in one of them. The
    batch size is clipped to the (new) number of samples; ConfigError if still invalid."""
    changes = {name: getattr(source, name) for name in SHARED_FIELDS
               if getattr(config, name) != getattr(source, name)}
    if not changes:
        return config
    if config.batch_size is not None:
        n = source.make_problem().n_samples
        changes["batch_size"] = max(1, min(config.batch_size, n))
    return config.with_changes(**changes)


def check_runs(configs: Sequence[RunConfig]) -> None:
    """ConfigError unless 1..MAX_RUNS runs share their problem, start point and limits."""
    if not 1 <= len(configs) <= MAX_RUNS:
        raise ConfigError(f"a comparison holds 1 to {MAX_RUNS} runs, got {len(configs)}")
    first = configs[0]
    for k, config in enumerate(configs[1:], start=2):
        for name in SHARED_FIELDS:
            if getattr(config, name) != getattr(first, name):
                raise ConfigError(f"run {k} differs from run 1 in {name}: every run of a "
                                  "comparison shares the problem, start point and limits")
