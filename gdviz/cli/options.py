"""Turn command-line options into a validated RunConfig (shared by ``run`` and ``export``),
and for ``export`` the runs of a comparison preset or session (``comparison_from_args``)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.settings_parse import parse_floats, parse_int

# Options that set one run's own settings (what differs between the runs of a comparison);
# every other run option sets what all runs share (core.lockstep.SHARED_FIELDS).
PER_RUN_OPTIONS = (("optimizer", "--optimizer"), ("lr", "--lr"), ("hp", "--hp"),
                   ("schedule", "--schedule"), ("schedule_every", "--schedule-every"),
                   ("torch", "--torch"),
                   ("batch_size", "--batch-size"),
                   ("order", "--order"), ("seed", "--seed"))


def add_run_options(parser: argparse.ArgumentParser, command: str = "run") -> None:
    """The options of ``gdviz run`` (``export`` takes the same ones; ``command`` says which
    parser gets them: what a comparison preset or session gives differs)."""
    if command == "export":
        preset_help = ("start from a preset (see the Presets menu); other options override "
                       "it. A comparison preset draws every run; then only the options all "
                       "runs share (--steps, --epochs, --init, --tol, --set, --data) may be "
                       "added, and they change every run")
        session_help = ("start from a saved session; other options override it. A session "
                        "of a comparison draws every run (options as with a comparison preset)")
    else:
        preset_help = ("start from a preset (see the Presets menu); other options override "
                       "it. A comparison preset runs ONE run here, its first (gdviz export "
                       "draws every run; the window's File > Export trace writes one CSV per "
                       "run)")
        session_help = ("start from a saved session's selected run; other options override "
                        "it (of a comparison, only the selected run is run)")
    src = parser.add_argument_group("problem")
    src.add_argument("--preset", help=preset_help)
    src.add_argument("--problem", help="problem name (gdviz problems lists them)")
    src.add_argument("--session", metavar="FILE.gdviz.json", help=session_help)
    src.add_argument("--allow-outside-data", action="store_true",
                     help="let --session read a data file outside the session's folder "
                          "(refused by default: a session may come from someone else)")
    src.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                     help="a problem setting, e.g. --set n=200 --set noise=0.5")
    src.add_argument("--expr", metavar="FORMULA",
                     help="with --problem custom: your per-sample loss over parameters and data "
                          "columns, e.g. \"(w*x + b - y)**2\" (the gradient is derived exactly)")
    src.add_argument("--data", metavar="FILE.csv",
                     help="your data for linreg, logistic, slope or custom (header row; last "
                          "column is the target)")
    opt = parser.add_argument_group("optimizer")
    opt.add_argument("--optimizer", help="sgd (default), adagrad, rmsprop, adam, adamw, nadam, "
                                         "radam, adamax, adadelta, rprop, asgd, adafactor, "
                                         "lion, lbfgs or newton (gdviz optimizers lists them)")
    opt.add_argument("--lr", help="learning rate (default: the optimizer's torch default)")
    opt.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE",
                     help="a hyperparameter with torch's name, e.g. --hp momentum=0.9 "
                          "--hp nesterov=true --hp betas=0.9,0.999")
    opt.add_argument("--schedule", metavar="NAME[:KEY=VALUE,...]",
                     help="learning-rate schedule, e.g. step:step_size=2,gamma=0.1 or "
                          "warmup-cosine:warmup_steps=100,T_max=900")
    opt.add_argument("--torch", action="append", default=[], metavar="LINE",
                     help="a PyTorch optimizer or scheduler line, e.g. \"torch.optim.AdamW("
                          "model.parameters(), lr=3e-4, weight_decay=0.1)\" (read, never run; "
                          "give it twice for both)")
    opt.add_argument("--schedule-every", choices=("epoch", "step"),
                     help="step the schedule after every epoch (default) or every optimizer "
                          "step, as a torch loop calls scheduler.step()")
    smp = parser.add_argument_group("sampling and stopping")
    smp.add_argument("--batch-size", metavar="N|full", help="samples per step (1..n) or full")
    smp.add_argument("--order", help="shuffle (default), sequential or replacement")
    lim = smp.add_mutually_exclusive_group()
    lim.add_argument("--epochs", metavar="N", help="stop after N epochs")
    lim.add_argument("--steps", metavar="N", help="stop after N steps")
    smp.add_argument("--init", metavar="V1,V2,...", help="start point, one value per parameter")
    smp.add_argument("--init-scheme", metavar="zeros|normal|xavier|kaiming",
                     help="start point drawn from the run's seed: zeros, N(0, 1), "
                          "Xavier/Glorot or Kaiming/He (fan_in = the number of inputs for "
                          "problems without layers)")
    smp.add_argument("--seed", metavar="N", help="seed of the run's random generator (default 0)")
    smp.add_argument("--tol", metavar="EPS",
                     help="stop when the full loss changes by less than EPS")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} must look like NAME=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _torch_settings(args: argparse.Namespace) -> dict:
    """The settings the --torch lines give; refused next to the options they replace."""
    from gdviz.core.torch_code import settings_from_torch

    settings = settings_from_torch(args.torch)
    clashes = [flag for key, flag in (("optimizer", "--optimizer"), ("optimizer", "--hp"),
                                      ("optimizer", "--lr"), ("schedule", "--schedule"))
               if key in settings and getattr(args, flag[2:]) not in (None, [])]
    if clashes:
        raise ConfigError(f"--torch already sets what {', '.join(clashes)} would: give one")
    return settings


def session_of(args: argparse.Namespace):
    """The ``--session`` file, loaded once per command (``--allow-outside-data`` lets it read
    data outside its folder)."""
    from gdviz.export.session import load_session

    loaded = getattr(args, "loaded_session", None)
    if loaded is None:
        loaded = load_session(args.session,
                              allow_outside_data=getattr(args, "allow_outside_data", False))
        args.loaded_session = loaded
    return loaded


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Build the RunConfig the options describe; ConfigError with a one-line message if not."""
    from gdviz.core.optimizers import get_optimizer
    from gdviz.core.schedules import parse_schedule_arg

    session = getattr(args, "session", None)
    if sum(bool(x) for x in (args.preset, args.problem, session)) > 1:
        raise ConfigError("give only one of --preset, --problem and --session")
    if session:
        base = session_of(args).run.config.to_dict()
    elif args.preset:
        from gdviz.core.presets import get_preset

        found = get_preset(args.preset)
        # a comparison's first run, the one the window selects when it opens the preset
        base = (found.runs[0].config if found.runs else found.config).to_dict()
    elif args.problem:
        base = {"problem": args.problem, "optimizer": "sgd", "batch_size": 1}
    else:
        raise ConfigError("say which problem to run: --problem NAME or --preset NAME "
                          "(or --session FILE)")
    cfg = dict(base)
    if args.problem:
        cfg["problem"] = args.problem
    if args.settings:
        cfg["settings"] = {**cfg.get("settings", {}), **_pairs(args.settings, "--set")}
    if args.expr is not None:
        if cfg["problem"] != "custom":
            raise ConfigError("--expr needs --problem custom")
        cfg["settings"] = {**cfg.get("settings", {}), "expr": args.expr}
    if args.data:
        cfg["data_path"] = args.data
    if args.optimizer:
        cfg["optimizer"] = args.optimizer
        if args.optimizer != base.get("optimizer"):
            cfg["hyperparams"] = {}
    if args.lr is not None:
        cfg["lr"] = args.lr
    elif not (args.preset or session):
        cfg["lr"] = get_optimizer(cfg["optimizer"]).default_lr
    if args.hp:
        cfg["hyperparams"] = {**cfg.get("hyperparams", {}), **_pairs(args.hp, "--hp")}
    if args.schedule:
        cfg["schedule"], cfg["schedule_params"] = parse_schedule_arg(args.schedule)
    if getattr(args, "torch", None):
        cfg.update(_torch_settings(args))
    if getattr(args, "schedule_every", None):
        cfg["schedule_every"] = args.schedule_every
    if args.batch_size is not None:
        text = str(args.batch_size).strip().lower()  # argparse gives [] for "--"
        cfg["batch_size"] = None if text == "full" else parse_int(text, "batch size")
    if args.order:
        cfg["order"] = args.order
    if args.epochs is not None:
        cfg["max_epochs"], cfg["max_steps"] = parse_int(args.epochs, "number of epochs"), None
    if args.steps is not None:
        cfg["max_steps"], cfg["max_epochs"] = parse_int(args.steps, "number of steps"), None
    if args.init is not None:
        cfg["init"] = parse_floats(args.init, "start point")
    if args.seed is not None:
        cfg["seed"] = parse_int(args.seed, "seed")
    if args.tol is not None:
        cfg["tol"] = args.tol
    scheme = getattr(args, "init_scheme", None)
    if scheme is None:
        return RunConfig.from_dict(cfg)
    from gdviz.core.init_schemes import check_scheme, init_point

    if args.init is not None:
        raise ConfigError("give only one of --init and --init-scheme")
    check_scheme(scheme)
    config = RunConfig.from_dict({**cfg, "init": None})
    return config.with_changes(
        init=tuple(init_point(config.make_problem(), scheme, config.seed).tolist()))


def comparison_from_args(args: argparse.Namespace, config: RunConfig) -> tuple[tuple, int]:
    """(runs, selected) of a comparison preset or session (``gdviz export`` draws them all),
    or ((), 0) for a single run. ``config`` is ``config_from_args(args)``: the options every
    run shares (--steps, --init, ...) are taken from it into each run, as the window shares
    an edit of the problem, start point or limits. An option that sets one run's own settings
    (--lr, --optimizer, ...) is refused: it is not clear which run it would change. Qt-free
    (the runs are core ``RunSpec``s)."""
    from gdviz.core import run_set
    from gdviz.core.lockstep import share_settings

    session = getattr(args, "session", None)
    if session:
        loaded = session_of(args)
        # names kept as saved ("preset": only changed settings would rename them)
        runs = tuple(replace(r, named_by="preset") for r in loaded.runs)
        selected, what = loaded.selected, f"session ({session})"
    elif args.preset:
        from gdviz.core.presets import get_preset

        preset = get_preset(args.preset)
        runs = preset.runs
        selected, what = 0, f"preset ({args.preset})"
    else:
        return (), 0
    if len(runs) < 2:
        return (), 0
    given = [flag for name, flag in PER_RUN_OPTIONS if getattr(args, name, None)
             not in (None, [])]
    if given:
        raise ConfigError(
            f"options that change one run cannot be combined with a comparison {what}: "
            f"{', '.join(given)} would not say which of its {len(runs)} runs to change; "
            "drop them, or export one run with --problem (options all runs share, such as "
            "--steps or --init, are fine)")
    runs = tuple(replace(r, config=share_settings(r.config, config)) for r in runs)
    return run_set.validate(runs), selected
