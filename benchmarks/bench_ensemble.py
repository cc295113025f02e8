"""Many seeds at once (core.ensemble) against separate runs, and ``gdviz run`` of one seed
against a bare scalar numpy loop: ratios measured in one run (not a test).

1. linreg (n = 1000, batch 10, SGD lr 0.01, shuffle), 1000 steps: K = 256 seeds in one
   ensemble against 256 separate ``runner.iterate`` runs (target: >= 30x faster).
2. wavy (n = 100, batch 1, SGD lr 0.01, shuffle), 1000 steps: K = 1000 seeds against
   1000 separate runs.
   Separate runs are timed on ``--separate`` of them (all by default) and scaled to K.
3. ``gdviz run`` as a whole process (python -m gdviz run, wavy, batch 1, sequential,
   2e5 steps, CSV to /dev/null) against a bare loop of numpy float64 scalars doing the same
   SGD update w -= lr * L'(w x_i) x_i (no losses, no records, no output) (target: <= 20x).

    python benchmarks/bench_ensemble.py [--steps 1000] [--separate N] [--cli-steps 200000]
                                        [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

from gdviz.core.ensemble import iterate_ensemble
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate


def ensemble_seconds(config: RunConfig, k: int) -> float:
    t0 = time.perf_counter()
    for _ in iterate_ensemble(config, range(k)):
        pass
    return time.perf_counter() - t0


def separate_seconds(config: RunConfig, k: int, timed: int) -> float:
    """Seconds for k separate runs, timed on ``timed`` of them and scaled."""
    t0 = time.perf_counter()
    for seed in range(timed):
        for _ in iterate(config.with_changes(seed=seed)):
            pass
    return (time.perf_counter() - t0) * k / timed


def scalar_loop_seconds(steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the bare loop."""
    x = np.linspace(-5.0, 5.0, 100)
    w, lr = np.float64(-0.3), 0.01
    c0, t0 = time.process_time(), time.perf_counter()
    for step in range(steps):
        xi = x[step % 100]
        y = w * xi
        e = np.exp(-y * y)
        w = w - lr * (((-2.0 * y + 3.0 * y * y) * e + (-y * y + y * y * y) * (-2.0 * y) * e) * xi)
    return time.perf_counter() - t0, time.process_time() - c0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_seconds(steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the whole ``gdviz run`` process, start-up included (the
    gdviz of this checkout: the process starts in the repository's folder)."""
    argv = [sys.executable, "-m", "gdviz", "run", "--problem", "wavy", "--optimizer", "sgd",
            "--lr", "0.01", "--batch-size", "1", "--order", "sequential", "--init=-0.3",
            "--steps", str(steps), "--out", os.devnull]
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return time.perf_counter() - t0, _children_cpu() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--separate", type=int, default=0,
                        help="time this many separate runs and scale (0: all K)")
    parser.add_argument("--cli-steps", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="best of N alternating runs of the gdviz run / scalar pair")
    args = parser.parse_args()
    cases = (("linreg n=1000 batch 10", RunConfig(problem="linreg", settings={"n": 1000},
                                                   lr=0.01, batch_size=10,
                                                   max_steps=args.steps), 256),
             ("wavy n=100 batch 1", RunConfig(problem="wavy", lr=0.01, batch_size=1,
                                              max_steps=args.steps), 1000))
    for label, config, k in cases:
        timed = min(k, args.separate or k)
        together = ensemble_seconds(config, k)
        apart = separate_seconds(config, k, timed)
        print(f"{label}, {args.steps} steps, K={k}: ensemble {together:.2f} s, "
              f"{k} separate runs {apart:.2f} s (timed {timed}) -> {apart / together:.1f}x "
              f"faster")
    # the machine is shared: alternate the two, keep each one's best of --repeat, by wall
    # clock and by CPU time (which another process's load disturbs less)
    scalar = process = (float("inf"), float("inf"))
    for _ in range(args.repeat):
        scalar = tuple(map(min, scalar, scalar_loop_seconds(args.cli_steps)))
        process = tuple(map(min, process, cli_seconds(args.cli_steps)))
    for what, k in (("wall", 0), ("CPU", 1)):
        print(f"gdviz run, wavy batch 1, {args.cli_steps} steps, CSV to /dev/null: "
              f"{process[k]:.2f} s {what} (whole process); bare scalar numpy loop "
              f"{scalar[k]:.2f} s -> {process[k] / scalar[k]:.1f}x slower (target <= 20; best "
              f"of {args.repeat})")


if __name__ == "__main__":
    main()
