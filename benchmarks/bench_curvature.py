"""The cost of the curvature columns per step, as a ratio to a step without them, measured in
one run.

For each case, the same run is written as ``gdviz run`` writes it (core.runner.iterate into
export.trace.write_records, to memory) without and with ``--curvature``
(core.curvature.CurvatureColumns: the Hessian of the full loss after every step, its extreme
eigenvalues, and for Adam the preconditioned sharpness); the two alternate ``--repeat`` times
and the best of each is kept. Also the Curvature view's path: ``CurvatureColumns.table`` over
the whole history at once (vectorised Hessians and eigenvalues), per step, as a ratio to the
runner's own step. The 2-16-16-1 network of the issue waits for the ``mlp`` problem.

    python benchmarks/bench_curvature.py [--steps N] [--repeat R]
"""

from __future__ import annotations

import argparse
import io
import time

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
}


def timed_write(config: RunConfig, extra) -> float:
    out = io.StringIO()
    t0 = time.perf_counter()
    write_records(out, config.make_problem().param_names, iterate(config), extra)
    return time.perf_counter() - t0


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
    print(f"{args.steps} steps per run, best of {args.repeat} alternating pairs")
    print(f"{'case':45s} {'plain µs/step':>14s} {'+curv µs/step':>14s} {'ratio':>7s} "
          f"{'view µs/step':>13s} {'view/plain':>10s}")
    for name, fields in CASES.items():
        config = RunConfig(max_steps=args.steps, seed=0, **fields)
        columns = CurvatureColumns(config.make_problem(), config.optimizer, config.hyperparams)
        columns.prepare()
        plain, curved, view = [], [], []
        for _ in range(args.repeat):
            plain.append(timed_write(config, None))
            curved.append(timed_write(config, columns))
            view.append(table_seconds(config))
        per = 1e6 / args.steps
        print(f"{name:45s} {min(plain) * per:14.1f} {min(curved) * per:14.1f} "
              f"{min(curved) / min(plain):7.2f} {min(view) * per:13.1f} "
              f"{min(view) / min(plain):10.2f}")


if __name__ == "__main__":
    main()
