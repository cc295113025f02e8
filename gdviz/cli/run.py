"""``gdviz run``, ``gdviz problems`` and ``gdviz optimizers``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from gdviz.cli.interrupt import SignalFlag
from gdviz.cli.options import config_from_args
from gdviz.core.ensemble import check_vectorisable, iterate_ensemble, seed_range
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.run_blocks import iterate_blocks
from gdviz.core.runner import iterate
from gdviz.export.files import atomic_file, check_target, write_failure
from gdviz.export.trace import write_blocks, write_ensemble, write_records

MAX_KEPT_BYTES = 2e9  # --seeds: the rows kept until every seed's run has ended


def run_command(args: argparse.Namespace, interrupted: SignalFlag | None = None) -> int:
    """Write the trace: to standard output, or atomically to ``--out`` (a temporary file
    renamed at the end: a failure or an interruption leaves no partial CSV). A target that
    cannot be written is refused before the run (ConfigError, status 2); a failure while
    writing raises WriteError (status 1). ``interrupted``: checked before each block of
    steps; a signal raises ``Interrupted`` there (the temporary file is removed)."""
    config = config_from_args(args)
    if args.seeds is not None:
        return _run_seeds(args, config, interrupted)
    problem = config.make_problem()
    names = problem.param_names
    if not getattr(args, "curvature", False):
        # computed and written in blocks of steps (core.run_blocks: iterate's numbers, the
        # same CSV; wavy batch 1 ~3x faster a step than record by record)
        blocks = iterate_blocks(config)
        if interrupted is not None:
            blocks = interrupted.checked(blocks)
        block = write_out(args.out, lambda handle: write_blocks(handle, names, blocks))
        message = block.messages[-1] if block is not None else ""
        sys.stderr.write((message or "stopped") + "\n")
        return 0
    from gdviz.core.curvature import CurvatureColumns

    extra = CurvatureColumns(problem, config.optimizer, config.hyperparams)
    extra.prepare()
    records = iterate(config) if interrupted is None else interrupted.checked(iterate(config))
    last = write_out(args.out, lambda handle: write_records(handle, names, records, extra))
    sys.stderr.write((last.message if last and last.message else "stopped") + "\n")
    return 0


def _run_seeds(args: argparse.Namespace, config: RunConfig,
               interrupted: SignalFlag | None) -> int:
    """``--seeds K``: seeds seed..seed+K-1 in one ensemble, one CSV with a seed column; one
    line on stderr per seed saying how its run ended. Written as ``run_command`` writes
    (atomically to ``--out``; ``interrupted`` checked before each step)."""
    if getattr(args, "curvature", False):
        raise ConfigError("--curvature and --seeds do not combine: run one seed with --curvature")
    seeds = seed_range(config.seed, args.seeds)
    names = config.make_problem().param_names
    kept = len(seeds) * (config.step_limit() + 1) * 8 * (3 + 2 * len(names))
    if kept > MAX_KEPT_BYTES:
        raise ConfigError(
            f"--seeds {len(seeds)} with up to {config.step_limit()} steps would keep "
            f"{kept / 1e9:.1f} GB of rows in memory before writing the CSV (at most "
            f"{MAX_KEPT_BYTES / 1e9:g} GB): lower --seeds, --steps or --epochs")
    check_vectorisable(config)
    steps = iterate_ensemble(config, seeds)
    if interrupted is not None:
        steps = interrupted.checked(steps)
    ends = write_out(args.out, lambda handle: write_ensemble(handle, names, seeds, steps))
    sys.stderr.write("".join(f"seed {seed}: {ends[m][1] if m in ends else 'stopped'}\n"
                             for m, seed in enumerate(seeds)))
    return 0


def write_out(out: str, write):
    """``write(handle)`` to standard output (``-``) or atomically to the file ``out`` (refused
    before any work when it cannot be written; a failure while writing raises WriteError);
    returns what ``write`` returned."""
    if out == "-":
        result = write(sys.stdout)
        sys.stdout.flush()
        return result
    target = check_target(out)
    try:
        with atomic_file(target, "w") as handle:
            return write(handle)
    except OSError as err:
        raise write_failure(out, err) from None


def _fmt(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def list_problems(out: TextIO) -> int:
    from gdviz.core.problems.registry import make_problem, problem_specs

    for spec in problem_specs():
        problem = make_problem(spec.name)
        csv = "  (accepts --data FILE.csv)" if spec.accepts_csv else ""
        out.write(f"{spec.name}  [{spec.family}] {spec.title}{csv}\n")
        start = ", ".join(f"{n}={v:g}" for n, v in zip(problem.param_names,
                                                         problem.default_init))
        out.write(f"    parameters: {start}   (default start)\n")
        out.write(f"    samples: {problem.n_samples if problem.has_data else 'none'}\n")
        for s in spec.settings:
            flag = "--expr " if s.name == "expr" else f"--set {s.name}="
            value = _fmt(s.default)
            if isinstance(s.default, str):
                value = f'"{value}"'
            out.write(f"    {flag}{value}    {s.help}\n")
    return 0


def list_optimizers(out: TextIO) -> int:
    from gdviz.core.optimizers import OPTIMIZERS
    from gdviz.core.schedules import SCHEDULES

    for spec in OPTIMIZERS.values():
        torch = f"   (torch.optim.{spec.torch_class})" if spec.torch_class else ""
        out.write(f"{spec.name}  {spec.title}   --lr default {spec.default_lr:g}{torch}\n")
        for hp in spec.hyperparams:
            out.write(f"    --hp {hp.name}={_fmt(hp.default)}    {hp.help}\n")
    out.write("\nschedules (--schedule NAME[:KEY=VALUE,...], stepped once per epoch, or per "
              "step with --schedule-every step):\n")
    for sched in SCHEDULES.values():
        params = ",".join(f"{p.name}={_fmt(p.default)}" for p in sched.params)
        out.write(f"  {sched.name}{':' + params if params else ''}    {sched.description}\n")
    with contextlib.suppress(BrokenPipeError):
        out.flush()
    return 0
