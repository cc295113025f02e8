"""The learning-rate schedule catalogue: torch.optim.lr_scheduler's names, parameters and
defaults, help texts, and the checks torch's constructors make.

``gdviz.core.scheduler`` steps them the way ``scheduler.step()`` does. A schedule is stepped
once per epoch or once per optimizer step (``SCHEDULE_EVERY``); its "units" below are those
steps. "inverse-time" is Keras' InverseTimeDecay and "warmup-cosine" torch's SequentialLR of a
LinearLR warm-up and a CosineAnnealingLR; the rest are torch classes (``torch_class``).
Learning rates are in the optimizer's units (parameter units per gradient unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.optimizers import HyperParam
from gdviz.core.settings_parse import validate_specs


@dataclass(frozen=True)
class ScheduleSpec:
    """What the GUI and the CLI show about a schedule; ``params`` excludes the base lr.

    torch_class: the class in torch.optim.lr_scheduler, or None (inverse-time, warmup-cosine).
    cycles_momentum: True when the ``cycle_momentum`` parameter makes it drive the optimizer's
        momentum (or beta1) too, as torch's OneCycleLR and CyclicLR do.
    """

    name: str
    title: str
    description: str
    params: tuple[HyperParam, ...]
    torch_class: str | None = None
    cycles_momentum: bool = False


SCHEDULE_EVERY = ("epoch", "step")
_UNITS = "units (epochs, or steps with --schedule-every step)"
_CYCLE_MOMENTUM_HELP = (
    "Also cycle the optimizer's momentum (or Adam's beta1) inversely to the learning rate, "
    "as torch does; needs an optimizer with momentum or betas (sgd, rmsprop, the Adam family, "
    "lion).")

_GAMMA_HELP = ("Factor applied to the learning rate {when}, in (0, 1]: 0.5 halves it, 1 keeps "
               "it constant.")

SCHEDULES: dict[str, ScheduleSpec] = {spec.name: spec for spec in (
    ScheduleSpec("constant", "Constant", "The same learning rate in every epoch.", ()),
    ScheduleSpec(
        "step", "Step decay (StepLR)",
        "Multiply the learning rate by gamma every step_size epochs: lr × gamma^(epoch // "
        "step_size).",
        (
            HyperParam("step_size", 1, int,
                       "Number of epochs between two decays: the learning rate stays flat "
                       "for this many epochs, then drops by the factor gamma.",
                       minimum=1),
            HyperParam("gamma", 0.1, float, _GAMMA_HELP.format(when="every step_size epochs"),
                       maximum=1.0),
        ), "StepLR"),
    ScheduleSpec(
        "exponential", "Exponential decay (ExponentialLR)",
        "Multiply the learning rate by gamma after every epoch: lr × gamma^epoch.",
        (HyperParam("gamma", 0.9, float, _GAMMA_HELP.format(when="after every epoch"),
                    maximum=1.0),), "ExponentialLR"),
    ScheduleSpec(
        "cosine", "Cosine annealing (CosineAnnealingLR)",
        "Glide from lr down to eta_min along half a cosine wave over T_max epochs (as torch "
        "steps it; past T_max the wave rises again).",
        (
            HyperParam("T_max", 10, int,
                       "Number of epochs to go from the base learning rate down to eta_min "
                       "(half a cosine period).",
                       minimum=1),
            HyperParam("eta_min", 0.0, float,
                       "The smallest learning rate, reached after T_max epochs.",
                       minimum=0.0),
        ), "CosineAnnealingLR"),
    ScheduleSpec(
        "inverse-time", "Inverse-time decay",
        "Shrink the learning rate as 1/t: lr / (1 + decay × epoch), the classic schedule "
        "for which SGD provably converges.",
        (HyperParam("decay", 0.5, float,
                    "How fast the learning rate shrinks: after 1/decay epochs it is half the "
                    "base value, after 3/decay epochs a quarter.",
                    minimum=0.0),)),
    ScheduleSpec(
        "linear", "Linear (LinearLR)",
        "Scale the learning rate linearly from start_factor × lr to end_factor × lr over "
        "total_iters units, then keep it.",
        (
            HyperParam("start_factor", 1.0 / 3, float,
                       "Multiplier of the base learning rate at the start, in (0, 1].",
                       maximum=1.0),
            HyperParam("end_factor", 1.0, float,
                       "Multiplier of the base learning rate after total_iters units, in "
                       "[0, 1].",
                       minimum=0.0, maximum=1.0),
            HyperParam("total_iters", 5, int,
                       f"Number of {_UNITS} the linear change takes.",
                       minimum=1),
        ), "LinearLR"),
    ScheduleSpec(
        "onecycle", "One cycle (OneCycleLR)",
        "Warm up from max_lr/div_factor to max_lr, then anneal far below the start "
        "(1cycle policy); the momentum (or beta1) cycles the other way.",
        (
            HyperParam("max_lr", None, "optional_float",
                       "The peak learning rate (empty: the run's learning rate). The cycle "
                       "starts at max_lr/div_factor and ends at that / final_div_factor.",
                       minimum=0.0),
            HyperParam("total_steps", None, "optional_int",
                       f"Length of the cycle in {_UNITS} (empty: the run's length).",
                       minimum=1),
            HyperParam("pct_start", 0.3, float,
                       "Fraction of the cycle spent raising the learning rate.",
                       minimum=0.0, maximum=1.0),
            HyperParam("anneal_strategy", "cos", str,
                       "cos: cosine-shaped rise and fall; linear: straight lines."),
            HyperParam("cycle_momentum", True, bool, _CYCLE_MOMENTUM_HELP),
            HyperParam("base_momentum", 0.85, float,
                       "The momentum (or beta1) at the learning rate's peak, the lowest "
                       "momentum of the cycle.",
                       minimum=0.0),
            HyperParam("max_momentum", 0.95, float,
                       "The momentum (or beta1) at the start and end of the cycle.",
                       minimum=0.0),
            HyperParam("div_factor", 25.0, float,
                       "The start learning rate is max_lr / div_factor.",
                       minimum=0.0),
            HyperParam("final_div_factor", 1e4, float,
                       "The final learning rate is the start learning rate / "
                       "final_div_factor.",
                       minimum=0.0),
            HyperParam("three_phase", False, bool,
                       "Three phases: up, back down to the start, then the final "
                       "annihilation (fast.ai's variant); else two (up, then down)."),
        ), "OneCycleLR", cycles_momentum=True),
    ScheduleSpec(
        "cyclic", "Cyclic (CyclicLR)",
        "Triangle waves between base_lr and max_lr (Smith's cyclical learning rates); "
        "triangular2 halves the wave every cycle, exp_range shrinks it by gamma^unit.",
        (
            HyperParam("base_lr", None, "optional_float",
                       "The lower bound of the cycle (empty: the run's learning rate).",
                       minimum=0.0),
            HyperParam("max_lr", None, "optional_float",
                       "The upper bound of the cycle (torch requires it; empty here: 10 × "
                       "base_lr).",
                       minimum=0.0),
            HyperParam("step_size_up", 2000, int,
                       f"Number of {_UNITS} of the rising half of a cycle.",
                       minimum=1),
            HyperParam("step_size_down", None, "optional_int",
                       f"Number of {_UNITS} of the falling half (empty: step_size_up).",
                       minimum=1),
            HyperParam("mode", "triangular", str,
                       "triangular: constant height; triangular2: the height halves every "
                       "cycle; exp_range: the height is scaled by gamma^(units so far)."),
            HyperParam("gamma", 1.0, float,
                       "The factor of exp_range mode (height × gamma^units).",
                       minimum=0.0),
            HyperParam("cycle_momentum", True, bool, _CYCLE_MOMENTUM_HELP),
            HyperParam("base_momentum", 0.8, float,
                       "The momentum (or beta1) at the learning rate's peak.",
                       minimum=0.0),
            HyperParam("max_momentum", 0.9, float,
                       "The momentum (or beta1) at the learning rate's trough.",
                       minimum=0.0),
        ), "CyclicLR", cycles_momentum=True),
    ScheduleSpec(
        "cosine-restarts", "Cosine with warm restarts (CosineAnnealingWarmRestarts)",
        "Cosine annealing from lr to eta_min over T_0 units, then jump back to lr and anneal "
        "again, each period T_mult times longer than the last (SGDR).",
        (
            HyperParam("T_0", 10, int, f"Length of the first period in {_UNITS}.", minimum=1),
            HyperParam("T_mult", 1, int,
                       "Each period is T_mult times longer than the previous one (1: all "
                       "equal).",
                       minimum=1),
            HyperParam("eta_min", 0.0, float,
                       "The smallest learning rate, reached at the end of each period.",
                       minimum=0.0),
        ), "CosineAnnealingWarmRestarts"),
    ScheduleSpec(
        "polynomial", "Polynomial decay (PolynomialLR)",
        "Decay the learning rate to 0 over total_iters units as lr × (1 − t/total_iters)"
        "^power, then keep it at 0.",
        (
            HyperParam("total_iters", 5, int, f"Number of {_UNITS} to reach 0.", minimum=1),
            HyperParam("power", 1.0, float,
                       "Shape of the decay: 1 is a straight line, 2 falls fast at first.",
                       minimum=0.0),
        ), "PolynomialLR"),
    ScheduleSpec(
        "plateau", "Reduce on plateau (ReduceLROnPlateau)",
        "Watch the full loss after every unit; when it has not improved for more than "
        "patience units, multiply the learning rate by factor.",
        (
            HyperParam("mode", "min", str,
                       "min: the loss should go down; max: the watched value should go up."),
            HyperParam("factor", 0.1, float,
                       "Factor the learning rate is multiplied by on a plateau, < 1.",
                       minimum=0.0),
            HyperParam("patience", 10, int,
                       "Number of units without improvement tolerated before reducing.",
                       minimum=0),
            HyperParam("threshold", 1e-4, float,
                       "How much better counts as an improvement (relative or absolute, see "
                       "threshold_mode).",
                       minimum=0.0),
            HyperParam("threshold_mode", "rel", str,
                       "rel: better than best × (1 − threshold); abs: better than best − "
                       "threshold."),
            HyperParam("cooldown", 0, int,
                       "Units to wait after a reduction before counting bad units again.",
                       minimum=0),
            HyperParam("min_lr", 0.0, float, "The learning rate never goes below this.",
                       minimum=0.0),
            HyperParam("eps", 1e-8, float,
                       "A reduction smaller than eps is skipped.",
                       minimum=0.0),
        ), "ReduceLROnPlateau"),
    ScheduleSpec(
        "warmup-cosine", "Warm-up then cosine (SequentialLR)",
        "Linear warm-up from start_factor × lr to lr over warmup_steps units (LinearLR), then "
        "cosine annealing to eta_min over T_max units (CosineAnnealingLR), as torch's "
        "SequentialLR chains them.",
        (
            HyperParam("warmup_steps", 5, int,
                       f"Length of the warm-up in {_UNITS} (the SequentialLR milestone).",
                       minimum=1),
            HyperParam("T_max", 10, int,
                       f"Length of the cosine decay after the warm-up, in {_UNITS}.",
                       minimum=1),
            HyperParam("start_factor", 1.0 / 3, float,
                       "Multiplier of the learning rate at the start of the warm-up, in "
                       "(0, 1].",
                       maximum=1.0),
            HyperParam("eta_min", 0.0, float, "The learning rate at the end of the cosine.",
                       minimum=0.0),
        )),
)}

_CHOICES = {"anneal_strategy": ("cos", "linear"),
            "mode": {"cyclic": ("triangular", "triangular2", "exp_range"),
                     "plateau": ("min", "max")},
            "threshold_mode": ("rel", "abs")}


def schedule_names() -> list[str]:
    """The schedule names in display order."""
    return list(SCHEDULES)


def get_schedule(name: str) -> ScheduleSpec:
    """The spec of schedule ``name``; a ConfigError listing the choices if unknown."""
    try:
        return SCHEDULES[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown schedule {name!r}; choose from: {', '.join(SCHEDULES)}") from None


def validate_schedule(name: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse and check the parameters of schedule ``name`` (strings, numbers); defaults fill
    the missing ones. Returns a plain dict in the spec's order."""
    spec = get_schedule(name)
    params = validate_specs(spec.params, raw or {}, f"{name} schedule")
    gamma = params.get("gamma")
    if gamma is not None and not gamma > 0 and name != "cyclic":
        raise ConfigError(f"{name} schedule gamma must be in (0, 1], got {format_number(gamma)}")
    for key, choices in _CHOICES.items():
        if key in params:
            allowed = choices[name] if isinstance(choices, dict) else choices
            if params[key] not in allowed:
                raise ConfigError(f"{name} schedule {key} must be one of {', '.join(allowed)}, "
                                  f"got {params[key]!r}")
    start_factor = params.get("start_factor")
    if start_factor is not None and not start_factor > 0:
        raise ConfigError(f"{name} schedule start_factor must be in (0, 1], "
                          f"got {format_number(start_factor)}")
    if name == "plateau" and not params["factor"] < 1:
        raise ConfigError(f"plateau schedule factor must be < 1, got "
                          f"{format_number(params['factor'])}")
    for key in ("max_lr", "base_lr"):
        if params.get(key) is not None and not params[key] > 0:
            raise ConfigError(f"{name} schedule {key} must be > 0, got "
                              f"{format_number(params[key])}")
    return params


def check_with_run(name: str, params: Mapping[str, Any], optimizer_hp: Mapping[str, Any],
                   units: int) -> None:
    """The checks that need the run: momentum cycling needs an optimizer with ``momentum`` or
    ``betas`` (torch raises otherwise), and a OneCycleLR as long as the run's ``units`` (its
    epochs, or its steps when stepped every step), since torch refuses to step past its end."""
    spec = get_schedule(name)
    if spec.cycles_momentum and params["cycle_momentum"] and not (
            "momentum" in optimizer_hp or "betas" in optimizer_hp):
        raise ConfigError(f"{name} schedule cycles the momentum, but this optimizer has no "
                          "momentum or betas; set cycle_momentum=false")
    total = params.get("total_steps") if name == "onecycle" else None
    if total is not None and total < units - 1:
        raise ConfigError(f"onecycle schedule total_steps {total} is shorter than the run "
                          f"({units} units); torch would refuse to step past it")


def parse_schedule_arg(text: str) -> tuple[str, dict[str, str]]:
    """Split the CLI form ``"step:step_size=2,gamma=0.1"`` (or just ``"cosine"``) into the
    name and its raw string parameters; values are checked later by ``validate_schedule``."""
    name, _, rest = str(text).partition(":")
    name = name.strip()
    if not name:
        raise ConfigError(f"a schedule must look like NAME or NAME:KEY=VALUE,..., got {text!r}")
    params: dict[str, str] = {}
    for item in rest.split(",") if rest.strip() else ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ConfigError(f"schedule parameters must look like KEY=VALUE, got {item.strip()!r} "
                              f"in {text!r}")
        if key in params:
            raise ConfigError(f"schedule parameter {key!r} is given twice in {text!r}")
        params[key] = value
    return name, params
