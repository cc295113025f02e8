"""The run loop: ``iterate(config)`` yields one immutable StepRecord per optimizer step.

Stop rules, in the order they are checked after each step:
  diverged  - any non-finite parameter, gradient or loss, or a full loss above the threshold;
  converged - |change of the full loss| < tol (when tol is set);
  finished  - the step or epoch limit is reached.
The last record carries the status and a sentence saying why. A diverging run never raises.
"""

from __future__ import annotations

import math
import time
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


# Steps are computed in blocks: first the updates of a block's steps (they do not depend on
# the full loss), then the full losses of all of them in one call on their (B, p) parameters,
# which elementwise kernels round row by row exactly as a call for one point; then the stop
# rules, step by step, and the records. Steps computed past the run's end are dropped. A block
# grows 1, 2, 4, ... steps up to _BLOCK_SAMPLES // n (at most _MAX_BLOCK_STEPS), so the first
# records come at once and a block's per-sample losses stay ~64k numbers; it stops growing
# (and halves) once a block takes _BLOCK_SECONDS, so a slow problem still hands out its first
# records within ~20 ms. Block boundaries change no number. Measured (wavy, batch 1): 20 µs of
# CPU a step instead of 44-45 (the full loss over n = 100 samples had been a third of a step).
_BLOCK_SAMPLES = 65_536
_MAX_BLOCK_STEPS = 256
_BLOCK_SECONDS = 0.01


def _feed(config: RunConfig, n: int, batch_size: int,
          rng: np.random.Generator) -> Iterator[tuple[int, float, np.ndarray]]:
    """(epoch, lr, batch) of every step, in order, drawn from ``rng`` as the run draws them."""
    epoch = 0
    while True:
        lr = schedules.lr_at(config.schedule, config.lr, epoch, config.schedule_params)
        epoch += 1
        for batch in epoch_batches(n, batch_size, config.order, rng):
            yield epoch, lr, _frozen(batch)


def iterate(config: RunConfig) -> Iterator[StepRecord]:
    """Run ``config`` and yield the start point (step 0) and then every step's record.

    The generator ends after the record whose status is not "running". Stopping early is the
    caller's business (just stop iterating): nothing here blocks or holds resources.
    """
    problem = config.make_problem()
    rng = np.random.default_rng(config.seed)
    name, hp = config.optimizer, config.hyperparams
    n, p = problem.n_samples, problem.n_params
    limit = config.step_limit()
    noise = problem.grad_noise
    threshold, tol = config.diverge_threshold, config.tol

    # With elementwise kernels (and no closed-form loss) the full loss is summed from the
    # per-sample losses, as Problem.loss does, and the next step's batch losses are read
    # from them (the same numbers) instead of being computed again.
    reuse = problem.elementwise_kernels and not problem.fast_loss
    rows_at_once = problem.elementwise_kernels
    full_factor = problem.reduce_factor(n)

    params = _frozen(config.start_point())
    state = MappingProxyType(optimizers.init_state(name, params, hp))
    losses = problem.sample_losses(params) if reuse else None
    loss = (float(losses.sum(axis=-1) * full_factor) if reuse
            else float(problem.loss(params)))
    grad0 = _frozen(problem.grad(params))
    lr = schedules.lr_at(config.schedule, config.lr, 0, config.schedule_params)
    why = divergence_reason(params, grad0, loss, threshold)
    yield StepRecord(0, 0, lr, _EMPTY_BATCH, params, params, grad0,
                     _frozen(np.zeros((0, p))), state, loss, loss,
                     "diverged" if why else "running",
                     f"diverged at the start point: {why}" if why else "")
    if why:
        return

    feed = _feed(config, n, config.effective_batch_size(), rng)
    step, block_steps = 0, 1
    cap = max(1, min(_MAX_BLOCK_STEPS, _BLOCK_SAMPLES // max(1, n)))
    while True:
        count = min(block_steps, limit - step)
        started = time.perf_counter()
        block = []  # (epoch, lr, batch, params before, params after, grad, sample grads,
        #            state after, batch loss or None, full loss or None)
        # A diverging run overflows on purpose; the checks below report it in words, so
        # numpy's warnings are silenced while computing (not across the yield: errstate is a
        # context variable and would leak into the caller between steps).
        with np.errstate(all="ignore"):
            before, before_state = params, state
            for _ in range(count):
                epoch, lr, batch = next(feed)
                sample_grads = problem.sample_grads(before, batch)
                if noise:
                    sample_grads = sample_grads + noise * rng.standard_normal(sample_grads.shape)
                factor = problem.reduce_factor(len(batch))
                grad = _frozen(sample_grads.sum(axis=0) * factor)
                after, after_state = optimizers.step(name, before, grad, before_state, lr, hp)
                batch_loss = (None if reuse else
                              float(problem.sample_losses(before, batch).sum() * factor))
                full = None if rows_at_once else float(problem.loss(after))
                block.append((epoch, lr, batch, before, after, grad, sample_grads,
                              after_state, batch_loss, full))
                before, before_state = after, after_state
            afters = np.stack([item[4] for item in block])
            if rows_at_once:
                if reuse:
                    table = problem.sample_losses(afters)
                    fulls = (table.sum(axis=-1) * full_factor).tolist()
                else:
                    fulls = np.asarray(problem.loss(afters), dtype=np.float64).tolist()
            # the parameters and gradients of the block, checked for inf/NaN at once
            finite = (np.isfinite(afters).all(axis=1)
                      & np.isfinite(np.stack([item[5] for item in block])).all(axis=1)).tolist()
            if reuse:  # step j's batch losses are read from step j - 1's per-sample losses
                rows = np.concatenate([losses[None], table[:-1]])
                sizes = {len(item[2]) for item in block}
                if len(sizes) == 1:   # one call for the block (row sums round as 1-D sums)
                    picked = np.take_along_axis(rows, np.stack([item[2] for item in block]),
                                                axis=1)
                    batch_losses = (picked.sum(axis=-1)
                                    * problem.reduce_factor(sizes.pop())).tolist()
                else:                 # an epoch's shorter last batch in the block
                    batch_losses = [float(row[item[2]].sum()
                                          * problem.reduce_factor(len(item[2])))
                                    for row, item in zip(rows, block)]
                losses = table[-1]

        params, state = before, before_state  # where the next block starts
        block_steps = (min(2 * block_steps, cap) if time.perf_counter() - started < _BLOCK_SECONDS
                       else max(1, block_steps // 2))
        for j, (epoch, lr, batch, step_from, step_to, grad, sample_grads, step_state,
                batch_loss, full) in enumerate(block):
            step += 1
            new_loss = fulls[j] if rows_at_once else full
            if reuse:
                batch_loss = batch_losses[j]
            status, message = "running", ""
            why = ("" if finite[j] and math.isfinite(new_loss) and not new_loss > threshold
                   else divergence_reason(step_to, grad, new_loss, threshold))
            if why:
                status, message = "diverged", f"diverged at step {step}: {why}"
            elif tol is not None and abs(new_loss - loss) < tol:
                status = "converged"
                message = converged_message(step, abs(new_loss - loss), tol)
            elif step >= limit:
                status, message = "finished", finished_message(step, epoch)
            yield StepRecord(step, epoch, lr, batch, step_from, step_to, grad,
                             _frozen(sample_grads), MappingProxyType(step_state), batch_loss,
                             new_loss, status, message)
            if status != "running":
                return
            loss = new_loss


def run_to_end(config: RunConfig) -> list[StepRecord]:
    """Every record of a run (tests and small scripts; the GUI streams instead)."""
    return list(iterate(config))
