"""torch.optim's update rules as pure functions on float64 numpy arrays.

Names, hyperparameter names, defaults and update rules are those of torch 2.13
(``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``, ``NAdam``, ``RAdam``,
``Adamax``, ``Adadelta``, ``Rprop``, ``ASGD``, ``Adafactor``, ``LBFGS``; single-tensor code
path, ``foreach=False``, ``maximize=False``) plus Lion, which torch lacks. Each step evaluates
the same operations in the same order as torch's portable CPU kernels, so the results equal
torch's bit for bit when torch runs those kernels (``ATEN_CPU_CAPABILITY=default``) with its
default dtype float64 (its 0-d state tensors, such as NAdam's ``mu_product``, are then float64
too). On AVX2/AVX-512 CPUs torch fuses ``a + b*c`` into one fused multiply-add, which numpy
cannot do; there the two differ by rounding only (about 1e-16 relative per operation).

Shapes: ``params`` and ``grad`` are float64 arrays of one shape, usually ``(n_params,)``; every
state array has that shape too (L-BFGS's history: ``(history_len, n_params)``). ``lr`` is in
parameter units per gradient unit. The element-wise rules also take a stack of runs
``(n_runs, n_params)``; Adafactor (its step scales with the RMS of all of ``params``) and
L-BFGS (dot products over all of them) need one run's vector at a time.

Layout: ``specs`` (catalogue and validation), ``kernels`` (torch's operation order),
``first_order`` and ``adam_family`` (the rules), ``lbfgs`` (the closure-driven one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gdviz.core.newton import init_newton, newton_step
from gdviz.core.optimizers import adam_family as _adam
from gdviz.core.optimizers import first_order as _first
from gdviz.core.optimizers.lbfgs import Evaluate, init_lbfgs, lbfgs
from gdviz.core.optimizers.specs import (
    OPTIMIZERS,
    HyperParam,
    OptimizerSpec,
    get_optimizer,
    optimizer_names,
    validate_hyperparams,
)

__all__ = ["OPTIMIZERS", "Evaluate", "HyperParam", "OptimizerSpec", "closure_step",
           "get_optimizer", "init_state", "optimizer_names", "recorded_state", "step",
           "update_rule", "validate_hyperparams"]

# L-BFGS's curvature history: two (history_len, n_params) arrays that change every step.
# Recorded per step they would cost 16 × history_size × n_params bytes a step (100 pairs of
# 1000 parameters: 1.6 MB a step), so records keep its length (history_len) instead.
_NOT_RECORDED = {"lbfgs": ("old_dirs", "old_stps", "ro")}

_INIT: dict[str, Callable[[tuple, Mapping[str, Any], float], dict[str, Any]]] = {
    "sgd": _first.init_sgd, "adagrad": _first.init_adagrad, "rmsprop": _first.init_rmsprop,
    "adam": _adam.init_adam, "adamw": _adam.init_adam, "nadam": _adam.init_nadam,
    "radam": _adam.init_moments, "adamax": _adam.init_adamax,
    "adadelta": _first.init_adadelta, "rprop": _first.init_rprop, "asgd": _first.init_asgd,
    "adafactor": _adam.init_adafactor, "lion": _adam.init_lion, "lbfgs": init_lbfgs,
    "newton": lambda shape, hp, lr: init_newton(shape),
}

_STEPS: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "sgd": _first.sgd, "adagrad": _first.adagrad, "rmsprop": _first.rmsprop,
    "adam": _adam.adam, "adamw": _adam.adamw, "nadam": _adam.nadam, "radam": _adam.radam,
    "adamax": _adam.adamax, "adadelta": _first.adadelta, "rprop": _first.rprop,
    "asgd": _first.asgd, "adafactor": _adam.adafactor, "lion": _adam.lion,
}


def init_state(name: str, params: np.ndarray, hp: Mapping[str, Any],
               lr: float | None = None) -> dict[str, Any]:
    """The state before the first step, as torch creates it (arrays read-only, params' shape).

    SGD starts empty: torch creates ``momentum_buffer`` on the first step (as a copy of the
    gradient). Most others hold ``step`` (int, 0) and zero-filled averages (Adagrad's ``sum``
    starts at ``initial_accumulator_value``). Rprop's step sizes and ASGD's eta start at the
    first step's learning rate ``lr`` (default: torch's default lr for the optimizer).
    """
    spec = get_optimizer(name)
    return _INIT[name](np.shape(params), hp, spec.default_lr if lr is None else float(lr))


def recorded_state(name: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """What a step record keeps of ``state``: all of it, except L-BFGS's curvature pairs (the
    run carries them on; ``history_len`` says how many there are)."""
    drop = _NOT_RECORDED.get(name, ())
    return {key: value for key, value in state.items() if key not in drop}


def step(name: str, params: np.ndarray, grad: np.ndarray, state: Mapping[str, Any], lr: float,
         hp: Mapping[str, Any], hessian: np.ndarray | None = None
         ) -> tuple[np.ndarray, dict[str, Any]]:
    """One optimizer step: ``(new_params, new_state)``.

    params, grad: float64 arrays of one shape, (n_params,); grad is the loss gradient without
    weight decay. state: from ``init_state`` or the previous step. lr: this step's learning
    rate (a schedule may change it). hp: from ``validate_hyperparams`` (not re-checked here).

    Pure: the inputs are never modified; the returned params and state arrays are new and
    read-only, so they can be shared across threads without copies. Floating-point overflow of
    a diverging run gives inf/nan with numpy's usual warnings; a caller that expects divergence
    wraps its loop in ``np.errstate``. An optimizer that evaluates the loss itself (L-BFGS,
    ``spec.uses_closure``) is stepped with ``closure_step``. ``hessian`` (p, p): the exact
    Hessian of the loss ``grad`` belongs to, for an optimizer whose spec ``uses_hessian``
    (Newton).
    """
    if get_optimizer(name).uses_hessian:
        if hessian is None:
            raise ValueError(f"{name} needs the Hessian: step(..., hessian=H)")
        return newton_step(params, grad, hessian, state, lr, hp)
    if name not in _STEPS:
        raise ValueError(f"{name} evaluates the loss itself: step it with closure_step")
    return _STEPS[name](params, grad, state, lr, hp)


def update_rule(name: str) -> Callable[..., tuple[np.ndarray, dict[str, Any]]]:
    """The function ``step`` calls for ``name``, looked up once for a loop of many steps:
    ``rule(params, grad, state, lr, hp) -> (new_params, new_state)``. ValueError for an
    optimizer that needs a closure or the Hessian (step those with ``closure_step``/``step``)."""
    if name not in _STEPS:
        raise ValueError(f"{name} has no plain update rule: step it with step or closure_step")
    return _STEPS[name]


def closure_step(name: str, params: np.ndarray, loss: float, grad: np.ndarray,
                 state: Mapping[str, Any], lr: float, hp: Mapping[str, Any],
                 evaluate: Evaluate, hessian: np.ndarray | None = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
    """One ``step(closure)`` of an optimizer with ``uses_closure`` (L-BFGS): as ``step``, with
    ``loss``/``grad`` the closure's value at ``params`` and ``evaluate(params) -> (loss, grad)``
    the closure for further evaluations. The state's ``evals`` counts them (the first included).
    For an optimizer without a closure this is ``step`` (``evaluate`` unused)."""
    if name == "lbfgs":
        return lbfgs(params, loss, grad, state, lr, hp, evaluate)
    return step(name, params, grad, state, lr, hp, hessian)
