"""A learning-rate sweep (core.sweep) of the five optimizers of compare_rosenbrock (SGD,
momentum, Nesterov, RMSprop, Adam): 41 lrs over 6 decades around each one's lr x 8 seeds x 500
steps on Rosenbrock, its time as a ratio to ONE run of 500 steps (``runner.iterate``) of the
same optimizer, measured in the same process (not a test). Separate runs would cost
41 x 8 = 328 single runs; the ratio says how many single runs the sweep costs instead.

    python benchmarks/bench_sweep.py [--steps 500] [--lrs 41] [--seeds 8] [--grad-noise 0]
                                     [--repeat 3]

``--grad-noise X`` adds the problem's gradient noise (then the seeds' runs differ; without
it Rosenbrock has no randomness and the 8 seeds repeat the same run, as they would as
separate runs). Timings are the best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import time

from gdviz.core.presets import get_preset
from gdviz.core.runner import iterate
from gdviz.core.sweep import Objective, default_grid, run_sweep


def best_seconds(work, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of ``work()``, each the best of ``repeat`` (the machine is shared:
    CPU time is the steadier of the two)."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--lrs", type=int, default=41)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--grad-noise", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    runs = get_preset("compare_rosenbrock").runs
    separate = args.lrs * args.seeds
    print(f"Rosenbrock, {args.lrs} lrs x {args.seeds} seeds x {args.steps} steps "
          f"(grad_noise {args.grad_noise:g}); separate runs would be {separate} single runs")
    print(f"{'run':<26} {'one run s':>10} {'sweep s':>9} {'ratio':>7} {'CPU ratio':>9} "
          f"{'best lr':>9}")
    total_one, total_sweep = [0.0, 0.0], [0.0, 0.0]
    for run in runs:
        config = run.config.with_changes(
            max_steps=args.steps, settings={**run.config.settings,
                                            "grad_noise": args.grad_noise})
        lrs = default_grid(config.lr, args.lrs)
        seeds = list(range(args.seeds))
        one = best_seconds(lambda c=config: [None for _ in iterate(c)], args.repeat)
        found = {}

        def sweep(c=config, lrs=lrs, seeds=seeds, found=found):
            found["result"] = run_sweep(c, lrs, Objective("final"), seeds)

        swept = best_seconds(sweep, args.repeat)
        for i in (0, 1):
            total_one[i] += one[i]
            total_sweep[i] += swept[i]
        print(f"{run.name:<26} {one[0]:>10.4f} {swept[0]:>9.3f} {swept[0] / one[0]:>7.1f} "
              f"{swept[1] / one[1]:>9.1f} {found['result'].best_lr:>9.3g}")
    print(f"{'all five':<26} {total_one[0]:>10.4f} {total_sweep[0]:>9.3f} "
          f"{total_sweep[0] / total_one[0]:>7.1f} {total_sweep[1] / total_one[1]:>9.1f}")
    print(f"ratio: the sweep's time / one run's (wall; CPU); {separate} separate runs would "
          f"be {separate}")


if __name__ == "__main__":
    main()
