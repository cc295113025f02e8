"""Loss-landscape speed (``core.landscape.plane_losses``), measured in one run.

The headline: a 51×51 landscape of a 2-30-30-1 tanh network (1051 parameters) on 1000
training samples (target <= 1 s). Then how the time grows with the grid side, the number of
samples and the number of parameters (each varied alone from the headline case), and the
chunked evaluation against one block of all grid points (the reason for the chunks).
Each time is the CPU time of this process (``time.process_time``: the machine is shared by
several users, whose load stretches wall-clock times by factors up to 10 here), the best of
``--repeat`` runs.

    python benchmarks/bench_landscape.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time

# as the gdviz command does (gdviz/cli/main.py); run with OPENBLAS_NUM_THREADS=0 to see
# OpenBLAS's default threads instead
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gdviz.core import landscape  # noqa: E402
from gdviz.core.problems.registry import make_problem  # noqa: E402


def network(hidden: str, n_samples: int):
    # mlp keeps (1 - test_fraction) of n for training
    return make_problem("mlp", {"layers": hidden, "n": 2 * n_samples, "dataset": "spiral"})


def timed(problem, grid: int, repeat: int, clock=time.process_time) -> float:
    center = problem.default_init
    u, v = landscape.random_directions(problem, center, 0)
    a = np.linspace(-1.0, 1.0, grid)
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        landscape.plane_losses(problem, center, u, v, a, a)
        best = min(best, clock() - t0)
    return best


def one_block(problem, grid: int, repeat: int) -> float:
    """All grid points in one call of problem.loss (what the chunks replace)."""
    center = problem.default_init
    u, v = landscape.random_directions(problem, center, 0)
    aa, bb = (g.reshape(-1, 1) for g in np.meshgrid(np.linspace(-1, 1, grid),
                                                     np.linspace(-1, 1, grid)))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        problem.loss(center + aa * u + bb * v)
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    head = network("30,30", 1000)
    wall = timed(head, 51, args.repeat, clock=time.perf_counter)
    base = timed(head, 51, args.repeat)
    print(f"51x51, 2-30-30-1 ({head.n_params} params), {head.n_samples} samples: "
          f"{wall:.3f} s wall, {base:.3f} s CPU (target <= 1 s; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    print("grid side:  " + "  ".join(
        f"{g}: {timed(head, g, args.repeat) / base:.2f}x" for g in (26, 51, 101)))
    print("samples:    " + "  ".join(
        f"{n}: {timed(network('30,30', n), 51, args.repeat) / base:.2f}x"
        for n in (250, 500, 1000, 2000)))
    sizes = ("8,8", "16,16", "30,30", "45,45")
    print("parameters: " + "  ".join(
        f"{network(h, 1000).n_params}: {timed(network(h, 1000), 51, args.repeat) / base:.2f}x"
        for h in sizes))
    small = network("30,30", 250)
    print(f"chunked vs one block (26x26, 250 samples): "
          f"{one_block(small, 26, args.repeat) / timed(small, 26, args.repeat):.2f}x faster")


if __name__ == "__main__":
    main()
