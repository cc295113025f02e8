"""One run computed in blocks of steps: ``iterate_blocks(config)`` yields ``RunBlock``s whose
records are ``runner.iterate(config)``'s, bit for bit.

Why: a step of ``iterate`` does its sequential work (the batch gradient, the update) and
then, one step at a time, the work that no later step waits for: the batch loss, the full
loss over all n samples, the stop checks and a record object. For a small problem those
dominate (wavy, batch 1: ~55 µs a step in ``gdviz run``, against ~1.5 µs for a bare scalar
loop of the update). Here the sequential part runs step by step for a block of B steps, and
the rest once per block on (B, ...) arrays:

- batch losses: ``Problem.member_sample_losses`` of the B points at their B batches (each
  row rounds as the single call, ``Problem.member_kernels``), the sum along the contiguous
  last axis as ``Problem.batch_loss`` sums one batch;
- full losses: ``Problem.member_losses`` of the B points (each equals ``Problem.loss``);
- stop rules: the inf/NaN and threshold checks on the whole block, then the first step that
  ends the run (diverged, converged, finished: the runner's order) ends the block; the steps
  computed past it are dropped (they used only this run's random draws after its end).

The configurations whose step needs something computed after the previous step are run by
``iterate`` itself and handed out in blocks of its records (same numbers, no speed-up): an
optimizer with a closure (L-BFGS) or a Hessian (Newton), and a schedule that follows the
loss (plateau). No Qt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from gdviz.core import optimizers
from gdviz.core.records import RunConfig
from gdviz.core.runner import (
    converged_message,
    divergence_reason,
    finished_message,
    iterate,
    with_momentum,
)
from gdviz.core.sampling import epoch_batches
from gdviz.core.scheduler import LrScheduler
from gdviz.core.step_blocks import RunBlock, state_columns

MAX_BLOCK = 256
# a block holds at most this many floats of per-sample gradients and full-loss evaluations,
# so its temporaries stay small (a large network or dataset gets short blocks)
_BLOCK_FLOATS = 1 << 18


def blocks_apply(config: RunConfig) -> bool:
    """True when ``iterate_blocks`` computes ``config`` in blocks (else it relays
    ``iterate``'s records): no closure, no Hessian, no loss-driven schedule."""
    spec = optimizers.get_optimizer(config.optimizer)
    if spec.uses_closure or spec.uses_hessian:
        return False
    return not LrScheduler(config.schedule, config.lr, config.schedule_params,
                           config.schedule_units()).needs_metric


def iterate_blocks(config: RunConfig, max_block: int = MAX_BLOCK) -> Iterator[RunBlock]:
    """The records of ``iterate(config)`` as consecutive RunBlocks of at most ``max_block``
    steps (the first holds step 0 alone). The last block's last step ends the run."""
    if not blocks_apply(config):
        yield from _relayed(config, max_block)
        return
    problem = config.make_problem()
    records = iterate(config)
    start = next(records)   # step 0 as iterate makes it (start point, full loss and gradient)
    records.close()
    yield RunBlock.from_records([start])
    if start.status != "running":
        return

    rng = np.random.default_rng(config.seed)
    name, hp = config.optimizer, config.hyperparams
    n, p = problem.n_samples, problem.n_params
    batch_size = config.effective_batch_size()
    limit = config.step_limit()
    noise = problem.grad_noise
    tol, threshold = config.tol, config.diverge_threshold
    scheduler = LrScheduler(config.schedule, config.lr, config.schedule_params,
                            config.schedule_units())
    per_step = config.schedule_every == "step"
    per_step_floats = batch_size * p + (0 if problem.fast_loss else n)
    block = max(1, min(max_block, _BLOCK_FLOATS // max(1, per_step_floats)))

    def batches() -> Iterator[tuple[int, np.ndarray]]:
        """(epoch, batch) of every step, drawn as iterate draws them; the schedule steps
        after each epoch (the loss it is given is not read: no metric schedule here)."""
        epoch = 0
        while True:
            epoch += 1
            for batch in epoch_batches(n, batch_size, config.order, rng):
                yield epoch, batch
            if not per_step:
                scheduler.step(None)

    params = start.params
    state: Any = optimizers.init_state(name, params, with_momentum(hp, scheduler.momentum),
                                       scheduler.lr)
    rule = optimizers.update_rule(name)
    rows, grads_of, add = problem.rows, problem.sample_grads_of, np.add.reduce
    loss = start.loss
    step = 0
    draws = batches()
    while True:
        taken = []   # per step: (epoch, lr, batch, params before, after, grad, sample grads,
        #              recorded state), one append a step (the loop's overhead is µs a step)
        with np.errstate(all="ignore"):
            for _ in range(min(block, limit - step)):
                epoch, batch = next(draws)
                lr = scheduler.lr
                momentum = scheduler.momentum
                step_grads = grads_of(params, *rows(batch))
                if noise:
                    step_grads = step_grads + noise * rng.standard_normal(step_grads.shape)
                # np.add.reduce is what ndarray.sum(axis=0) calls (same numbers, less overhead)
                grad = add(step_grads, axis=0) * problem.reduce_factor(len(batch))
                new_params, state = rule(params, grad, state, lr,
                                         hp if momentum is None else with_momentum(hp, momentum))
                shown = optimizers.recorded_state(name, state)
                if momentum is not None:
                    shown["cycled_momentum"] = float(momentum)
                taken.append((epoch, lr, batch, params, new_params, grad, step_grads, shown))
                params = new_params
                if per_step:
                    scheduler.step(None)
            done = _finish_block(problem, step, loss, taken, limit, tol, threshold)
        yield done
        if done.ended:
            return
        step += len(done)
        loss = float(done.losses[-1])


def _finish_block(problem, step0, loss0, taken, limit, tol, threshold) -> RunBlock:
    """The RunBlock of steps step0+1 .. step0+B computed sequentially (``taken``: B tuples),
    with their batch and full losses, cut after the first step that ends the run (its full
    loss before the block: ``loss0``)."""
    epochs, lrs, chosen, _, afters, grads, sample_grads, states = zip(*taken)
    size = len(taken)
    # np.array of a list of equal (p,) arrays: np.stack's rows, a third of its time
    after = np.array(afters)
    before = np.concatenate([taken[0][3][None], after[:-1]])   # each step starts where the
    grad = np.array(grads)                                      # previous one ended
    sizes = {len(b) for b in chosen}
    with np.errstate(all="ignore"):
        if len(sizes) == 1:
            batch_losses = (problem.member_sample_losses(before, np.array(chosen)).sum(axis=-1)
                            * problem.reduce_factor(sizes.pop()))
        else:   # an epoch's shorter last batch: as iterate computes each
            batch_losses = np.array([problem.sample_losses(at, b).sum()
                                     * problem.reduce_factor(len(b))
                                     for at, b in zip(before, chosen)])
        losses = problem.member_losses(after)
    diverged = (~np.isfinite(grad).all(axis=1) | ~np.isfinite(after).all(axis=1)
                | ~np.isfinite(losses) | (losses > threshold))
    previous = np.concatenate([[loss0], losses[:-1]])
    converged = (np.abs(losses - previous) < tol if tol is not None
                 else np.zeros(size, dtype=bool))
    ending = np.flatnonzero(diverged | converged)
    last = int(ending[0]) if ending.size else size - 1
    count = last + 1
    step = step0 + count
    status, message = "running", ""
    if diverged[last]:
        why = divergence_reason(after[last], grad[last], float(losses[last]), threshold)
        status, message = "diverged", f"diverged at step {step}: {why}"
    elif converged[last]:
        change = abs(float(losses[last]) - float(previous[last]))
        status, message = "converged", converged_message(step, change, tol)
    elif step >= limit:
        status, message = "finished", finished_message(step, epochs[last])
    columns, kinds = state_columns(states[:count])
    kept_batches = chosen[:count]
    return RunBlock(
        np.arange(step0 + 1, step + 1, dtype=np.int64), np.array(epochs[:count], dtype=np.int64),
        np.array(lrs[:count], dtype=np.float64), batch_losses[:count], losses[:count],
        before[:count], after[:count], grad[:count],
        np.cumsum([len(b) for b in kept_batches], dtype=np.int64),
        np.concatenate(kept_batches).astype(np.int64, copy=False),
        np.cumsum([len(g) for g in sample_grads[:count]], dtype=np.int64),
        np.concatenate(sample_grads[:count]),
        ("running",) * (count - 1) + (status,), ("",) * (count - 1) + (message,),
        columns, kinds, None if columns is not None else tuple(states[:count]))


def _relayed(config: RunConfig, max_block: int) -> Iterator[RunBlock]:
    """``iterate``'s records in blocks (step 0 alone, then up to ``max_block`` records)."""
    chunk = []
    for record in iterate(config):
        chunk.append(record)
        if record.step == 0 or len(chunk) == max_block or record.finished:
            yield RunBlock.from_records(chunk)
            chunk = []
