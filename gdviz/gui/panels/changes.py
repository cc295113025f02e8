"""Apply one panel edit to a RunConfig: the rules that keep a config coherent when the user
switches problem, optimizer or schedule. Pure functions (no widgets), so they are easy to test.

``apply_change(config, key, value)`` returns a new, validated RunConfig or raises the core's
ConfigError with a message for the user. Only the edited field changes (plus what must follow
from it), so an invalid value typed elsewhere never sneaks into the config.
"""

from __future__ import annotations

from typing import Any

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig


def _optional(value: Any) -> Any:
    """Empty text means "not set" (None) for optional fields."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def apply_change(config: RunConfig, key: tuple, value: Any) -> RunConfig:
    """A new RunConfig with the edit ``key = value`` applied (see panels.fields for keys)."""
    head = key[0]
    if head == "problem":
        return switch_problem(config, value)
    if head in ("settings", "hyperparams", "schedule_params"):
        mapping = dict(getattr(config, head))
        mapping[key[1]] = value
        changes: dict[str, Any] = {head: mapping}
        if head == "settings":
            changes["init"] = _keep_init(config, mapping)
            changes["batch_size"] = _fit_batch(config, config.problem, mapping,
                                               config.data_path)
        return config.with_changes(**changes)
    if head == "data_path":
        return config.with_changes(
            data_path=value or None, init=None,
            batch_size=_fit_batch(config, config.problem, config.settings, value or None))
    if head == "optimizer":
        if value == config.optimizer:
            return config
        return config.with_changes(optimizer=value, hyperparams={}, schedule_params=_cycling_fit(
            value, config.schedule, config.schedule_params))
    if head == "schedule":
        if value == config.schedule:
            return config
        return config.with_changes(schedule=value, schedule_params=_cycling_fit(
            config.optimizer, value, {}))
    if head == "full_batch":
        if value:
            return config.with_changes(batch_size=None)
        n = config.make_problem().n_samples
        return config.with_changes(batch_size=min(10, n))
    if head == "init":
        if len(key) == 1:  # the whole start point (picked with the mouse), or None: default
            return config.with_changes(init=None if value is None else tuple(value))
        start = [float(v) for v in config.start_point()]
        start[key[1]] = value
        return config.with_changes(init=tuple(start))
    if head in ("max_epochs", "max_steps", "tol"):
        return config.with_changes(**{head: _optional(value)})
    if head == "torch":       # a pasted PyTorch line: its optimizer or its schedule
        from gdviz.core.torch_code import settings_from_torch

        return config.with_changes(**settings_from_torch([value]))
    if head == "lr_momentum":   # both at once (a point picked on the phase diagram)
        lr, momentum = value
        return config.with_changes(lr=lr, hyperparams={**config.hyperparams,
                                                       "momentum": momentum})
    if head in ("lr", "batch_size", "order", "seed", "schedule_every"):
        return config.with_changes(**{head: value})
    raise ConfigError(f"unknown setting {head!r}")


def _cycling_fit(optimizer: str, schedule: str, params: Any) -> dict[str, Any]:
    """``params`` with cycle_momentum off when ``schedule`` would cycle a momentum that
    ``optimizer`` does not have (torch refuses that pair; in the window the switch is made
    first and the fields come after, so it turns the option off rather than refuse)."""
    from gdviz.core.optimizers import get_optimizer
    from gdviz.core.schedules import get_schedule

    params = dict(params)
    try:
        names = {hp.name for hp in get_optimizer(optimizer).hyperparams}
        cycles = get_schedule(schedule).cycles_momentum
    except ConfigError:
        return params                          # an unknown name: RunConfig says why
    if cycles and not names & {"momentum", "betas"}:
        params["cycle_momentum"] = False
    return params


def switch_problem(config: RunConfig, name: str) -> RunConfig:
    """Another problem with its default settings and start point; optimizer, lr, schedule,
    order and seed are kept, the batch size is clipped to the new sample count.

    Limits: a problem with a preset gets the preset's limits (its lesson ends where the lesson
    ends); otherwise the step budget is kept *in steps*, because "1 epoch" of the wavy lesson
    (100 steps) would be a single step on a problem with one sample."""
    if name == config.problem:
        return config
    batch = _fit_batch(config, name, {}, None)
    limits = _preset_limits(name)
    if limits is None:
        limits = {"max_epochs": None, "max_steps": config.step_limit(), "tol": config.tol}
    return config.with_changes(problem=name, settings={}, data_path=None, init=None,
                               batch_size=batch, **limits)


def _preset_limits(name: str) -> dict[str, Any] | None:
    from gdviz.core.presets import list_presets

    for preset in list_presets():
        if preset.group != "comparison" and preset.config.problem == name:
            c = preset.config
            return {"max_epochs": c.max_epochs, "max_steps": c.max_steps, "tol": c.tol}
    return None


def _fit_batch(config: RunConfig, problem: str, settings, data_path) -> int | None:
    """The current batch size, clipped to the sample count of the (new) problem data."""
    if config.batch_size is None:
        return None
    from gdviz.core.problems.registry import make_problem

    try:
        n = make_problem(problem, settings, data_path).n_samples
    except ConfigError:
        return config.batch_size  # the settings are invalid: let RunConfig say why
    return max(1, min(config.batch_size, n))


def _keep_init(config: RunConfig, settings) -> tuple[float, ...] | None:
    """Keep a custom start point unless the new settings change the parameter count."""
    if config.init is None:
        return None
    from gdviz.core.problems.registry import make_problem

    try:
        p = make_problem(config.problem, settings, config.data_path).n_params
    except ConfigError:
        return config.init
    return config.init if p == len(config.init) else None
