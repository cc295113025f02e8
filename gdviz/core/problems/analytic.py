"""The classic 2-D test functions as Problems (family ``"analytic"``), registered on import.

Each function is one :class:`AnalyticProblem` built from a
:class:`~gdviz.core.problems.analytic_functions.FunctionDef`. There is no data: ``data_x`` has
shape (1, 0), ``data_y`` is None and the single "sample" is the function itself, so with the
``mean`` reduction the loss and gradient are exactly ``f`` and ``∇f``.

Shapes (p = 2, parameters ``("x", "y")``):
    params  (..., 2)  ->  losses (..., k)  and  grads (..., k, 2)
where k is the number of selected samples (1 for the full batch; an index array that repeats
sample 0 gives k copies of the same value).

The kernels are deterministic. ``grad_noise`` (σ) is only stored on the problem; the runner
adds the Gaussian noise. Overflow far outside the view (a diverging run) yields inf/nan
without floating-point warnings, so the runner can detect and report the divergence itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.problems.analytic_functions import FUNCTIONS, FunctionDef
from gdviz.core.problems.base import Problem, ProblemSpec, SettingSpec, read_only
from gdviz.core.problems.registry import register
from gdviz.core.settings_parse import validate_specs

GRAD_NOISE = SettingSpec(
    "grad_noise", 0.0, float,
    "σ of Gaussian noise added to every gradient: makes SGD-like noise visible on a "
    "noiseless function",
    minimum=0.0,
)


class AnalyticProblem(Problem):
    """A 2-parameter test function f(x, y) with its hand-derived gradient.

    ``settings`` must hold the function's constants (if any) and ``grad_noise``; they are
    validated here too, so direct construction is as safe as going through the registry.
    """

    param_names = ("x", "y")
    reduction = "mean"
    # f(x, y) and its gradient are elementwise in the parameters (no sum, no matmul): K
    # members' points in one call round as K separate calls (tests/core/test_ensemble.py)
    elementwise_kernels = True

    def __init__(self, fdef: FunctionDef, settings: Mapping[str, Any]) -> None:
        super().__init__()
        checked = validate_specs(settings_for(fdef), settings, f"problem {fdef.name!r}")
        self.function = fdef
        self.name = fdef.name
        self.title = fdef.title
        self.description = fdef.description
        self.settings = MappingProxyType(checked)
        self.grad_noise = float(checked["grad_noise"])
        self.default_init = read_only(fdef.start)
        self.view_range = read_only(fdef.view(self.settings))
        self.minima = tuple(fdef.minima(self.settings))

    @staticmethod
    def _split(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of params (..., 2), each at least 1-D: numpy computes a float64 scalar by
        other routines than an array (exp, sin, pow: its SIMD loops against libm), 1 ulp
        apart, so a single run's point goes through the array loops as an ensemble's do."""
        if params.ndim == 0 or params.shape[-1] != 2:
            raise ValueError(f"params must have shape (..., 2), got {params.shape}")
        if params.ndim == 1:
            params = params[None]
        return params[..., 0], params[..., 1]

    @staticmethod
    def _shaped(values: np.ndarray, params: np.ndarray) -> np.ndarray:
        """``values`` computed from ``_split(params)``, back in the shape params (..., 2)
        asks for (one point: the leading axis of length 1 goes)."""
        return values[0] if params.ndim == 1 else values

    def _sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., 2), x (..., k, 0) -> losses (..., k): f(params) repeated for each
        sample (x is (K, k, 0) for K ensemble members' batches)."""
        px, py = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            f = _like(np.asarray(self.function.loss(px, py, self.settings),
                                 dtype=np.float64), px)
        return np.repeat(self._shaped(f, params)[..., None], x.shape[-2], axis=-1)

    def _sample_grads(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., 2), x (..., k, 0) -> grads (..., k, 2): ∇f(params) repeated per
        sample."""
        px, py = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = self.function.grad(px, py, self.settings)
            g = np.stack((_like(gx, px), _like(gy, px)), axis=-1).astype(np.float64,
                                                                         copy=False)
        g = self._shaped(g, params)
        return np.repeat(g[..., None, :], x.shape[-2], axis=-2)

    def constant_hessian(self) -> np.ndarray | None:
        """The Hessian (2, 2) of a quadratic test function (``FunctionDef.quadratic``), else
        None."""
        if not self.function.quadratic:
            return None
        return read_only(self.hessian(np.zeros(2)))

    def _hessian_sum(self, params: np.ndarray, x: np.ndarray,
                     y: np.ndarray | None) -> np.ndarray:
        """params (..., 2), x (k, 0) -> (..., 2, 2): k times the Hessian of f at params."""
        px, py = self._split(params)
        with np.errstate(over="ignore", invalid="ignore"):
            hxx, hxy, hyy = (_like(h, px) for h in self.function.hess(px, py, self.settings))
            h = np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)],
                         axis=-2).astype(np.float64, copy=False)
            return self._shaped(h * x.shape[0], params)


def _like(values, px: np.ndarray) -> np.ndarray:
    """``values`` in the shape of ``px`` (a constant, such as a quadratic's curvature, is
    broadcast; ``np.broadcast_to`` costs ~5 µs, so only then)."""
    values = np.asarray(values)
    return values if values.shape == px.shape else np.broadcast_to(values, px.shape)


def settings_for(fdef: FunctionDef) -> tuple[SettingSpec, ...]:
    """The settings of one function: its own constants, then ``grad_noise``."""
    return (*fdef.constants, GRAD_NOISE)


def _factory(fdef: FunctionDef):
    def factory(settings: Mapping[str, Any], data_path: str | None) -> Problem:
        if data_path is not None:
            raise ConfigError(f"problem {fdef.name!r} does not take a data file")
        return AnalyticProblem(fdef, settings)

    factory.__name__ = f"make_{fdef.name.replace('-', '_')}"
    return factory


SPECS: dict[str, ProblemSpec] = {}

for _fdef in FUNCTIONS:
    SPECS[_fdef.name] = register(ProblemSpec(
        name=_fdef.name,
        title=_fdef.title,
        family="analytic",
        description=_fdef.description,
        settings=settings_for(_fdef),
        factory=_factory(_fdef),
        accepts_csv=False,
        param_names=AnalyticProblem.param_names,
    ))
del _fdef
