"""The ``gdviz`` command. No sub-command opens the window; ``run``, ``problems`` and
``optimizers`` work headless. Bad input prints ONE line on stderr and exits with status 2."""

from __future__ import annotations

import argparse
import os
import sys

# gdviz multiplies many small matrices (a network's layers per grid point); OpenBLAS's worker
# threads make those slower, not faster: a landscape chunk's batched matmul took 12.6 ms with
# the default threads and 1.3 ms with one, on a 2-core machine shared with other work
# (benchmarks/bench_landscape.py). Read by OpenBLAS when numpy loads, so set before that;
# a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from gdviz import __version__
from gdviz.cli.interrupt import Interrupted
from gdviz.core.errors import ConfigError
from gdviz.core.text import shown
from gdviz.export.files import WriteError

EXIT_BAD_INPUT = 2
EXIT_WRITE_FAILED = 1  # the work started and writing its result failed (disk full, I/O error)
MAX_MESSAGE = 1000  # characters of an error line (text from files is escaped: core.text.shown)


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (``gdviz: error: ...``), status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"gdviz: error: {shown(message, MAX_MESSAGE)} (see gdviz --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    from gdviz.cli.options import add_run_options

    parser = _OneLineParser(
        prog="gdviz",
        description="Watch gradient descent and SGD work. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"gdviz {__version__}")
    parser.add_argument("--preset", help="open the window on this preset (default: wavy)")
    parser.add_argument("--screenshot", metavar="FILE.png|.svg|.pdf",
                        help="render the window to a PNG (or SVG or PDF vectors) headless "
                             "and exit")
    parser.add_argument("--steps", type=int, default=0, metavar="N",
                        help="with --screenshot: steps to take before rendering")
    parser.add_argument("--seeds", dest="window_seeds", metavar="K",
                        help="the window runs K seeds of every run at once (1 to 256; "
                             "default: the preset's, else 1)")
    parser.add_argument("--smoke", action="store_true",
                        help="self-test: open the window offscreen, play every lesson, exit")
    sub = parser.add_subparsers(dest="command", parser_class=_OneLineParser)
    run = sub.add_parser("run", help="run an optimizer headless and write its trace as CSV")
    add_run_options(run)
    run.add_argument("--out", required=True, metavar="FILE.csv|-",
                     help="where to write the trace CSV (- for standard output)")
    run.add_argument("--curvature", action="store_true",
                     help="add the columns sharpness and lambda_min (the extreme eigenvalues "
                          "of the full loss's Hessian after each step) and, for adam/adamw, "
                          "preconditioned_sharpness")
    run.add_argument("--seeds", metavar="K",
                     help="run seeds seed..seed+K-1 together (1 to 10000) into one CSV whose "
                          "first column is the seed")
    from gdviz.cli.export import add_export_options

    export = sub.add_parser("export", help="render a run's animation as a GIF, an MP4 or WebM "
                            "video or PNG frames with the window's views, headless")
    add_export_options(export)
    from gdviz.cli.landscape import add_landscape_options

    landscape = sub.add_parser("landscape", help="the loss over a plane through the weights, "
                               "with the runs' paths projected onto it, as NPZ or CSV")
    add_landscape_options(landscape)
    from gdviz.cli.noise import add_noise_options

    noise = sub.add_parser("noise", help="the mini-batch gradient's mean and covariance at a "
                           "point, and SGD's predicted stationary cloud, as JSON")
    add_run_options(noise)
    add_noise_options(noise)
    from gdviz.cli.theory import add_theory_options

    theory = sub.add_parser("theory", help="a quadratic loss's eigenvalues, minimum and the "
                            "predicted and measured rates of gradient descent and momentum, "
                            "as JSON")
    add_run_options(theory)
    add_theory_options(theory)

    from gdviz.cli.sweep import add_sweep_options

    sweep = sub.add_parser("sweep", help="a learning-rate sweep of one run: the objective at "
                           "every lr of a log grid, K seeds each, as CSV; prints the best lr")
    add_run_options(sweep)
    add_sweep_options(sweep)
    sub.add_parser("problems", help="list problems with their parameters and settings")
    sub.add_parser("optimizers", help="list optimizers, hyperparameters and schedules")
    return parser


# Options whose values may start with "-" (negative numbers, "-1.5,2"): argparse would take
# such a value for an option, so "--init -1.5,2" is rewritten to "--init=-1.5,2".
_VALUE_OPTIONS = ("--init", "--lr", "--tol", "--hp", "--set", "--center", "--at")


def _join_negative_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if arg in _VALUE_OPTIONS and nxt[:1] == "-" and nxt[1:2] in tuple("0123456789.in"):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    try:
        if args.command in ("run", "export", "sweep"):
            from gdviz.cli.interrupt import SignalFlag

            with SignalFlag() as interrupted:  # checked between records / frames / chunks
                if args.command == "run":
                    from gdviz.cli.run import run_command

                    return run_command(args, interrupted)
                if args.command == "sweep":
                    from gdviz.cli.sweep import sweep_command

                    return sweep_command(args, interrupted)
                from gdviz.cli.export import export_command

                return export_command(args, interrupted)
        if args.command == "landscape":
            from gdviz.cli.landscape import landscape_command

            return landscape_command(args)
        if args.command == "noise":
            from gdviz.cli.noise import noise_command

            return noise_command(args)
        if args.command == "theory":
            from gdviz.cli.theory import theory_command

            return theory_command(args)
        if args.command == "problems":
            from gdviz.cli.run import list_problems

            return list_problems(sys.stdout)
        if args.command == "optimizers":
            from gdviz.cli.run import list_optimizers

            return list_optimizers(sys.stdout)
        return _gui(args)
    except ConfigError as err:
        sys.stderr.write(f"gdviz: error: {shown(err, MAX_MESSAGE)}\n")
        return EXIT_BAD_INPUT
    except WriteError as err:
        sys.stderr.write(f"gdviz: error: {shown(err, MAX_MESSAGE)}\n")
        return EXIT_WRITE_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("gdviz: interrupted (SIGINT); nothing was written\n")
        return 130
    except Interrupted as stop:
        sys.stderr.write(f"gdviz: interrupted ({stop}); nothing was written\n")
        return stop.exit_status
    except BrokenPipeError:
        return 0


def _gui(args: argparse.Namespace) -> int:
    if args.steps < 0:
        raise ConfigError(f"--steps must be at least 0, got {args.steps}")
    if args.preset:
        from gdviz.core.presets import get_preset

        get_preset(args.preset)  # unknown names fail here with the list of presets
    seeds = None
    if args.window_seeds is not None:
        from gdviz.core.seed_paths import checked_seed_count

        seeds = checked_seed_count(args.window_seeds)
    if args.smoke:
        from gdviz.gui.smoke import run_smoke

        return run_smoke()
    from gdviz.gui.app import main_gui

    return main_gui(preset=args.preset, screenshot=args.screenshot, steps=args.steps,
                    seeds=seeds)
