"""Bytes per step of the window's run history, bounded (core.thinning) against unbounded.

Simulates what the window appends without the window: blocks of ``--block`` steps of a run
with ``--params`` parameters, shuffled mini-batches of 10 (scattered: their indices are
stored) and Adam's state (``exp_avg``, ``exp_avg_sq``, ``step``), appended to a RunHistory
and a StateHistory as the controller appends the worker's blocks. Reports the bytes the
arrays hold (their capacity) per recorded step and the append time per step, both measured
in this run:

- bounded: FULL_HISTORY_STEPS (10^6) kept at full resolution, a thinned rest beyond;
- unbounded: a bound past the run's length, i.e. every step kept (what the window did before
  issue 19). Its bytes per step do not depend on the length, so it is measured on
  ``--unbounded-steps`` (default 2*10^6: 10^7 unbounded would hold ~1 GB on a shared machine)
  and scaled to ``--steps``.

    python benchmarks/bench_history.py [--steps 10000000] [--params 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gdviz.core.history import RunHistory
from gdviz.core.recorded import StateHistory
from gdviz.core.step_blocks import RunBlock
from gdviz.core.thinning import FULL_HISTORY_STEPS

BATCH = 10


def make_block(first: int, count: int, p: int, rng: np.random.Generator) -> RunBlock:
    """``count`` steps from step ``first``: random numbers in the shapes the runner gives."""
    steps = np.arange(first, first + count, dtype=np.int64)
    params = rng.normal(size=(count, p))
    batches = rng.integers(0, 1000, size=count * BATCH)
    ends = np.arange(1, count + 1, dtype=np.int64) * BATCH
    grad_ends = np.zeros(count, np.int64)   # per-sample gradients are not kept by a history
    return RunBlock(steps, steps // 100, np.full(count, 0.01), rng.normal(size=count),
                    rng.normal(size=count), params, params, rng.normal(size=(count, p)),
                    ends, batches, grad_ends, np.zeros((0, p)),
                    ("running",) * count, ("",) * count,
                    {"exp_avg": rng.normal(size=(count, p)),
                     "exp_avg_sq": rng.random(size=(count, p)), "step": steps.astype(float)},
                    {"exp_avg": "array", "exp_avg_sq": "array", "step": "int"}, None)


def measure(steps: int, bound: int, p: int, block: int) -> tuple[float, float, int, int]:
    """(bytes per step, seconds per step, rows kept, stride) after ``steps`` steps."""
    rng = np.random.default_rng(0)
    history, states = RunHistory(p, bound), StateHistory(bound)
    blocks = [make_block(0, block, p, rng) for _ in range(4)]  # reused: content is irrelevant
    elapsed, done = 0.0, 0
    while done < steps:
        count = min(block, steps - done)
        template = blocks[(done // block) % 4]
        shift = done - int(template.steps[0])
        piece = RunBlock(template.steps[:count] + shift, *(
            getattr(template, name)[:count] for name in
            ("epochs", "lrs", "batch_losses", "losses", "params_before", "params", "grads")),
            template.batch_ends[:count], template.batches[: count * BATCH],
            template.grad_ends[:count], template.sample_grads, template.statuses[:count],
            template.messages[:count],
            {key: values[:count] for key, values in template.state_columns.items()},
            template.state_kinds, None)
        t0 = time.perf_counter()
        history.append(piece)
        states.append(piece)
        elapsed += time.perf_counter() - t0
        done += count
    total = history.nbytes() + states.nbytes()
    return total / steps, elapsed / steps, len(history), history.thinning.stride


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--unbounded-steps", type=int, default=2_000_000)
    parser.add_argument("--params", type=int, default=1)
    parser.add_argument("--block", type=int, default=2000, help="steps per appended block")
    args = parser.parse_args()
    p = args.params
    print(f"{p} parameter(s), mini-batches of {BATCH} (scattered), Adam's state, "
          f"blocks of {args.block}")
    per_u, time_u, rows_u, _ = measure(args.unbounded_steps, 2 * args.unbounded_steps, p,
                                       args.block)
    print(f"unbounded: {per_u:7.1f} bytes/step over {args.unbounded_steps:,} steps "
          f"({rows_u:,} rows) -> {per_u * args.steps / 1e6:8.1f} MB at {args.steps:,} steps; "
          f"append {time_u * 1e9:6.0f} ns/step")
    per_b, time_b, rows_b, stride = measure(args.steps, FULL_HISTORY_STEPS, p, args.block)
    print(f"bounded:   {per_b:7.1f} bytes/step over {args.steps:,} steps "
          f"({rows_b:,} rows, every {stride}th kept beyond {FULL_HISTORY_STEPS:,}) -> "
          f"{per_b * args.steps / 1e6:8.1f} MB; append {time_b * 1e9:6.0f} ns/step")
    print(f"ratio unbounded/bounded memory at {args.steps:,} steps: {per_u / per_b:.1f}x; "
          f"append time bounded/unbounded: {time_b / time_u:.2f}x")


if __name__ == "__main__":
    main()
