"""``gdviz landscape``: the full loss over a plane through a centre point, with the runs' paths
projected onto it, written as NPZ or CSV (computed by ``core.landscape``).

The runs are described by the options of ``gdviz run`` (or ``--session``); a comparison preset
or session gives every run, and ``pca`` then takes the plane of all their paths together.
``--seed`` seeds the run (batches, the network's start) and the random directions.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gdviz.core.settings_parse import parse_float, parse_int


def add_landscape_options(parser: argparse.ArgumentParser) -> None:
    from gdviz.cli.options import add_run_options
    from gdviz.core.landscape import DEFAULT_GRID, DEFAULT_SPAN, MAX_GRID

    add_run_options(parser, command="export")
    plane = parser.add_argument_group("landscape")
    plane.add_argument("--directions", default="random", metavar="random|pca|params:A,B",
                       help="the plane's directions: two filter-normalised random directions "
                            "(default; biases zeroed), the first two principal directions of "
                            "the runs' paths, or two named parameters")
    plane.add_argument("--center", default="end", metavar="start|end|V1,V2,...",
                       help="the plane's centre: the (first) run's start, its end (default) "
                            "or one value per parameter")
    plane.add_argument("--grid", default=str(DEFAULT_GRID), metavar="N",
                       help=f"grid points per side (default {DEFAULT_GRID}, at most {MAX_GRID})")
    plane.add_argument("--span", default=str(DEFAULT_SPAN), metavar="X",
                       help=f"the grid covers -X..X along each direction (default "
                            f"{DEFAULT_SPAN:g}, in units of the directions)")
    plane.add_argument("--out", required=True, metavar="FILE.npz|FILE.csv",
                       help="where to write the grid, the directions, the centre and the "
                            "projected paths")


def landscape_command(args: argparse.Namespace) -> int:
    from gdviz.cli.options import comparison_from_args, config_from_args
    from gdviz.core.landscape import check_grid, compute_landscape
    from gdviz.core.runner import run_to_end
    from gdviz.export.landscape_files import FORMATS, write_landscape

    grid = parse_int(args.grid, "--grid")
    span = parse_float(args.span, "--span")
    check_grid(grid, span)
    if not args.out.lower().endswith(FORMATS):
        from gdviz.core.errors import ConfigError

        raise ConfigError(f"--out must end in .npz or .csv, got {args.out!r}")
    config = config_from_args(args)
    runs, selected = comparison_from_args(args, config)
    configs = [run.config for run in runs] if runs else [config]
    if runs:  # the selected run first: its start and end are the centre's
        configs.insert(0, configs.pop(selected))
    paths = [np.array([record.params for record in run_to_end(c)]) for c in configs]
    problem = configs[0].make_problem()
    landscape = compute_landscape(problem, paths, directions=args.directions,
                                  center=args.center, grid=grid, span=span,
                                  seed=configs[0].seed)
    write_landscape(args.out, landscape, problem.param_names)
    worst = max(float(np.max(p.distance)) for p in landscape.paths)
    lo, hi = np.nanmin(landscape.losses), np.nanmax(landscape.losses)
    sys.stderr.write(f"landscape {grid}x{grid} ({landscape.kind}): loss {lo:.4g} to {hi:.4g}; "
                     f"paths at most {worst:.3g} from the plane; wrote {args.out}\n")
    return 0
