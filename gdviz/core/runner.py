"""The run loop: ``iterate(config)`` yields one immutable StepRecord per optimizer step.

Stop rules, in the order they are checked after each step:
  diverged  - any non-finite parameter, gradient or loss, or a full loss above the threshold;
  converged - |change of the full loss| < tol (when tol is set);
  finished  - the step or epoch limit is reached.
The last record carries the status and a sentence saying why. A diverging run never raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import MappingProxyType

import numpy as np

from gdviz.core import optimizers, schedules
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.sampling import epoch_batches

_EMPTY_BATCH = np.zeros(0, dtype=np.int64)
_EMPTY_BATCH.setflags(write=False)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def divergence_reason(params: np.ndarray, grad: np.ndarray, loss: float,
                      threshold: float) -> str:
    """A sentence explaining why the run diverged, or '' if it did not."""
    if not np.isfinite(grad).all():
        return "the gradient became infinite or NaN"
    if not np.isfinite(params).all():
        return "the parameters became infinite or NaN"
    if not math.isfinite(loss):
        return f"the loss became {loss}"
    if loss > threshold:
        return f"the loss {loss:.3g} exceeded the divergence threshold {threshold:.3g}"
    return ""


def converged_message(step: int, change: float, tol: float) -> str:
    return f"converged at step {step}: the loss changed by {change:.3g} < {tol:g}"


def finished_message(step: int, epoch: int) -> str:
    return f"finished after {step} steps ({epoch} epochs)"


def iterate(config: RunConfig) -> Iterator[StepRecord]:
    """Run ``config`` and yield the start point (step 0) and then every step's record.

    The generator ends after the record whose status is not "running". Stopping early is the
    caller's business (just stop iterating): nothing here blocks or holds resources.
    """
    problem = config.make_problem()
    rng = np.random.default_rng(config.seed)
    name, hp = config.optimizer, config.hyperparams
    n, p = problem.n_samples, problem.n_params
    batch_size = config.effective_batch_size()
    limit = config.step_limit()
    noise = problem.grad_noise

    # With elementwise kernels (and no closed-form loss) the full loss is summed from the
    # per-sample losses, as Problem.loss does, and the next step's batch losses are read
    # from them (the same numbers) instead of being computed again.
    reuse = problem.elementwise_kernels and not problem.fast_loss
    full_factor = problem.reduce_factor(n)

    def full_loss(at: np.ndarray) -> tuple[np.ndarray | None, float]:
        if reuse:
            per_sample = problem.sample_losses(at)
            return per_sample, float(per_sample.sum(axis=-1) * full_factor)
        return None, float(problem.loss(at))

    params = _frozen(config.start_point())
    state = MappingProxyType(optimizers.init_state(name, params, hp))
    losses, loss = full_loss(params)
    grad0 = _frozen(problem.grad(params))
    lr = schedules.lr_at(config.schedule, config.lr, 0, config.schedule_params)
    why = divergence_reason(params, grad0, loss, config.diverge_threshold)
    yield StepRecord(0, 0, lr, _EMPTY_BATCH, params, params, grad0,
                     _frozen(np.zeros((0, p))), state, loss, loss,
                     "diverged" if why else "running",
                     f"diverged at the start point: {why}" if why else "")
    if why:
        return

    step = 0
    epoch = 0
    while True:
        lr = schedules.lr_at(config.schedule, config.lr, epoch, config.schedule_params)
        epoch += 1
        for batch in epoch_batches(n, batch_size, config.order, rng):
            step += 1
            batch = _frozen(batch)
            # A diverging run overflows on purpose; the checks below report it in words, so
            # numpy's warnings are silenced per step (not across the yield: errstate is a
            # context variable and would leak into the caller between steps).
            with np.errstate(all="ignore"):
                sample_grads = problem.sample_grads(params, batch)
                if noise:
                    sample_grads = sample_grads + noise * rng.standard_normal(sample_grads.shape)
                factor = problem.reduce_factor(len(batch))
                grad = _frozen(sample_grads.sum(axis=0) * factor)
                batch_losses = (losses[batch] if losses is not None
                                else problem.sample_losses(params, batch))
                batch_loss = float(batch_losses.sum() * factor)
                new_params, new_state = optimizers.step(name, params, grad, state, lr, hp)
                new_losses, new_loss = full_loss(new_params)

            status, message = "running", ""
            why = divergence_reason(new_params, grad, new_loss, config.diverge_threshold)
            if why:
                status, message = "diverged", f"diverged at step {step}: {why}"
            elif config.tol is not None and abs(new_loss - loss) < config.tol:
                status = "converged"
                message = converged_message(step, abs(new_loss - loss), config.tol)
            elif step >= limit:
                status, message = "finished", finished_message(step, epoch)
            yield StepRecord(step, epoch, lr, batch, params, _frozen(new_params), grad,
                             _frozen(sample_grads), MappingProxyType(new_state), batch_loss,
                             new_loss, status, message)
            if status != "running":
                return
            params, state, loss, losses = new_params, new_state, new_loss, new_losses


def run_to_end(config: RunConfig) -> list[StepRecord]:
    """Every record of a run (tests and small scripts; the GUI streams instead)."""
    return list(iterate(config))
