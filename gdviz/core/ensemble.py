"""K runs that differ only in their seed (and optionally their learning rate), advanced together.

``iterate_ensemble(config, seeds, lrs)`` yields one ``EnsembleStep`` per step index, holding
every member's numbers as arrays over the run axis: one numpy call does the work of K runs.
Member m is ``runner.iterate(config.with_changes(seed=seeds[m], lr=lrs[m]))`` bit for bit:

- its batches come from its own ``np.random.default_rng(seeds[m])``, drawn with the same calls
  in the same order (``sampling.member_epoch_batches``, and the gradient noise after them);
- the problem evaluates member m's samples at member m's parameters with the same rounding as
  a call for that member alone (``Problem.member_sample_grads`` & co.: one call for kernels
  that take per-member data, a loop over members for the others);
- the optimizer's update rule runs on (K, p) arrays. torch's rules for SGD, Adagrad, RMSprop,
  Adam and AdamW are elementwise (their only scalars, the step count and the bias corrections,
  are shared), so the rows are each member's own update. A rule that mixes coordinates or
  branches on lr (L-BFGS's line search, a global norm) would not be: the bit-for-bit test in
  tests/core/test_ensemble.py runs over every registered optimizer and says so.

Every member takes step i at the same time; a member that ends (diverged, converged, finished)
keeps its last parameters and is marked inactive in later steps, and the iteration ends after
the step in which the last member ended. No Qt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core import optimizers, schedules
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import converged_message, divergence_reason, finished_message
from gdviz.core.sampling import member_epoch_batches

MAX_SEEDS = 10_000


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


def iterate_ensemble(config: RunConfig, seeds: Sequence[int],
                     lrs: Sequence[float] | None = None) -> Iterator[EnsembleStep]:
    """Run ``config`` once per seed (member m: ``seeds[m]``, and ``lrs[m]`` if given, else
    ``config.lr``), all together; yield the start point and then every step.

    ConfigError for no seeds, a negative seed, or lrs of another length or not > 0.
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
    one_lr = len(set(base_lrs)) == 1

    problem = config.make_problem()
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    name, hp = config.optimizer, config.hyperparams
    n, _p = problem.n_samples, problem.n_params
    batch_size = config.effective_batch_size()
    limit = config.step_limit()
    noise = problem.grad_noise
    tol, threshold = config.tol, config.diverge_threshold

    def lrs_at(epoch: int) -> list[float]:
        return [schedules.lr_at(config.schedule, lr, epoch, config.schedule_params)
                for lr in base_lrs]

    # The start is the same for every member: computed once, exactly as iterate does.
    start = config.start_point()
    reuse = problem.elementwise_kernels and not problem.fast_loss  # as runner.iterate
    full_factor = problem.reduce_factor(n)

    def full_losses(at: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(per-sample losses (K, n) when they are reused, else None; full losses (K,))."""
        if reuse:
            per_sample = problem.member_sample_losses(at)
            return per_sample, per_sample.sum(axis=-1) * full_factor
        if problem.fast_loss and problem.elementwise_kernels:
            return None, np.asarray(problem.loss(at), dtype=np.float64)
        return None, np.array([float(problem.loss(row)) for row in at])
    loss0 = float(problem.loss(start))
    grad0 = problem.grad(start)
    params = _frozen(np.tile(start, (k_runs, 1)))
    state: Mapping[str, Any] = optimizers.init_state(name, params, hp)
    why = divergence_reason(start, grad0, loss0, threshold)
    ended = ({m: ("diverged", f"diverged at the start point: {why}") for m in range(k_runs)}
             if why else {})
    active = _frozen(np.ones(k_runs, dtype=bool))
    loss = _frozen(np.full(k_runs, loss0))
    yield EnsembleStep(0, 0, _frozen(np.array(lrs_at(0))),
                       _frozen(np.zeros((k_runs, 0), dtype=np.int64)), params,
                       _frozen(np.tile(grad0, (k_runs, 1))), loss, loss, active, ended, state)
    if why:
        return

    losses, _ = full_losses(params)
    alive = np.ones(k_runs, dtype=bool)
    step = 0
    epoch = 0
    while True:
        epoch_lrs = lrs_at(epoch)
        lr_vector = _frozen(np.array(epoch_lrs))
        # one float for all members keeps the single run's arithmetic; else a (K, 1) column
        lr: Any = epoch_lrs[0] if one_lr else lr_vector[:, None]
        epoch += 1
        for batch in member_epoch_batches(n, batch_size, config.order, rngs):
            step += 1
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
                new_params, new_state = optimizers.step(name, params, grad, state, lr, hp)
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
            yield EnsembleStep(step, epoch, lr_vector, batch, params, grad, batch_loss, loss,
                               took, ended, state)
            alive &= ~ending
            if not alive.any():
                return
