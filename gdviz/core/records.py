"""Immutable records that flow through gdviz: the run configuration and the step records.

``RunConfig`` is validated on construction, so the GUI, the CLI and session files share one
set of rules and one set of messages. ``StepRecord`` holds read-only arrays and is safe to send
across threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.problems.base import Problem
from gdviz.core.problems.registry import make_problem, validate_problem_settings
from gdviz.core.settings_parse import parse_float, parse_int

ORDERS = ("shuffle", "sequential", "replacement")
STATUSES = ("running", "converged", "diverged", "finished")
DEFAULT_MAX_STEPS = 10_000


_MAPPING_FIELDS = ("settings", "hyperparams", "schedule_params")


def _mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run. Same config + same seed = same trajectory, bit for bit.

    batch_size: samples per step, 1..n, or None for the full batch.
    max_epochs / max_steps: stop limits; when both are None the run stops after
        ``DEFAULT_MAX_STEPS`` steps. When both are given, whichever comes first.
    init: start point (one value per parameter), or None for the problem's default.
    tol: stop when |change of the full loss| < tol (None: never).
    diverge_threshold: a full loss above this (or any non-finite value) ends the run `diverged`.
    """

    problem: str = "wavy"
    settings: Mapping[str, Any] = field(default_factory=dict)
    data_path: str | None = None
    optimizer: str = "sgd"
    lr: float = 0.01
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: Mapping[str, Any] = field(default_factory=dict)
    schedule_every: str = "epoch"
    batch_size: int | None = 1
    order: str = "shuffle"
    max_epochs: int | None = None
    max_steps: int | None = None
    init: tuple[float, ...] | None = None
    seed: int = 0
    tol: float | None = None
    diverge_threshold: float = 1e10

    def __post_init__(self) -> None:
        from gdviz.core.optimizers import validate_hyperparams
        from gdviz.core.schedules import validate_schedule

        set_ = object.__setattr__
        set_(self, "settings", _mapping(validate_problem_settings(self.problem, self.settings)))
        problem = self.make_problem()

        lr = parse_float(self.lr, "learning rate")
        if not math.isfinite(lr) or lr <= 0:
            raise ConfigError(f"learning rate must be a finite number > 0, got {format_number(lr)}")
        set_(self, "lr", lr)
        set_(self, "hyperparams",
             _mapping(validate_hyperparams(self.optimizer, self.hyperparams)))
        from gdviz.core.optimizers import get_optimizer

        if get_optimizer(self.optimizer).uses_hessian:
            if not problem.has_hessian:
                raise ConfigError(f"optimizer {self.optimizer!r} needs the exact Hessian: "
                                  f"{problem.no_hessian_reason}")
            with np.errstate(all="ignore"):  # a formula's Hessian is derived (once) here, so
                problem.hessian(problem.default_init)  # its errors are the configuration's
        set_(self, "schedule_params",
             _mapping(validate_schedule(self.schedule, self.schedule_params)))

        n = problem.n_samples
        if self.batch_size is not None:
            b = parse_int(self.batch_size, "batch size")
            if not 1 <= b <= n:
                raise ConfigError(
                    f"batch size must be between 1 and {n} (the number of samples), "
                    f"or full, got {b}")
            set_(self, "batch_size", b)
        if self.order not in ORDERS:
            raise ConfigError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        for name, what in (("max_epochs", "epochs"), ("max_steps", "steps")):
            value = getattr(self, name)
            if value is not None:
                v = parse_int(value, f"number of {what}")
                if v < 1:
                    raise ConfigError(f"number of {what} must be at least 1, got {v}")
                set_(self, name, v)
        if self.init is not None:
            init = tuple(parse_float(v, "start point") for v in self.init)
            if len(init) != problem.n_params:
                names = ", ".join(problem.param_names)
                raise ConfigError(f"start point needs {problem.n_params} values ({names}), "
                                  f"got {len(init)}")
            if not all(math.isfinite(v) for v in init):
                raise ConfigError("start point values must be finite numbers")
            set_(self, "init", init)
        seed = parse_int(self.seed, "seed")
        if seed < 0:
            raise ConfigError(f"seed must be a whole number >= 0, got {seed}")
        set_(self, "seed", seed)
        if self.tol is not None:
            tol = parse_float(self.tol, "convergence tolerance")
            if not math.isfinite(tol) or tol < 0:
                raise ConfigError(f"convergence tolerance must be a finite number >= 0, "
                                  f"got {format_number(tol)}")
            set_(self, "tol", tol)
        thr = parse_float(self.diverge_threshold, "divergence threshold")
        if not thr > 0:
            raise ConfigError(f"divergence threshold must be > 0, got {format_number(thr)}")
        set_(self, "diverge_threshold", thr)
        # derived numbers, computed once here (not fields: equality, hashing, replace() and
        # to_dict() see only the settings; a replace()d config computes its own)
        steps_per_epoch = -(-n // (n if self.batch_size is None else self.batch_size))
        limits = [limit for limit in (
            self.max_steps,
            None if self.max_epochs is None else self.max_epochs * steps_per_epoch)
            if limit is not None]
        set_(self, "_steps_per_epoch", steps_per_epoch)
        set_(self, "_step_limit", min(limits) if limits else DEFAULT_MAX_STEPS)
        from gdviz.core.schedules import SCHEDULE_EVERY, check_with_run

        if self.schedule_every not in SCHEDULE_EVERY:
            raise ConfigError(f"the schedule is stepped every epoch or step, got "
                              f"{self.schedule_every!r}")
        check_with_run(self.schedule, self.schedule_params, self.hyperparams,
                       self.schedule_units())

    # -- pickling (the step server's pipe) ----------------------------------------------------
    # MappingProxyType cannot be pickled; the state holds plain dicts instead, and unpickling
    # wraps them again without validating anew (the sender's config was valid; a data file
    # that vanished since is reported when the run starts, as a sentence for the user).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in _MAPPING_FIELDS:
            state[name] = dict(state[name])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in _MAPPING_FIELDS:
            state[name] = MappingProxyType(state[name])
        self.__dict__.update(state)

    # -- derived ------------------------------------------------------------------------------
    def make_problem(self) -> Problem:
        """The (cached) problem instance this configuration runs on."""
        return make_problem(self.problem, self.settings, self.data_path)

    def start_point(self) -> np.ndarray:
        """(p,) float64 start parameters: ``init`` or the problem's default for this seed."""
        if self.init is not None:
            return np.array(self.init, dtype=np.float64)
        return self.make_problem().start_for_seed(self.seed)

    def effective_batch_size(self) -> int:
        return self.make_problem().n_samples if self.batch_size is None else self.batch_size

    def steps_per_epoch(self) -> int:
        """Steps in one pass over the samples (computed once, on construction)."""
        return self._steps_per_epoch

    def step_limit(self) -> int:
        """The largest number of steps this run may take (computed once, on construction)."""
        return self._step_limit

    def schedule_units(self) -> int:
        """The run's length in schedule units: its step limit, or (stepped every epoch) the
        epochs that limit spans."""
        if self.schedule_every == "step":
            return self._step_limit
        return -(-self._step_limit // self._steps_per_epoch)

    def with_changes(self, **changes: Any) -> RunConfig:
        """A new, re-validated config with some fields replaced."""
        return replace(self, **changes)

    # -- (de)serialisation for presets, sessions and QSettings --------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("settings", "hyperparams", "schedule_params"):
            out[key] = {k: list(v) if isinstance(v, tuple) else v for k, v in out[key].items()}
        if out["init"] is not None:
            out["init"] = list(out["init"])
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build from a dict (presets, sessions); unknown keys are refused with a message."""
        if not isinstance(data, Mapping):
            raise ConfigError("a run configuration must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown run setting(s): {', '.join(unknown)}")
        kwargs = dict(data)
        if kwargs.get("init") is not None:
            kwargs["init"] = tuple(kwargs["init"])
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One optimizer step (or, for step 0, the start point). All arrays are read-only.

    step:          0 for the start point, then 1, 2, ...
    epoch:         0 for the start point; the 1-based epoch a step belongs to
    lr:            learning rate used for this step
    batch:         (k,) int sample indices of the batch (empty for step 0)
    params_before: (p,) parameters before the step
    params:        (p,) parameters after the step
    grad:          (p,) the batch gradient the step used (step 0: the full gradient)
    sample_grads:  (k, p) per-sample gradients of the batch (noise included)
    state:         the optimizer's state after the step (e.g. momentum_buffer, exp_avg, ...)
    batch_loss:    loss on the batch at params_before (step 0: the full loss)
    loss:          full loss at params (after the step)
    status:        "running", or for the last record "converged" / "diverged" / "finished"
    message:       why the run ended, in words (empty while running)
    """

    step: int
    epoch: int
    lr: float
    batch: np.ndarray
    params_before: np.ndarray
    params: np.ndarray
    grad: np.ndarray
    sample_grads: np.ndarray
    state: Mapping[str, Any]
    batch_loss: float
    loss: float
    status: str = "running"
    message: str = ""

    @property
    def update(self) -> np.ndarray:
        """params − params_before, (p,)."""
        return self.params - self.params_before

    @property
    def grad_norm(self) -> float:
        return float(np.sqrt(np.dot(self.grad, self.grad)))

    @property
    def finished(self) -> bool:
        return self.status != "running"
