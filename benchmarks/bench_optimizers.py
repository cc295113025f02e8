"""Each optimizer's runner speed as a ratio to SGD's, measured in one run.

Every optimizer runs Rosenbrock (full batch, its own default lr except where that diverges)
for N steps through ``core.runner.iterate``, best of three; printed: steps/s, the ratio to
SGD (the cost of its update rule on top of the loss and gradient every step evaluates) and the
loss/gradient evaluations of the first 20 steps (L-BFGS evaluates many per step until it has
converged, then one).

    python benchmarks/bench_optimizers.py [--steps N]
"""

from __future__ import annotations

import argparse
import time

from gdviz.core.optimizers import get_optimizer, optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate

LR = {"sgd": 1e-3, "adadelta": 1.0, "radam": 1e-3, "rprop": 1e-3, "asgd": 1e-3}


def speed(name: str, steps: int, hp: dict | None = None) -> tuple[float, int]:
    """(steps per second, best of 3; loss/gradient evaluations of the first 20 steps)."""
    config = RunConfig(problem="rosenbrock", optimizer=name, max_steps=steps,
                       lr=LR.get(name, get_optimizer(name).default_lr), hyperparams=hp or {},
                       diverge_threshold=1e300)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        records = list(iterate(config))
        best = max(best, (len(records) - 1) / (time.perf_counter() - t0))
    return best, sum(r.state.get("evals", 1) for r in records[1:21])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    speed("sgd", 500)  # warm up
    base, _ = speed("sgd", args.steps)
    cases = [(name, None) for name in optimizer_names()]
    cases.append(("lbfgs", {"line_search_fn": "strong_wolfe"}))
    for name, hp in cases:
        rate, evals = speed(name, args.steps, hp)
        label = name + (" (strong_wolfe)" if hp else "")
        print(f"{label:22s} {rate:8.0f} steps/s   ratio to sgd {rate / base:5.2f}   "
              f"{evals:4d} evaluations in the first 20 steps")


if __name__ == "__main__":
    main()
