"""Runner speed against a plain numpy loop doing the same arithmetic, measured in one run.

Both sides run `wavy` with batch size 1, lr 0.01, SGD, samples in order, and compute per step:
the batch sample's gradient, the batch loss, the update, and the full loss over all samples
(the runner records it every step). The ratio runner/plain is what matters (target >= 0.1);
absolute numbers depend on the machine. Also measures memory over 10^6 runner steps (target:
flat — the generator keeps nothing).

Then the whole ``gdviz run`` process (python -m gdviz run, wavy, batch 1, sequential,
``--cli-steps`` steps, CSV to /dev/null; start-up included) against a bare loop of numpy
float64 scalars doing only the same SGD update w -= lr * L'(w x_i) x_i (no losses, no
records, no output) (target: <= 20x), best of ``--repeat`` alternating pairs, by wall clock
and by CPU time (which another process's load disturbs less).

    python benchmarks/bench_core.py [--steps N] [--memory-steps N] [--cli-steps 200000]
                                    [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
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


def cli_process_seconds(steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the whole ``gdviz run`` process, start-up included (the
    gdviz of this checkout: the process starts in the repository's folder)."""
    argv = [sys.executable, "-m", "gdviz", "run", "--problem", "wavy", "--optimizer", "sgd",
            "--lr", "0.01", "--batch-size", "1", "--order", "sequential", "--init=-0.3",
            "--steps", str(steps), "--out", os.devnull]
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return time.perf_counter() - t0, _children_cpu() - c0


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
    parser.add_argument("--cli-steps", type=int, default=200_000,
                        help="steps of the whole-process gdviz run measurement (0: skip it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="best of N alternating runs of the gdviz run / scalar loop pair")
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
    # the machine is shared: alternate the two, keep each one's best of --repeat
    scalar = process = (float("inf"), float("inf"))
    for _ in range(args.repeat if args.cli_steps else 0):
        scalar = tuple(map(min, scalar, scalar_loop_seconds(args.cli_steps)))
        process = tuple(map(min, process, cli_process_seconds(args.cli_steps)))
    for what, k in (("wall", 0), ("CPU", 1)) if args.cli_steps else ():
        print(f"gdviz run process, wavy batch 1, {args.cli_steps} steps, CSV to /dev/null: "
              f"{process[k]:.2f} s {what}; bare scalar numpy loop {scalar[k]:.2f} s -> "
              f"{process[k] / scalar[k]:.1f}x slower (target <= 20; best of {args.repeat})")
    if args.memory_steps:
        start, end = memory(args.memory_steps)
        print(f"RSS over {args.memory_steps:,} steps: {start:.1f} MB at step 10,000 -> "
              f"{end:.1f} MB at the end ({end - start:+.1f} MB)")


if __name__ == "__main__":
    main()
