"""K runs that differ only in their seed (and optionally their learning rate), advanced together.

``iterate_ensemble(config, seeds, lrs)`` yields one ``EnsembleStep`` per step index, holding
every member's numbers as arrays over the run axis: one numpy call does the work of K runs.
Member m is ``runner.iterate(config.with_changes(seed=seeds[m], lr=lrs[m]))`` bit for bit:

- its batches come from its own ``np.random.default_rng(seeds[m])``, drawn with the same calls
  in the same order (``sampling.member_epoch_batches``, and the gradient noise after them);
- the problem evaluates member m's samples at member m's parameters with the same rounding as
  a call for that member alone (``Problem.member_sample_grads`` & co.: one call for kernels
  that take per-member data, ``Problem.member_kernels``, a loop over members for the others);
- the optimizer's update rule runs on (K, p) arrays. The rules in ``VECTORISED`` are
  elementwise (their only scalars, the step count and the bias corrections, are shared), so
  the rows are each member's own update; tests/core/test_ensemble.py checks every one of them
  bit for bit. The others are refused (ConfigError): L-BFGS (a line search over all
  coordinates), Newton (a Hessian solve) and Adafactor (the RMS of all parameters). Rprop and
  ASGD start their state from the first lr, so they need one lr for every member. A schedule
  that needs the full loss (plateau) is refused: each member's lr would follow its own loss.
- the schedule steps as in ``runner.iterate`` (after every epoch, or every step with
  ``schedule_every="step"``), one ``LrScheduler`` per distinct lr; a cycled momentum (it does
  not depend on the lr) is put into every member's hyperparameters as the runner does.

Every member takes step i at the same time; a member that ends (diverged, converged, finished)
keeps its last parameters and is marked inactive in later steps, and the iteration ends after
the step in which the last member ended. No Qt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core import optimizers
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import (
    converged_message,
    divergence_reason,
    finished_message,
    with_momentum,
)
from gdviz.core.sampling import member_epoch_batches
from gdviz.core.scheduler import LrScheduler

MAX_SEEDS = 10_000

#: the optimizers whose update rule is elementwise, so K runs step as one (K, p) array
VECTORISED = ("sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax",
              "adadelta", "rprop", "asgd", "lion")
#: of those, the ones whose state starts from the first step's lr (one lr for all members)
_STATE_FROM_LR = ("rprop", "asgd")


@dataclass(frozen=True, slots=True, eq=False)
class EnsembleStep:
    """Step ``step`` of K runs (step 0: the start point). Arrays are read-only.

    step, epoch:  as in StepRecord (every member is at the same step)
    lr:           (K,) learning rate each member used
    batch:        (K, k) int sample indices of each member's batch ((K, 0) at step 0)
    params:       (K, p) parameters after the step (a member that ended earlier: its last)
    grad:         (K, p) the batch gradient each member used (step 0: the full gradient)
    batch_loss:   (K,) loss on the batch before the step (step 0: the full loss)
    loss:         (K,) full loss after the step
    active:       (K,) bool, True for the members that took this step (that have a record
                  of it in ``runner.iterate``)
    ended:        member index -> (status, message) for the members whose last step this is
    state:        the optimizer's state after the step, every array (K, p)
    """

    step: int
    epoch: int
    lr: np.ndarray
    batch: np.ndarray
    params: np.ndarray
    grad: np.ndarray
    batch_loss: np.ndarray
    loss: np.ndarray
    active: np.ndarray
    ended: Mapping[int, tuple[str, str]]
    state: Mapping[str, Any]

    @property
    def finished(self) -> bool:
        """True for the last step of the iteration: no member is still running."""
        return len(self.ended) == int(self.active.sum())


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def seed_range(first: int, count: Any) -> list[int]:
    """``count`` seeds from ``first`` on (the CLI's ``--seeds K``); ConfigError unless
    1 <= count <= MAX_SEEDS."""
    from gdviz.core.settings_parse import parse_int

    k = parse_int(count, "number of seeds")
    if not 1 <= k <= MAX_SEEDS:
        raise ConfigError(f"number of seeds must be between 1 and {MAX_SEEDS}, got {k}")
    return list(range(first, first + k))


def check_vectorisable(config: RunConfig, one_lr: bool = True) -> None:
    """ConfigError (one sentence) unless K runs of ``config`` can advance as one array."""
    name = config.optimizer
    if name not in VECTORISED:
        raise ConfigError(f"{name} cannot run as an ensemble (its step is not elementwise); "
                          f"use one of {', '.join(VECTORISED)}")
    if name in _STATE_FROM_LR and not one_lr:
        raise ConfigError(f"{name} starts its state from the learning rate: an ensemble of it "
                          "needs one learning rate for every member")
    if LrScheduler(config.schedule, config.lr, config.schedule_params,
                   config.schedule_units()).needs_metric:
        raise ConfigError(f"the {config.schedule} schedule follows each run's own loss: "
                          "it cannot run as an ensemble")


def iterate_ensemble(config: RunConfig, seeds: Sequence[int],
                     lrs: Sequence[float] | None = None) -> Iterator[EnsembleStep]:
    """Run ``config`` once per seed (member m: ``seeds[m]``, and ``lrs[m]`` if given, else
    ``config.lr``), all together; yield the start point and then every step.

    ConfigError for no seeds, a negative seed, lrs of another length or not > 0, or a
    configuration ``check_vectorisable`` refuses.
    """
    k_runs = len(seeds)
    if k_runs < 1:
        raise ConfigError("an ensemble needs at least one seed")
    if any(int(s) < 0 for s in seeds):
        raise ConfigError("seeds must be whole numbers >= 0")
    if lrs is not None:
        if len(lrs) != k_runs:
            raise ConfigError(f"give one learning rate per seed: {len(lrs)} for {k_runs} seeds")
        checked = {lr: config.with_changes(lr=lr).lr for lr in dict.fromkeys(lrs)}
        base_lrs = [checked[lr] for lr in lrs]
    else:
        base_lrs = [config.lr] * k_runs
    distinct = list(dict.fromkeys(base_lrs))
    one_lr = len(distinct) == 1
    check_vectorisable(config, one_lr)

    problem = config.make_problem()
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    name, hp = config.optimizer, config.hyperparams
    n = problem.n_samples
    batch_size = config.effective_batch_size()
    limit = config.step_limit()
    noise = problem.grad_noise
    tol, threshold = config.tol, config.diverge_threshold
    units = config.schedule_units()
    schedulers = {lr: LrScheduler(config.schedule, lr, config.schedule_params, units)
                  for lr in distinct}
    first = schedulers[distinct[0]]
    per_step = config.schedule_every == "step"
    which = np.array([distinct.index(lr) for lr in base_lrs])

    def current_lrs() -> tuple[np.ndarray, Any]:
        """(every member's lr (K,), the lr to step with: a float when all are equal, else a
        (K, 1) column; one float keeps the single run's arithmetic)."""
        values = np.array([schedulers[lr].lr for lr in distinct])[which]
        return _frozen(values), (first.lr if one_lr else values[:, None])

    def step_schedules(at: float) -> None:
        for scheduler in schedulers.values():
            scheduler.step(at)

    # With elementwise kernels the full loss is the sum of the per-sample losses (as
    # Problem.loss computes it) and the next step's batch losses are read from them;
    # otherwise Problem.member_losses gives the K full losses (one call where it can).
    reuse = problem.elementwise_kernels and not problem.fast_loss
    full_factor = problem.reduce_factor(n)

    def full_losses(at: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(per-sample losses (K, n) when they are reused, else None; full losses (K,))."""
        if reuse:
            per_sample = problem.member_sample_losses(at)
            return per_sample, per_sample.sum(axis=-1) * full_factor
        return None, problem.member_losses(at)

    # Each member starts where iterate starts with its seed: the same point for every member
    # but a network's, whose initialisation is drawn from the seed (computed once per
    # distinct start, exactly as iterate does).
    if config.init is not None:
        starts = [config.start_point()] * k_runs
    else:
        by_seed = {int(s): problem.start_for_seed(int(s)) for s in dict.fromkeys(seeds)}
        starts = [by_seed[int(s)] for s in seeds]
    at_start: dict[bytes, tuple[float, np.ndarray, str]] = {}
    for start in starts:
        key = start.tobytes()
        if key not in at_start:
            loss0, grad0 = float(problem.loss(start)), problem.grad(start)
            at_start[key] = (loss0, grad0, divergence_reason(start, grad0, loss0, threshold))
    firsts = [at_start[start.tobytes()] for start in starts]
    params = _frozen(np.stack(starts))
    lr_vector, lr = current_lrs()
    state: Mapping[str, Any] = optimizers.init_state(
        name, params, with_momentum(hp, first.momentum), first.lr)
    ended = {m: ("diverged", f"diverged at the start point: {why}")
             for m, (_, _, why) in enumerate(firsts) if why}
    active = _frozen(np.ones(k_runs, dtype=bool))
    loss = _frozen(np.array([loss0 for loss0, _, _ in firsts]))
    yield EnsembleStep(0, 0, lr_vector, _frozen(np.zeros((k_runs, 0), dtype=np.int64)), params,
                       _frozen(np.stack([grad0 for _, grad0, _ in firsts])), loss, loss, active,
                       ended, state)
    if len(ended) == k_runs:
        return

    losses, _ = full_losses(params)
    alive = np.array([m not in ended for m in range(k_runs)])
    step = 0
    epoch = 0
    while True:
        epoch += 1
        for batch in member_epoch_batches(n, batch_size, config.order, rngs):
            step += 1
            lr_vector, lr = current_lrs()
            step_hp = with_momentum(hp, first.momentum)
            with np.errstate(all="ignore"):
                sample_grads = problem.member_sample_grads(params, batch)
                if noise:
                    draws = np.stack([rng.standard_normal(sample_grads.shape[1:])
                                      for rng in rngs])
                    sample_grads = sample_grads + noise * draws
                factor = problem.reduce_factor(batch.shape[1])
                grad = _frozen(sample_grads.sum(axis=1) * factor)
                batch_losses = (np.take_along_axis(losses, batch, axis=1) if losses is not None
                                else problem.member_sample_losses(params, batch))
                batch_loss = _frozen(batch_losses.sum(axis=-1) * factor)
                new_params, new_state = optimizers.step(name, params, grad, state, lr, step_hp)
                new_losses, new_loss = full_losses(new_params)
                diverged = (~np.isfinite(grad).all(axis=1) | ~np.isfinite(new_params).all(axis=1)
                            | ~np.isfinite(new_loss) | (new_loss > threshold))
                converged = (np.abs(new_loss - loss) < tol if tol is not None
                             else np.zeros(k_runs, dtype=bool))
            ending = alive & (diverged | converged | (step >= limit))
            ended = {}
            for m in np.flatnonzero(ending).tolist():
                if diverged[m]:
                    why = divergence_reason(new_params[m], grad[m], float(new_loss[m]),
                                            threshold)
                    ended[m] = ("diverged", f"diverged at step {step}: {why}")
                elif converged[m]:
                    ended[m] = ("converged", converged_message(
                        step, float(abs(new_loss[m] - loss[m])), tol))
                else:
                    ended[m] = ("finished", finished_message(step, epoch))
            took = _frozen(alive.copy())
            if not took.all():  # members that ended earlier keep their last values
                new_params = np.where(took[:, None], new_params, params)
                new_loss = np.where(took, new_loss, loss)
            params, state, loss = _frozen(new_params), new_state, _frozen(new_loss)
            losses = new_losses  # (an ended member's row is never read again)
            shown = dict(state)
            if first.momentum is not None:
                shown["cycled_momentum"] = float(first.momentum)
            yield EnsembleStep(step, epoch, lr_vector, batch, params, grad, batch_loss, loss,
                               took, ended, shown)
            alive &= ~ending
            if not alive.any():
                return
            if per_step:
                step_schedules(0.0)
        if not per_step:
            step_schedules(0.0)
