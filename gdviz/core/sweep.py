"""Learning-rate sweeps: one run configuration at every lr of a log grid, K seeds each.

``sweep_steps(config, lrs, objective, seeds)`` is a generator: it yields the fraction of the
work done (0..1) between chunks of work (at most ``CHUNK_SECONDS`` of computing apart) and
returns a ``SweepResult``; closing it (or not asking for the next value) cancels the sweep.
``run_sweep`` drives it with a progress callback and a cancel check (the CLI's way).

Objectives, of each (lr, seed) run over the **horizon** H = the run's step limit:

- ``final``: the full loss after the run's last step;
- ``steps-to:LOSS``: the first step whose full loss is <= LOSS (step 0, the start, counts),
  or H + 1 when the run never gets there;
- ``auc``: the mean of the learning curve, the full losses after steps 1..H. A run that
  stops early without diverging (converged by ``tol``) keeps its last loss for the steps
  after it.

A run that diverges (the runner's rule: a non-finite value, or a full loss above the
divergence threshold) gets the worst objective, ``inf``, and is marked, whatever it reached
before. Lower is better for all three. Nothing is clipped: the runs are exactly
``runner.iterate``'s (no gradient clipping anywhere in gdviz).

How the runs are computed: optimizers the ensemble runner vectorises (core.ensemble) run
every (lr, seed) pair as one ensemble; Rprop and ASGD (their state starts from the lr) as
one ensemble of the K seeds per lr; the rest (lbfgs, newton, adafactor, the plateau schedule)
with ``runner.iterate``, one run at a time. Each member of an ensemble is its single run bit
for bit (tests/core/test_ensemble.py), so the objectives are those of separate runs. The
ensemble starts all its members from one point, so where the start is drawn from the seed
(a network's default initialisation) each ensemble holds one seed. A run that draws nothing
at random (``seeds_draw_nothing``: no gradient noise, a fixed start, one sample or the
sequential order) is the same for every seed: it is computed once and counted K times.

The **usable window**: the widest stretch of neighbouring grid points around the best lr
whose mean objective is within ``factor`` (default 2) of the best mean: <= best·factor for a
positive best, <= best/factor for a negative one (a loss with a negative minimum), == 0 for a
best of 0. Its width in decades is log10(high/low), at the grid's resolution (41 points over
6 decades: 0.15 decade a point). No Qt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gdviz.core.ensemble import check_vectorisable, iterate_ensemble
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.settings_parse import parse_float, parse_int

DEFAULT_POINTS = 41
DEFAULT_DECADES = 6.0
DEFAULT_FACTOR = 2.0
MAX_POINTS = 1000
#: the longest stretch of computing between two yields of ``sweep_steps`` (a cancel waits at
#: most this long plus one step)
CHUNK_SECONDS = 0.05
OBJECTIVE_NAMES = ("final", "steps-to:LOSS", "auc")
#: the most runs in one ensemble: its arrays are (members, p) several times over (4096
#: members of a network of 1000 parameters: 33 MB an array)
MAX_MEMBERS = 4096
_ONE = np.ones(1, dtype=bool)


@dataclass(frozen=True, slots=True)
class Objective:
    """What a sweep minimises. ``kind``: "final", "steps-to" or "auc"; ``target``: the loss
    of "steps-to" (None otherwise)."""

    kind: str
    target: float | None = None

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``final``, ``auc`` or ``steps-to:LOSS``; ConfigError (one sentence) otherwise."""
        name, sep, value = str(text).strip().partition(":")
        name = name.strip().lower()
        if name in ("final", "auc") and not sep:
            return cls(name)
        if name == "steps-to":
            if not value.strip():
                raise ConfigError("the objective steps-to needs its loss: steps-to:LOSS, "
                                  "e.g. steps-to:1e-3")
            target = parse_float(value.strip(), "the loss of steps-to")
            if not math.isfinite(target):
                raise ConfigError(f"the loss of steps-to must be finite, got {value.strip()}")
            return cls("steps-to", target)
        raise ConfigError(f"unknown objective {text!r}: use one of "
                          f"{', '.join(OBJECTIVE_NAMES)}")

    @property
    def label(self) -> str:
        """Words for an axis or a summary: "final loss", "steps to loss <= 0.001", ..."""
        if self.kind == "final":
            return "final loss"
        if self.kind == "auc":
            return "mean loss over the horizon"
        return f"steps to loss ≤ {self.target:g}"

    @property
    def text(self) -> str:
        """As the CLI writes it: ``final``, ``auc``, ``steps-to:0.001``."""
        return f"steps-to:{self.target:g}" if self.kind == "steps-to" else self.kind


def log_grid(low: float, high: float, points: int) -> np.ndarray:
    """``points`` learning rates from ``low`` to ``high`` (both included), evenly spaced in
    log10; ConfigError unless 0 < low < high, both finite, 2 <= points <= MAX_POINTS."""
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ConfigError(f"the learning rates of a sweep need 0 < LOW < HIGH, both finite; "
                          f"got {low:g} and {high:g}")
    if not 2 <= points <= MAX_POINTS:
        raise ConfigError(f"a sweep takes 2 to {MAX_POINTS} learning rates, got {points}")
    return np.logspace(math.log10(low), math.log10(high), points)


def default_grid(lr: float, points: int = DEFAULT_POINTS,
                 decades: float = DEFAULT_DECADES) -> np.ndarray:
    """``points`` learning rates over ``decades`` decades centred (in log) on ``lr``."""
    half = 10.0 ** (decades / 2)
    return log_grid(lr / half, lr * half, points)


def parse_grid(text: str) -> np.ndarray:
    """``LOW:HIGH:N`` (the CLI's ``--lrs``) as ``log_grid(LOW, HIGH, N)``."""
    parts = str(text).split(":")
    if len(parts) != 3:
        raise ConfigError(f"--lrs must look like LOW:HIGH:N, e.g. 1e-4:1:41; got {text!r}")
    return log_grid(parse_float(parts[0].strip(), "the lowest learning rate"),
                    parse_float(parts[1].strip(), "the highest learning rate"),
                    parse_int(parts[2].strip(), "the number of learning rates"))


@dataclass(frozen=True, eq=False)
class SweepResult:
    """The objective of every (lr, seed) run and what follows from it.

    lrs:       (L,) learning rates, ascending
    seeds:     (K,) seeds
    values:    (L, K) objective of each run (inf: diverged)
    diverged:  (L, K) bool, the runs that diverged
    horizon:   steps each run may take (the config's step limit)
    """

    config: RunConfig
    objective: Objective
    lrs: np.ndarray
    seeds: tuple[int, ...]
    values: np.ndarray
    diverged: np.ndarray
    horizon: int
    factor: float = DEFAULT_FACTOR

    @property
    def mean(self) -> np.ndarray:
        """(L,) mean over the seeds; inf where any seed diverged."""
        return self.values.mean(axis=1)

    @property
    def spread(self) -> np.ndarray:
        """(L,) standard deviation over the seeds (0 for one seed); NaN where any diverged."""
        with np.errstate(invalid="ignore"):
            spread = self.values.std(axis=1)
        return np.where(self.diverged.any(axis=1), np.nan, spread)

    @property
    def best_index(self) -> int | None:
        """Index of the lowest mean (the smallest lr among equal ones); None when every lr
        diverged."""
        mean = self.mean
        if not np.isfinite(mean).any():
            return None
        return int(np.argmin(mean))

    @property
    def best_lr(self) -> float | None:
        best = self.best_index
        return None if best is None else float(self.lrs[best])

    @property
    def best_value(self) -> float | None:
        best = self.best_index
        return None if best is None else float(self.mean[best])

    def within_factor(self) -> np.ndarray:
        """(L,) bool: the lrs whose mean objective is within ``factor`` of the best."""
        best = self.best_value
        mean = self.mean
        if best is None:
            return np.zeros(len(self.lrs), dtype=bool)
        if best > 0:
            return mean <= best * self.factor
        if best < 0:
            return mean <= best / self.factor
        return mean == 0.0

    @property
    def window(self) -> tuple[int, int] | None:
        """(first, last) grid index of the usable window (the neighbours of the best within
        the factor), or None when every lr diverged."""
        best = self.best_index
        if best is None:
            return None
        ok = self.within_factor()
        low = high = best
        while low > 0 and ok[low - 1]:
            low -= 1
        while high < len(ok) - 1 and ok[high + 1]:
            high += 1
        return low, high

    @property
    def window_lrs(self) -> tuple[float, float] | None:
        window = self.window
        return None if window is None else (float(self.lrs[window[0]]),
                                            float(self.lrs[window[1]]))

    @property
    def window_decades(self) -> float | None:
        lrs = self.window_lrs
        return None if lrs is None else math.log10(lrs[1] / lrs[0])

    @property
    def measured(self) -> str:
        """What the numbers are: "final loss, mean of 8 seeds over 500 steps"."""
        seeds = len(self.seeds)
        return (f"{self.objective.label}, mean of {seeds} seed{'s' if seeds > 1 else ''} "
                f"over {self.horizon} steps")

    def brief(self) -> str:
        """The outcome in a few words (the window's dialog, one line per run): "best lr 0.0028
        (0.108); window 0.0028 to 0.004 = 0.15 decades; 15 of 41 diverged"."""
        diverged = f"{int(self.diverged.sum())} of {self.diverged.size} diverged"
        if self.best_index is None:
            return f"every run diverged ({diverged})"
        low, high = self.window_lrs
        return (f"best lr {self.best_lr:.4g} ({self.best_value:.4g}); window {low:.4g} to "
                f"{high:.4g} = {self.window_decades:.2f} decades; {diverged}")

    def summary(self) -> str:
        """One line: the best lr, its objective, the usable window and the diverged runs."""
        diverged = int(self.diverged.sum())
        ran = f"{diverged} of {self.diverged.size} runs diverged"
        if self.best_index is None:
            return f"no learning rate works: every run diverged ({self.measured}; {ran})"
        low, high = self.window_lrs
        return (f"best lr {self.best_lr:.4g} ({self.measured}: {self.best_value:.6g}); usable "
                f"window {low:.4g} to {high:.4g} = {self.window_decades:.2f} decades (mean "
                f"within {self.factor:g}x of the best); {ran}")


class _Scores:
    """Running objectives of M runs, fed one step at a time (the same arithmetic whether a
    run comes from an ensemble or from ``iterate``)."""

    def __init__(self, runs: int, objective: Objective, horizon: int) -> None:
        self.objective, self.horizon = objective, horizon
        self.first_hit = np.full(runs, -1, dtype=np.int64)
        self.total = np.zeros(runs)         # sum of the losses after steps 1..last
        self.last_loss = np.full(runs, np.nan)
        self.last_step = np.zeros(runs, dtype=np.int64)
        self.diverged = np.zeros(runs, dtype=bool)

    def add(self, step: int, runs: np.ndarray, losses: np.ndarray, took: np.ndarray) -> None:
        """The full losses (R,) after ``step`` of the runs ``runs`` (R,) int; only those with
        ``took`` (R,) bool took the step (the others ended earlier)."""
        runs, losses = runs[took], losses[took]
        if self.objective.kind == "steps-to":
            hit = runs[(self.first_hit[runs] < 0) & (losses <= self.objective.target)]
            self.first_hit[hit] = step
        if step > 0:
            self.total[runs] += losses
        self.last_loss[runs] = losses
        self.last_step[runs] = step

    def end(self, runs: Iterable[int], status: str) -> None:
        if status == "diverged":
            self.diverged[list(runs)] = True

    def values(self) -> np.ndarray:
        """(M,) the objective of every run; inf for a diverged one."""
        kind, h = self.objective.kind, self.horizon
        if kind == "final":
            out = self.last_loss.copy()
        elif kind == "auc":
            out = (self.total + self.last_loss * (h - self.last_step)) / h
        else:
            out = np.where(self.first_hit >= 0, self.first_hit, h + 1).astype(float)
        out[self.diverged] = np.inf
        return out


def _plan(config: RunConfig, several_lrs: bool) -> str:
    """"ensemble" (members with different lrs together), "per-lr" (one lr per ensemble) or
    "single" (runner.iterate, run by run): the ensemble runner's own rules decide."""
    try:
        check_vectorisable(config, one_lr=not several_lrs)
        return "ensemble"
    except ConfigError:
        pass
    try:
        check_vectorisable(config, one_lr=True)
        return "per-lr"
    except ConfigError:
        return "single"


def seeds_draw_nothing(config: RunConfig) -> bool:
    """True when a run of ``config`` draws nothing at random, so every seed gives the same
    run bit for bit: no gradient noise, a start that is not drawn from the seed, and batches
    that do not depend on it (one sample, or the sequential order; a shuffled full batch is
    summed in another order, which rounds differently)."""
    problem = config.make_problem()
    if problem.grad_noise or _start_follows_seed(config, (config.seed, config.seed + 1)):
        return False
    return problem.n_samples == 1 or config.order == "sequential"


def _start_follows_seed(config: RunConfig, seeds: Sequence[int]) -> bool:
    """True when the default start is drawn from the run's seed (a network's initialisation)
    and differs between ``seeds``."""
    if config.init is not None or len(seeds) < 2:
        return False
    first = config.with_changes(seed=seeds[0]).start_point()
    return any(not np.array_equal(config.with_changes(seed=s).start_point(), first)
               for s in seeds[1:])


@dataclass(frozen=True)
class _Group:
    """Runs computed together: ``pairs`` (i, m) of grid index and seed index, as one ensemble
    of ``config`` (its members' seeds and lrs), or one after another with ``iterate``."""

    config: RunConfig
    pairs: list[tuple[int, int]]
    ensemble: bool


def _groups(config: RunConfig, lrs: np.ndarray, seeds: tuple[int, ...]) -> list[_Group]:
    """How the (lr, seed) runs are computed. The ensemble starts every member from one point,
    so where the start is drawn from the seed each ensemble holds one seed (its config's)."""
    plan = _plan(config, len(lrs) > 1)
    lr_rows, seed_cols = range(len(lrs)), range(len(seeds))
    if plan == "single":
        return [_Group(config, [(i, m) for i in lr_rows for m in seed_cols], False)]
    if _start_follows_seed(config, seeds):
        if plan == "ensemble":
            return [_Group(config.with_changes(seed=seeds[m]), [(i, m) for i in lr_rows], True)
                    for m in seed_cols]
        return [_Group(config.with_changes(seed=seeds[m]), [(i, m)], True)
                for i in lr_rows for m in seed_cols]
    if plan == "ensemble":
        return [_Group(config, [(i, m) for i in lr_rows for m in seed_cols], True)]
    return [_Group(config, [(i, m) for m in seed_cols], True) for i in lr_rows]


def sweep_steps(config: RunConfig, lrs: Sequence[float], objective: Objective,
                seeds: Sequence[int], factor: float = DEFAULT_FACTOR,
                ) -> Generator[float, None, SweepResult]:
    """Sweep ``config`` over ``lrs`` with ``seeds``: a generator yielding the fraction done,
    returning the SweepResult. Bad input (an lr the config refuses, no seeds, a factor <= 1)
    raises ConfigError here, before any work."""
    lrs = np.asarray([float(lr) for lr in lrs])
    if len(lrs) < 1:
        raise ConfigError("a sweep needs at least one learning rate")
    for lr in lrs:
        config.with_changes(lr=float(lr))   # refused lrs fail before any work
    seeds = tuple(int(s) for s in seeds)
    if not seeds or any(s < 0 for s in seeds):
        raise ConfigError("a sweep needs one or more seeds, whole numbers >= 0")
    if not (math.isfinite(factor) and factor > 1):
        raise ConfigError(f"the usable window's factor must be a number > 1, got {factor:g}")
    order = np.argsort(lrs, kind="stable")
    lrs = lrs[order]
    return _sweep(config, lrs, objective, seeds, float(factor))


def _sweep(config: RunConfig, lrs: np.ndarray, objective: Objective, seeds: tuple[int, ...],
           factor: float) -> Generator[float, None, SweepResult]:
    horizon = config.step_limit()
    # every seed gives the same run: compute the first, count it for all (bit for bit equal)
    computed = seeds[:1] if seeds_draw_nothing(config) else seeds
    k = len(computed)
    scores = _Scores(len(lrs) * k, objective, horizon)   # run (i, m) is i * k + m
    total = float(len(lrs) * k * horizon)
    done = 0.0
    clock = time.monotonic()

    def tick(work: float):
        """Count ``work`` run-steps; True when it is time to yield."""
        nonlocal done, clock
        done += work
        now = time.monotonic()
        if now - clock >= CHUNK_SECONDS:
            clock = now
            return True
        return False

    for group in _chunked(_groups(config, lrs, computed)):
        runs = np.array([i * k + m for i, m in group.pairs])
        if group.ensemble:
            batches = [(runs, iterate_ensemble(group.config, [computed[m] for _, m in group.pairs],
                                               [float(lrs[i]) for i, _ in group.pairs]))]
        else:
            batches = ((runs[j:j + 1], _as_steps(iterate(group.config.with_changes(
                lr=float(lrs[i]), seed=computed[m])))) for j, (i, m) in enumerate(group.pairs))
        for members, steps in batches:
            last = 0
            for step in steps:
                scores.add(step.step, members, step.loss, step.active)
                for member, (status, _) in step.ended.items():
                    scores.end([members[member]], status)
                if tick((step.step - last) * len(members)):
                    yield done / total
                last = step.step
            done += (horizon - last) * len(members)   # steps of runs that ended early
    yield 1.0
    values = scores.values().reshape(len(lrs), k)
    diverged = scores.diverged.reshape(len(lrs), k)
    if k < len(seeds):
        values, diverged = (np.repeat(a, len(seeds), axis=1) for a in (values, diverged))
    return SweepResult(config, objective, lrs, seeds, values, diverged, horizon, factor)


def _chunked(groups: list[_Group]) -> Iterator[_Group]:
    """Ensembles of at most MAX_MEMBERS members (the rest follow in further ensembles)."""
    for group in groups:
        if not group.ensemble:
            yield group
            continue
        for first in range(0, len(group.pairs), MAX_MEMBERS):
            yield _Group(group.config, group.pairs[first:first + MAX_MEMBERS], True)


@dataclass(frozen=True, slots=True)
class _OneRun:
    """A StepRecord seen as a one-member ensemble step (what ``_sweep`` reads of it)."""

    step: int
    loss: np.ndarray
    active: np.ndarray
    ended: dict


def _as_steps(records) -> Iterator[_OneRun]:
    for record in records:
        yield _OneRun(record.step, np.array([record.loss]), _ONE,
                      {0: (record.status, record.message)} if record.finished else {})


def run_sweep(config: RunConfig, lrs: Sequence[float], objective: Objective,
              seeds: Sequence[int], factor: float = DEFAULT_FACTOR,
              progress: Callable[[float], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> SweepResult | None:
    """``sweep_steps`` run to the end: ``progress(fraction)`` after each chunk, ``cancelled()``
    asked before each chunk (True: stop, return None)."""
    steps = sweep_steps(config, lrs, objective, seeds, factor)
    while True:
        if cancelled is not None and cancelled():
            steps.close()
            return None
        try:
            fraction = next(steps)
        except StopIteration as end:
            return end.value
        if progress is not None:
            progress(fraction)
