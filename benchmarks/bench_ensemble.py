"""Many seeds at once (core.ensemble) against separate runs: ratios measured in one run (not
a test).

1. linreg (n = 1000, batch 10, SGD lr 0.01, shuffle), 1000 steps: K = 256 seeds in one
   ensemble against 256 separate ``runner.iterate`` runs (target: >= 30x faster).
2. wavy (n = 100, batch 1, SGD lr 0.01, shuffle), 1000 steps: K = 1000 seeds against
   1000 separate runs.
   Separate runs are timed on ``--separate`` of them (all by default) and scaled to K.
   ``--repeat N`` alternates the two N times and keeps each one's best (a shared machine).

``gdviz run`` of one seed against a bare scalar loop is benchmarks/bench_core.py's.

    python benchmarks/bench_ensemble.py [--steps 1000] [--separate N] [--repeat 1]
"""

from __future__ import annotations

import argparse
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--separate", type=int, default=0,
                        help="time this many separate runs and scale (0: all K)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of N alternating ensemble / separate measurements")
    args = parser.parse_args()
    cases = (("linreg n=1000 batch 10", RunConfig(problem="linreg", settings={"n": 1000},
                                                   lr=0.01, batch_size=10,
                                                   max_steps=args.steps), 256),
             ("wavy n=100 batch 1", RunConfig(problem="wavy", lr=0.01, batch_size=1,
                                              max_steps=args.steps), 1000))
    for label, config, k in cases:
        timed = min(k, args.separate or k)
        together = apart = float("inf")
        for _ in range(args.repeat):
            together = min(together, ensemble_seconds(config, k))
            apart = min(apart, separate_seconds(config, k, timed))
        print(f"{label}, {args.steps} steps, K={k}: ensemble {together:.2f} s, "
              f"{k} separate runs {apart:.2f} s (timed {timed}) -> {apart / together:.1f}x "
              f"faster (target >= 30; best of {args.repeat})")


if __name__ == "__main__":
    main()
