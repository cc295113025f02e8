"""The cost of the curvature columns per step, as a ratio to a step without them, measured in
one run.

For each case the run is written as ``gdviz run --curvature`` writes it (core.runner.iterate
into export.trace.write_records, to memory) and the time spent in the curvature columns
(core.curvature.CurvatureColumns.table: the Hessian of the full loss after every step, its
extreme eigenvalues, and for Adam the preconditioned sharpness) is clocked inside the same run,
so the ratio (whole run) / (whole run − curvature) does not depend on how busy the shared
machine was from one run to the next; best of ``--repeat``. Also the Curvature view's path:
``CurvatureColumns.table`` over the whole history at once (Adam's states replayed first), per
step, as a ratio to the run's own step.

The networks: the 2-16-16-1 tanh network of the issue (337 parameters, above the full
Hessian's 200: Lanczos on R-operator Hessian-vector products) on 500 training samples, full
batch and Adam at batch 10; and the edge_of_stability preset's 2-8-1 network (33 parameters:
its full Hessian from 33 products). They run ``MLP_STEPS`` steps (a Lanczos solve costs
milliseconds) unless ``--steps`` is smaller.

    python benchmarks/bench_curvature.py [--steps N] [--repeat R]
"""

from __future__ import annotations

import argparse
import io
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the gdviz command does

import numpy as np

from gdviz.core import optimizers
from gdviz.core.curvature import CurvatureColumns, replay_states
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate, run_to_end
from gdviz.export.trace import write_records

CASES = {
    "rosenbrock, sgd": dict(problem="rosenbrock", optimizer="sgd", lr=0.001),
    "bowl (50 samples), full-batch sgd": dict(problem="bowl", optimizer="sgd", lr=0.02,
                                              batch_size=None),
    "linreg (1000 samples, 3 params), batch 10": dict(problem="linreg", optimizer="sgd",
                                                      lr=0.2, batch_size=10),
    "linreg, batch 10, adam (+ preconditioned)": dict(problem="linreg", optimizer="adam",
                                                      lr=0.05, batch_size=10),
    "logistic (500 samples), full batch": dict(problem="logistic", optimizer="sgd", lr=0.01,
                                               batch_size=None),
    "custom formula (50 samples)": dict(problem="custom", optimizer="sgd", lr=0.01,
                                        settings={"expr": "log(1 + exp(-(w*x + b - y)**2))"}),
    "mlp 2-16-16-1 (500 samples), full batch": dict(
        problem="mlp", optimizer="sgd", lr=0.05, batch_size=None, settings=dict(
            layers=(16.0, 16.0), dataset="spiral", n=1000, test_fraction=0.5)),
    "mlp 2-16-16-1, batch 10, adam (+ precond.)": dict(
        problem="mlp", optimizer="adam", lr=0.01, batch_size=10, settings=dict(
            layers=(16.0, 16.0), dataset="spiral", n=1000, test_fraction=0.5)),
    "edge_of_stability's 2-8-1 (50 samples)": dict(
        problem="mlp", optimizer="sgd", lr=0.1, batch_size=None, settings=dict(
            layers=(8.0,), dataset="multigauss", n=100)),
}
MLP_STEPS = 200


class ClockedColumns:
    """``CurvatureColumns`` with a clock on its work (what write_records calls)."""

    def __init__(self, columns: CurvatureColumns) -> None:
        self.columns, self.names, self.seconds = columns, columns.names, 0.0

    def table(self, params, states):
        t0 = time.perf_counter()
        out = self.columns.table(params, states)
        self.seconds += time.perf_counter() - t0
        return out


def timed_write(config: RunConfig, columns: CurvatureColumns) -> tuple[float, float]:
    """(seconds of the whole run with the columns, seconds of those spent on the columns)."""
    out = io.StringIO()
    clocked = ClockedColumns(columns)
    t0 = time.perf_counter()
    write_records(out, config.make_problem().param_names, iterate(config), clocked)
    return time.perf_counter() - t0, clocked.seconds


def table_seconds(config: RunConfig) -> float:
    """The Curvature view's work for the whole run: states replayed (Adam) and the table."""
    records = run_to_end(config)
    params = np.array([r.params for r in records])
    columns = CurvatureColumns(config.make_problem(), config.optimizer, config.hyperparams)
    t0 = time.perf_counter()
    states = None
    if columns.needs_states:
        start = optimizers.init_state(config.optimizer, params[0], config.hyperparams)
        states = [start, *replay_states(config.optimizer, config.hyperparams, start,
                                        params[:-1], np.array([r.grad for r in records[1:]]),
                                        np.array([r.lr for r in records[1:]]))]
    columns.table(params, states)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.steps} steps per run ({min(args.steps, MLP_STEPS)} for the networks), "
          f"best of {args.repeat}")
    print(f"{'case':45s} {'step µs':>8s} {'curv µs':>8s} {'ratio':>6s} "
          f"{'view µs/step':>13s} {'view/step':>9s}")
    for name, fields in CASES.items():
        steps = min(args.steps, MLP_STEPS) if fields["problem"] == "mlp" else args.steps
        config = RunConfig(max_steps=steps, seed=0, **fields)
        columns = CurvatureColumns(config.make_problem(), config.optimizer, config.hyperparams)
        columns.prepare()
        runs, view = [], []
        for _ in range(args.repeat):
            runs.append(timed_write(config, columns))
            view.append(table_seconds(config))
        total, curv = min(runs, key=lambda r: r[0] - r[1])  # the least disturbed run
        plain = total - curv
        per = 1e6 / steps
        print(f"{name:45s} {plain * per:8.1f} {curv * per:8.1f} {total / plain:6.2f} "
              f"{min(view) * per:13.1f} {min(view) / plain:9.2f}")


if __name__ == "__main__":
    main()
