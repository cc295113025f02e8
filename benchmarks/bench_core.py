"""Runner speed against a plain numpy loop doing the same arithmetic, measured in one run.

Both sides run `wavy` with batch size 1, lr 0.01, SGD, samples in order, and compute per step:
the batch sample's gradient, the batch loss, the update, and the full loss over all samples
(the runner records it every step). The ratio runner/plain is what matters (target >= 0.1);
absolute numbers depend on the machine. Also measures memory over 10^6 runner steps (target:
flat — the generator keeps nothing).

    python benchmarks/bench_core.py [--steps N] [--memory-steps N]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time

import numpy as np

from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate


def plain_loop(steps: int) -> float:
    x = np.linspace(-5.0, 5.0, 100)
    w = -0.3
    t0 = time.perf_counter()
    i = 0
    for _ in range(steps):
        y = w * x[i]
        e = np.exp(-y * y)
        grad = ((-2 * y + 3 * y * y) * e + (-y * y + y ** 3) * (-2 * y) * e) * x[i]
        batch_loss = (-y * y + y ** 3) * e
        w = w - 0.01 * grad
        ys = w * x
        full = np.mean((-ys ** 2 + ys ** 3) * np.exp(-ys ** 2))
        if not (np.isfinite(full) and np.isfinite(batch_loss)):
            break
        i = (i + 1) % 100
    return steps / (time.perf_counter() - t0)


def runner(steps: int) -> float:
    config = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1,
                       order="sequential", max_steps=steps, init=(-0.3,))
    t0 = time.perf_counter()
    count = sum(1 for _ in iterate(config))
    return (count - 1) / (time.perf_counter() - t0)


def cli_run(steps: int) -> float:
    """``gdviz run`` end to end (argument parsing, runner, CSV writing to /dev/null)."""
    try:
        from gdviz.cli.main import main as gdviz_main
    except ImportError:  # a checkout from before the CLI became a package (A/B runs against it)
        from gdviz.cli import main as gdviz_main

    argv = ["run", "--problem", "wavy", "--optimizer", "sgd", "--lr", "0.01", "--batch-size",
            "1", "--order", "sequential", "--init=-0.3", "--steps", str(steps),
            "--out", os.devnull]
    saved, sys.stderr = sys.stderr, io.StringIO()
    try:
        t0 = time.perf_counter()
        gdviz_main(argv)
        return steps / (time.perf_counter() - t0)
    finally:
        sys.stderr = saved


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(steps: int) -> tuple[float, float]:
    config = RunConfig(problem="wavy", lr=0.01, batch_size=1, order="sequential",
                       max_steps=steps, init=(-0.3,))
    before = None
    for r in iterate(config):
        if r.step == 10_000:
            before = rss_mb()
    return before or rss_mb(), rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--memory-steps", type=int, default=1_000_000)
    args = parser.parse_args()
    plain_loop(2000), runner(2000)  # warm up
    plain = plain_loop(args.steps)
    ours = runner(args.steps)
    command = cli_run(args.steps)
    print(f"plain numpy loop:           {plain:10.0f} steps/s")
    print(f"gdviz runner (iterate):     {ours:10.0f} steps/s")
    print(f"gdviz run (CSV to devnull): {command:10.0f} steps/s")
    print(f"ratio runner/plain:    {ours / plain:.3f}  (target >= 0.100)")
    print(f"ratio gdviz run/plain: {command / plain:.3f}  (target >= 0.100)")
    if args.memory_steps:
        start, end = memory(args.memory_steps)
        print(f"RSS over {args.memory_steps:,} steps: {start:.1f} MB at step 10,000 -> "
              f"{end:.1f} MB at the end ({end - start:+.1f} MB)")


if __name__ == "__main__":
    main()
