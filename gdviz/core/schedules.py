"""Learning-rate schedules with torch.optim.lr_scheduler's semantics, stepped once per epoch.

Every schedule is a closed form of the 0-based epoch number (epoch 0 uses the base learning
rate), matching torch's ``_get_closed_form_lr`` for StepLR, ExponentialLR and
CosineAnnealingLR. "inverse-time" is Keras' InverseTimeDecay, which torch lacks. Learning rates
are in the optimizer's units (parameter units per gradient unit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.optimizers import HyperParam
from gdviz.core.settings_parse import validate_specs


@dataclass(frozen=True)
class ScheduleSpec:
    """What the GUI and the CLI show about a schedule; ``params`` excludes the base lr."""

    name: str
    title: str
    description: str
    params: tuple[HyperParam, ...]


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
        )),
    ScheduleSpec(
        "exponential", "Exponential decay (ExponentialLR)",
        "Multiply the learning rate by gamma after every epoch: lr × gamma^epoch.",
        (HyperParam("gamma", 0.9, float, _GAMMA_HELP.format(when="after every epoch"),
                    maximum=1.0),)),
    ScheduleSpec(
        "cosine", "Cosine annealing (CosineAnnealingLR)",
        "Glide from lr down to eta_min along half a cosine wave over T_max epochs (torch's "
        "closed form; past T_max the wave rises again).",
        (
            HyperParam("T_max", 10, int,
                       "Number of epochs to go from the base learning rate down to eta_min "
                       "(half a cosine period).",
                       minimum=1),
            HyperParam("eta_min", 0.0, float,
                       "The smallest learning rate, reached after T_max epochs.",
                       minimum=0.0),
        )),
    ScheduleSpec(
        "inverse-time", "Inverse-time decay",
        "Shrink the learning rate as 1/t: lr / (1 + decay × epoch), the classic schedule "
        "for which SGD provably converges.",
        (HyperParam("decay", 0.5, float,
                    "How fast the learning rate shrinks: after 1/decay epochs it is half the "
                    "base value, after 3/decay epochs a quarter.",
                    minimum=0.0),)),
)}


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
    if gamma is not None and not gamma > 0:
        raise ConfigError(f"{name} schedule gamma must be in (0, 1], got {format_number(gamma)}")
    return params


def _constant(base_lr: float, epoch: int, p: Mapping[str, Any]) -> float:
    return base_lr


def _step(base_lr: float, epoch: int, p: Mapping[str, Any]) -> float:
    return base_lr * p["gamma"] ** (epoch // p["step_size"])


def _exponential(base_lr: float, epoch: int, p: Mapping[str, Any]) -> float:
    return base_lr * p["gamma"] ** epoch


def _cosine(base_lr: float, epoch: int, p: Mapping[str, Any]) -> float:
    eta_min = p["eta_min"]
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / p["T_max"])) / 2


def _inverse_time(base_lr: float, epoch: int, p: Mapping[str, Any]) -> float:
    return base_lr / (1 + p["decay"] * epoch)


_RULES: dict[str, Callable[[float, int, Mapping[str, Any]], float]] = {
    "constant": _constant, "step": _step, "exponential": _exponential, "cosine": _cosine,
    "inverse-time": _inverse_time,
}


def lr_at(name: str, base_lr: float, epoch: int, params: Mapping[str, Any]) -> float:
    """The learning rate for 0-based ``epoch`` (epoch 0 gets ``base_lr``).

    ``params`` come from ``validate_schedule`` and are not re-checked here.
    """
    return float(_RULES[name](base_lr, epoch, params))


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
