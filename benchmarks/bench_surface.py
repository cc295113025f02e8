"""Loss-grid speed for the contour and 3-D views, measured in one run (not a test).

For each problem: the time to compute a cold 256×256 grid (values, colour scale and iso-lines,
as the background worker does), the time to get it again from the cache, and the ratio
cached/cold; the peak memory of the cold computation (tracemalloc: numpy reports its buffers).
Cold times are the best of ``--repeat`` runs (the machine may be busy); absolute numbers depend
on the machine, the ratio and the memory ceiling (< 50 MB) are what matter.

    python benchmarks/bench_surface.py [--resolution 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from gdviz.core.grids import GridCache, GridSpec, compute_grid, grid_values
from gdviz.core.problems.registry import make_problem

CASES = (("linreg", {"n": 1000}), ("rosenbrock", {}), ("bowl", {}), ("logistic", {}))


def bench(name: str, settings: dict, resolution: int, repeat: int) -> dict:
    problem = make_problem(name, settings)
    spec = GridSpec.make(0, 1, problem.default_init, problem.view_range[0],
                         problem.view_range[1], resolution)
    colds, values_only = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        compute_grid(problem, spec)
        colds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        grid_values(problem, spec)
        values_only.append(time.perf_counter() - t0)
    tracemalloc.start()
    compute_grid(problem, spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cache = GridCache()
    cache.compute(problem, spec)               # the cold miss fills the cache
    hits = 1000
    t0 = time.perf_counter()
    for _ in range(hits):
        cache.compute(problem, spec)
    cached = (time.perf_counter() - t0) / hits
    assert cache.misses == 1
    assert cache.hits == hits
    return {"name": name, "n": problem.n_samples, "cold": min(colds),
            "values": min(values_only), "cached": cached, "peak_mb": peak / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    res = args.resolution
    print(f"{res}×{res} loss grids (best of {args.repeat} cold runs)")
    print(f"{'problem':12s} {'n':>6s} {'cold s':>9s} {'of which loss':>14s} {'cached s':>10s} "
          f"{'cached/cold':>12s} {'peak MB':>8s}")
    for name, settings in CASES:
        r = bench(name, settings, res, args.repeat)
        print(f"{r['name']:12s} {r['n']:6d} {r['cold']:9.4f} {r['values']:14.4f} "
              f"{r['cached']:10.2e} {r['cached'] / r['cold']:12.1e} {r['peak_mb']:8.1f}")


if __name__ == "__main__":
    main()
