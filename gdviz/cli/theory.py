"""``gdviz theory``: the quadratic theory of a run or a comparison (core.quadratic_theory) as
JSON: the Hessian's eigenvalues, the minimum, the best gradient-descent and heavy-ball
settings, and per run its predicted rate and the rate measured on the run itself (run to its
step limit); ``--grid FILE.csv`` also writes the (lr, momentum) plane's predicted rates."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from gdviz.cli.options import comparison_from_args, config_from_args
from gdviz.cli.run import write_out
from gdviz.core.errors import ConfigError
from gdviz.core.quadratic_theory import (
    Dynamics,
    PhasePlane,
    RunTheory,
    best_settings,
    measured_rate,
    phase_plane,
    run_theory,
)
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.export.files import check_target


def add_theory_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grid", metavar="FILE.csv",
                        help="also write the (lr, momentum) plane's predicted rates as CSV "
                             "(columns lr, momentum, rate; 241 × 201 points)")


def _number(value: float | None) -> float | str | None:
    """JSON has no inf or NaN: they are written as strings."""
    if value is None or np.isfinite(value):
        return value
    return str(value)


def _run_entry(run: RunSpec, theory: RunTheory, n_samples: int) -> dict:
    """The run's predicted rate and the rate measured on it (run to its step limit)."""
    records = run_to_end(run.config)
    errors = theory.quadratic.errors(np.array([r.params for r in records]))
    dynamics = theory.dynamics
    batch = run.config.effective_batch_size()
    entry = {"name": run.name, "optimizer": run.config.optimizer, "lr": run.config.lr,
             "batch_size": batch, "steps": records[-1].step, "status": records[-1].status}
    if isinstance(dynamics, Dynamics):
        entry.update({"momentum": dynamics.momentum, "method": dynamics.name,
                      "predicted_rate": _number(theory.rate)})
        if batch < n_samples:
            entry["note"] = (f"predicted for full-batch steps; this run takes batches of "
                             f"{batch} of {n_samples} samples (--batch-size full)")
    else:
        entry["predicted_rate"] = None
        entry["note"] = dynamics
    entry["measured_rate"] = _number(measured_rate(errors, theory.quadratic))
    return entry


def _write_plane(handle, plane: PhasePlane) -> None:
    handle.write("lr,momentum,rate\n")
    lr, momentum = np.meshgrid(plane.lrs, plane.momenta)
    for a, b, rate in zip(lr.ravel(), momentum.ravel(), plane.rates.ravel()):
        handle.write(f"{float(a)!r},{float(b)!r},{float(rate)!r}\n")


def theory_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.grid:
        check_target(args.grid)   # refused before any work
    runs, selected = comparison_from_args(args, config)
    if not runs:
        runs = (RunSpec("run", "#000000", config),)
    problem = runs[0].config.make_problem()
    theories = [run_theory(run.config, problem) for run in runs]
    first = theories[selected]
    if isinstance(first, str):
        raise ConfigError(first)
    quadratic = first.quadratic
    result = {"problem": problem.name, "params": list(problem.param_names),
              "eigenvalues": quadratic.eigenvalues.tolist(),
              "minimum": quadratic.minimum.tolist(),
              "condition_number": _number(quadratic.condition_number)}
    best = best_settings(quadratic)
    if best is not None:
        (gd_lr, gd_rate), (hb_lr, hb_beta) = best
        result["best_gradient_descent"] = {"lr": gd_lr, "rate": gd_rate}
        result["best_heavy_ball"] = {"lr": hb_lr, "momentum": hb_beta,
                                     "rate": float(np.sqrt(hb_beta))}
    result["runs"] = [_run_entry(run, theory, problem.n_samples)
                      for run, theory in zip(runs, theories)]
    if args.grid:
        dynamics = first.dynamics if isinstance(first.dynamics, Dynamics) else Dynamics(1.0)
        plane = phase_plane(quadratic, tuple(t.dynamics for t in theories
                                             if isinstance(t.dynamics, Dynamics)),
                            dynamics.dampening, dynamics.nesterov)
        if plane is None:
            raise ConfigError("the loss is flat: there is no phase plane")
        write_out(args.grid, lambda handle: _write_plane(handle, plane))
    lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, allow_nan=False)}"
             for key, value in result.items()]
    sys.stdout.write("{\n" + ",\n".join(lines) + "\n}\n")
    sys.stdout.flush()
    return 0
