"""``gdviz sweep``: a learning-rate sweep of one run (core.sweep) as CSV, and its summary."""

from __future__ import annotations

import argparse
import sys

from gdviz.cli.interrupt import SignalFlag
from gdviz.cli.options import config_from_args
from gdviz.cli.run import write_out  # the run command's one writer (stdout or atomic)
from gdviz.core.ensemble import seed_range
from gdviz.core.settings_parse import parse_float
from gdviz.core.sweep import (
    DEFAULT_DECADES,
    DEFAULT_FACTOR,
    DEFAULT_POINTS,
    Objective,
    SweepResult,
    default_grid,
    parse_grid,
    run_sweep,
)


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lrs", metavar="LOW:HIGH:N",
                        help=f"the learning rates: N from LOW to HIGH evenly spaced in log "
                             f"(default {DEFAULT_POINTS} over {DEFAULT_DECADES:g} decades "
                             "centred on the run's lr)")
    parser.add_argument("--objective", default="final", metavar="final|steps-to:LOSS|auc",
                        help="what is minimised: the final full loss (default), the first "
                             "step whose full loss is <= LOSS, or the mean full loss over the "
                             "run's steps; a diverged run gets inf")
    parser.add_argument("--seeds", default="1", metavar="K",
                        help="seeds seed..seed+K-1 at every learning rate (default 1)")
    parser.add_argument("--window-factor", default=str(DEFAULT_FACTOR), metavar="X",
                        help="the usable window: the learning rates around the best whose "
                             f"mean objective is within X times the best (default "
                             f"{DEFAULT_FACTOR:g})")
    parser.add_argument("--out", default="-", metavar="FILE.csv|-",
                        help="where to write the CSV lr,seed,objective,diverged (default -, "
                             "standard output)")


def sweep_command(args: argparse.Namespace, interrupted: SignalFlag | None = None) -> int:
    """Check every option (one line, status 2), sweep, write the CSV (atomically to a file),
    then print the summary line on stderr."""
    config = config_from_args(args)
    lrs = parse_grid(args.lrs) if args.lrs is not None else default_grid(config.lr)
    objective = Objective.parse(args.objective)
    seeds = seed_range(config.seed, args.seeds)
    factor = parse_float(args.window_factor, "--window-factor")
    check = None if interrupted is None else interrupted.check

    def cancelled() -> bool:
        if check is not None:
            check()   # raises Interrupted: nothing written
        return False

    if args.out != "-":
        from gdviz.export.files import check_target

        check_target(args.out)   # refused before the work, not after it
    progress = _show_progress if sys.stderr.isatty() else None
    try:
        result = run_sweep(config, lrs, objective, seeds, factor, progress, cancelled)
    finally:
        if progress is not None:
            sys.stderr.write("\r" + " " * 40 + "\r")
    write_out(args.out, lambda handle: write_sweep_csv(handle, result))
    sys.stderr.write(result.summary() + "\n")
    return 0


def _show_progress(fraction: float) -> None:
    """``sweeping: 35 %`` on one terminal line (at most every core.sweep.CHUNK_SECONDS)."""
    sys.stderr.write(f"\rsweeping: {fraction * 100:3.0f} %")
    sys.stderr.flush()


def write_sweep_csv(handle, result: SweepResult) -> None:
    """Rows ``lr,seed,objective,diverged``, lr by lr (ascending), seed by seed; numbers as
    Python writes floats (they read back exactly)."""
    handle.write("lr,seed,objective,diverged\n")
    for i, lr in enumerate(result.lrs):
        for m, seed in enumerate(result.seeds):
            handle.write(f"{float(lr)!r},{seed},{float(result.values[i, m])!r},"
                         f"{'true' if result.diverged[i, m] else 'false'}\n")
