"""The run loop: ``iterate(config)`` yields one immutable StepRecord per optimizer step.

Stop rules, in the order they are checked after each step:
  diverged  - any non-finite parameter, gradient or loss, or a full loss above the threshold;
  converged - |change of the full loss| < tol (when tol is set);
  finished  - the step or epoch limit is reached.
The last record carries the status and a sentence saying why. A diverging run never raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core import optimizers
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_snapshot import RunCursor, RunSnapshot
from gdviz.core.sampling import batches_after, epoch_order
from gdviz.core.scheduler import LrScheduler

_EMPTY_BATCH = np.zeros(0, dtype=np.int64)
_EMPTY_BATCH.setflags(write=False)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def divergence_reason(params: np.ndarray, grad: np.ndarray, loss: float,
                      threshold: float) -> str:
    """A sentence explaining why the run diverged, or '' if it did not."""
    if not np.all(np.isfinite(grad)):
        return "the gradient became infinite or NaN"
    if not np.all(np.isfinite(params)):
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


def with_momentum(hp: Mapping[str, Any], momentum: float | None) -> Mapping[str, Any]:
    """``hp`` with the momentum a schedule cycles (OneCycleLR, CyclicLR) put where torch puts
    it: into ``betas[0]`` when the optimizer has betas, else into ``momentum``."""
    if momentum is None:
        return hp
    if "betas" in hp:
        return {**hp, "betas": (momentum, hp["betas"][1])}
    return {**hp, "momentum": momentum}


def iterate(config: RunConfig, resume: RunSnapshot | None = None,
            cursor: RunCursor | None = None) -> Iterator[StepRecord]:
    """Run ``config`` and yield the start point (step 0) and then every step's record.

    The generator ends after the record whose status is not "running". Stopping early is the
    caller's business (just stop iterating): nothing here blocks or holds resources.

    The schedule steps as a torch loop calls ``scheduler.step()``: after every epoch or, with
    ``schedule_every="step"``, after every optimizer step; the plateau schedule watches the
    full loss after that epoch or step. An optimizer with a closure (L-BFGS) gets one for the
    step's batch: each evaluation is the batch loss and gradient at the point asked for (as a
    torch closure over the current batch would be; with the full batch, the full loss), with
    fresh gradient noise if the problem has any. The record's ``grad``, ``sample_grads`` and
    ``batch_loss`` are the first evaluation's, at the step's start. A record's ``state`` is
    ``optimizers.recorded_state`` of the optimizer's state (L-BFGS's pairs stay in the run), plus
    ``cycled_momentum`` when the schedule cycles the momentum or beta1: the value this step used.

    ``cursor``: a ``RunCursor`` the run keeps pointing at its state at each yield, so that
    ``cursor.snapshot()`` can be taken between two records. ``resume``: such a snapshot of
    this config's run at step s; the run then goes on from there and yields step s+1, s+2, ...
    exactly as the uninterrupted run does (nothing if the run had ended at step s).
    """
    problem = config.make_problem()
    name, hp = config.optimizer, config.hyperparams
    uses_closure = optimizers.get_optimizer(name).uses_closure
    uses_hessian = optimizers.get_optimizer(name).uses_hessian
    n, p = problem.n_samples, problem.n_params
    batch_size = config.effective_batch_size()
    epoch_steps = -(-n // batch_size)
    limit = config.step_limit()
    noise = problem.grad_noise
    per_step = config.schedule_every == "step"
    cursor = RunCursor() if cursor is None else cursor

    if resume is None:
        rng = np.random.default_rng(config.seed)
        scheduler = LrScheduler(config.schedule, config.lr, config.schedule_params,
                                config.schedule_units())
        params = _frozen(config.start_point())
        lr = scheduler.lr
        state = MappingProxyType(optimizers.init_state(
            name, params, with_momentum(hp, scheduler.momentum), lr))
        loss = float(problem.loss(params))
        grad0 = _frozen(problem.grad(params))
        why = divergence_reason(params, grad0, loss, config.diverge_threshold)
        # step 0 ends an "epoch 0" of no batches: the first step starts epoch 1
        step, epoch, taken, samples = 0, 0, epoch_steps, None
        cursor.hold(rng, scheduler, step, epoch, taken, samples, params, state, loss, bool(why))
        yield StepRecord(0, 0, lr, _EMPTY_BATCH, params, params, grad0,
                         _frozen(np.zeros((0, p))), state, loss, loss,
                         "diverged" if why else "running",
                         f"diverged at the start point: {why}" if why else "")
        if why:
            return
    else:
        rng, scheduler = resume.restored_rng(), resume.restored_scheduler()
        params, state, loss = resume.restored_params(), resume.restored_state(), resume.loss
        step, epoch, taken, samples = resume.step, resume.epoch, resume.taken, resume.samples
        cursor.hold(rng, scheduler, step, epoch, taken, samples, params, state, loss,
                    resume.ended)
        if resume.ended:
            return
        if per_step and step > 0:   # what the run did after yielding step s
            scheduler.step(loss)

    def batch_eval(at: np.ndarray, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(sample_grads (k, p) with noise, the batch gradient (p,), the batch loss) at ``at``."""
        sample_grads = problem.sample_grads(at, batch)
        if noise:
            sample_grads = sample_grads + noise * rng.standard_normal(sample_grads.shape)
        factor = problem.reduce_factor(len(batch))
        return (sample_grads, sample_grads.sum(axis=0) * factor,
                float(problem.sample_losses(at, batch).sum() * factor))

    while True:
        if taken == epoch_steps:   # the epoch is over: the schedule steps, the next begins
            if epoch and not per_step:
                scheduler.step(loss)
            epoch, taken = epoch + 1, 0
            samples = epoch_order(n, config.order, rng)
            cursor.epoch, cursor.samples = epoch, samples
        taken_before = taken   # batches of this epoch already taken (0 unless resumed)
        for taken, batch in enumerate(batches_after(n, batch_size, config.order, rng,
                                                    samples, taken_before),
                                      start=taken_before + 1):
            step += 1
            batch = _frozen(batch)
            lr = scheduler.lr
            step_hp = with_momentum(hp, scheduler.momentum)
            # A diverging run overflows on purpose; the checks below report it in words, so
            # numpy's warnings are silenced per step (not across the yield: errstate is a
            # context variable and would leak into the caller between steps).
            with np.errstate(all="ignore"):
                sample_grads, grad, batch_loss = batch_eval(params, batch)
                grad = _frozen(grad)
                hessian = problem.batch_hessian(params, batch) if uses_hessian else None
                if uses_closure:
                    def closure(at: np.ndarray, batch=batch) -> tuple[float, np.ndarray]:
                        _, at_grad, at_loss = batch_eval(at, batch)
                        return at_loss, at_grad

                    new_params, new_state = optimizers.closure_step(
                        name, params, batch_loss, grad, state, lr, step_hp, closure)
                else:
                    new_params, new_state = optimizers.step(name, params, grad, state, lr,
                                                            step_hp, hessian)
                new_loss = float(problem.loss(new_params))

            status, message = "running", ""
            why = divergence_reason(new_params, grad, new_loss, config.diverge_threshold)
            if why:
                status, message = "diverged", f"diverged at step {step}: {why}"
            elif config.tol is not None and abs(new_loss - loss) < config.tol:
                status = "converged"
                message = converged_message(step, abs(new_loss - loss), config.tol)
            elif step >= limit:
                status, message = "finished", finished_message(step, epoch)
            shown = optimizers.recorded_state(name, new_state)
            if scheduler.momentum is not None:    # what torch's param_group held this step
                shown["cycled_momentum"] = float(scheduler.momentum)
            # the cursor: a few stores a step (references), for a snapshot between records
            cursor.step, cursor.taken, cursor.params = step, taken, new_params
            cursor.state, cursor.loss = new_state, new_loss
            if status != "running":
                cursor.ended = True
            yield StepRecord(step, epoch, lr, batch, params, _frozen(new_params), grad,
                             _frozen(sample_grads), MappingProxyType(shown), batch_loss,
                             new_loss, status, message)
            if status != "running":
                return
            params, state, loss = new_params, new_state, new_loss
            if per_step:
                scheduler.step(loss)


def run_to_end(config: RunConfig) -> list[StepRecord]:
    """Every record of a run (tests and small scripts; the GUI streams instead)."""
    return list(iterate(config))
