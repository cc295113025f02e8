"""torch.optim's update rules as pure functions on float64 numpy arrays.

Names, hyperparameter names, defaults and update rules are those of torch 2.x
(``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``; single-tensor code path,
``foreach=False``, ``maximize=False``). Each step evaluates the same operations in the same
order as torch's portable CPU kernels, so the results equal torch's bit for bit when torch runs
those kernels (``ATEN_CPU_CAPABILITY=default``). On AVX2/AVX-512 CPUs torch fuses ``a + b*c``
into one fused multiply-add, which numpy cannot do; there the two differ by rounding only
(about 1e-16 relative per operation).

Shapes: ``params`` and ``grad`` are float64 arrays of one shape, usually ``(n_params,)``; every
state array has that shape too. ``lr`` is in parameter units per gradient unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.newton import init_newton, newton_step
from gdviz.core.settings_parse import validate_specs


@dataclass(frozen=True)
class HyperParam:
    """One setting of an optimizer or schedule, as ``settings_parse.validate_specs`` expects.

    kind: ``float``, ``int``, ``bool`` or ``"pair"`` (two floats, typed ``"0.9,0.999"``).
    minimum / maximum: inclusive bounds checked by validate_specs (None: unbounded); open
        bounds (such as betas < 1) are checked by the owner's cross-field rules.
    help: a tooltip that teaches what the setting does.
    """

    name: str
    default: Any
    kind: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class OptimizerSpec:
    """What the GUI and the CLI show about an optimizer.

    default_lr: torch's default learning rate for it.
    hyperparams: everything except lr, with torch's names, order and defaults.
    state_names: every array the state can hold (which ones exist depends on the options).
    uses_hessian: the step needs the exact Hessian of the batch loss (``step(hessian=...)``).
    """

    name: str
    title: str
    description: str
    default_lr: float
    hyperparams: tuple[HyperParam, ...]
    state_names: tuple[str, ...]
    uses_hessian: bool = False


def _weight_decay(default: float = 0.0) -> HyperParam:
    return HyperParam(
        "weight_decay", default, float,
        "L2 penalty: adds weight_decay × params to the gradient, pulling every parameter "
        "towards 0. Larger values mean smaller weights and a minimum that moves towards 0.",
        minimum=0.0)


def _eps(default: float) -> HyperParam:
    return HyperParam(
        "eps", default, float,
        "Added to the denominator so the step never divides by zero. Larger values make "
        "steps with tiny gradients smaller and the method behave more like plain SGD.",
        minimum=0.0)


_BETAS = HyperParam(
    "betas", (0.9, 0.999), "pair",
    "Decay rates of the running averages, each in [0, 1): beta1 for the gradient (momentum), "
    "beta2 for the squared gradient (per-parameter step scale). Closer to 1 = longer memory.",
    minimum=0.0)
_AMSGRAD = HyperParam(
    "amsgrad", False, bool,
    "Divide by the largest squared-gradient average seen so far instead of the current one, "
    "so a parameter's step size can never grow again after a burst of large gradients.")

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in (
    OptimizerSpec(
        "sgd", "SGD",
        "Stochastic gradient descent: step against the gradient, lr × gradient. Momentum "
        "keeps a running sum of past steps, so the path speeds up along steady slopes and "
        "damps zig-zags across narrow valleys.",
        1e-3,
        (
            HyperParam("momentum", 0.0, float,
                       "Fraction of the previous step carried into the next one (0 = none, "
                       "0.9 is common). Speeds up along consistent slopes; too high overshoots.",
                       minimum=0.0),
            HyperParam("dampening", 0.0, float,
                       "Scales down the new gradient added to the momentum buffer: buffer = "
                       "momentum × buffer + (1 − dampening) × gradient. 0 = full gradient.",
                       minimum=0.0, maximum=1.0),
            _weight_decay(),
            HyperParam("nesterov", False, bool,
                       "Nesterov momentum: step with gradient + momentum × buffer, a 'look "
                       "ahead' that reacts sooner when the slope turns. Needs momentum > 0 and "
                       "dampening = 0."),
        ),
        ("momentum_buffer",)),
    OptimizerSpec(
        "adagrad", "Adagrad",
        "Adaptive gradient: each parameter's step is divided by the root of the sum of all "
        "its past squared gradients, so steep directions get small steps and the steps "
        "shrink over time.",
        1e-2,
        (
            HyperParam("lr_decay", 0.0, float,
                       "Learning-rate decay per step: step k uses lr / (1 + (k − 1) × "
                       "lr_decay). 0 = no decay beyond Adagrad's own.",
                       minimum=0.0),
            _weight_decay(),
            HyperParam("initial_accumulator_value", 0.0, float,
                       "Starting value of the sum of squared gradients. Larger values make "
                       "the first steps smaller (as if large gradients had already been seen).",
                       minimum=0.0),
            _eps(1e-10),
        ),
        ("sum",)),
    OptimizerSpec(
        "rmsprop", "RMSprop",
        "Divides each parameter's step by the root of a running average of its squared "
        "gradients. Unlike Adagrad the average forgets old gradients, so steps do not "
        "shrink for ever.",
        1e-2,
        (
            HyperParam("alpha", 0.99, float,
                       "Smoothing of the squared-gradient average: avg = alpha × avg + (1 − "
                       "alpha) × gradient². Closer to 1 = longer memory, steadier steps.",
                       minimum=0.0, maximum=1.0),
            _eps(1e-8),
            _weight_decay(),
            HyperParam("momentum", 0.0, float,
                       "Fraction of the previous (scaled) step carried into the next one. "
                       "0 = none.",
                       minimum=0.0),
            HyperParam("centered", False, bool,
                       "Divide by the gradient's running variance (average of squares minus "
                       "square of the average) instead of the raw average of squares."),
        ),
        ("square_avg", "momentum_buffer", "grad_avg")),
    OptimizerSpec(
        "adam", "Adam",
        "Momentum (a running average of gradients) divided by the root of a running "
        "average of squared gradients, both bias-corrected. Each parameter gets its own "
        "step size; the first step has size lr in every coordinate.",
        1e-3,
        (_BETAS, _eps(1e-8), _weight_decay(), _AMSGRAD),
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    OptimizerSpec(
        "adamw", "AdamW",
        "Adam with decoupled weight decay: parameters shrink by the factor (1 − lr × "
        "weight_decay) each step, apart from the adaptive step, instead of having the "
        "penalty added to the gradient.",
        1e-3,
        (
            _BETAS, _eps(1e-8),
            HyperParam("weight_decay", 1e-2, float,
                       "Decoupled decay: each step multiplies the parameters by (1 − lr × "
                       "weight_decay) before the Adam step, pulling them towards 0 at the "
                       "same rate whatever the gradient's scale.",
                       minimum=0.0),
            _AMSGRAD,
        ),
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    OptimizerSpec(
        "newton", "Newton (damped)",
        "Damped Newton's method (not in torch.optim): solves (H + μI)·d = gradient with the "
        "exact Hessian H of the batch loss and steps lr × d. The Levenberg–Marquardt shift "
        "μ = max(0, damping − λmin) keeps every curvature at or above damping, so it never "
        "divides by a non-positive one. On a quadratic, lr 1 with damping 0 lands on the "
        "minimum in one step.",
        1.0,
        (
            HyperParam("damping", 0.0, float,
                       "The smallest curvature Newton may divide by: the Hessian is shifted "
                       "by μ = max(0, damping − λmin). 0 = pure Newton where the Hessian is "
                       "positive definite; larger values take shorter, more gradient-like "
                       "steps and step downhill along negative curvature (at a saddle).",
                       minimum=0.0),
        ),
        ("shift",), uses_hessian=True),
)}


def optimizer_names() -> list[str]:
    """The optimizer names in display order."""
    return list(OPTIMIZERS)


def get_optimizer(name: str) -> OptimizerSpec:
    """The spec of optimizer ``name``; a ConfigError listing the choices if unknown."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}") from None


def validate_hyperparams(name: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse and check hyperparameters for optimizer ``name``; defaults fill the missing ones.

    ``raw`` values may be strings (``"0.9"``, ``"true"``, ``"0.9,0.999"``), numbers or bools.
    Returns a plain dict in the spec's order: floats, bools and, for betas, a tuple of two floats.
    Torch's constructor rules apply, with messages meant for a user.
    """
    spec = get_optimizer(name)
    raw = raw or {}
    if "lr" in raw:
        raise ConfigError("set the learning rate with lr (--lr on the command line), "
                          "not as a hyperparameter")
    hp = validate_specs(spec.hyperparams, raw, name)
    if "betas" in hp:
        for beta in hp["betas"]:
            if not 0.0 <= beta < 1.0:
                raise ConfigError(f"{name} betas must each be in [0, 1), "
                                  f"got {format_number(beta)}")
    if hp.get("nesterov") and (hp["momentum"] <= 0 or hp["dampening"] != 0):
        raise ConfigError("nesterov momentum requires a momentum > 0 and dampening = 0, got "
                          f"momentum {format_number(hp['momentum'])} and dampening "
                          f"{format_number(hp['dampening'])}")
    return hp


# -- state ------------------------------------------------------------------------------------

def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def init_state(name: str, params: np.ndarray, hp: Mapping[str, Any]) -> dict[str, Any]:
    """The state before the first step, as torch creates it (arrays read-only, params' shape).

    SGD starts empty: torch creates ``momentum_buffer`` on the first step (as a copy of the
    gradient). The others hold ``step`` (int, 0) and zero-filled averages (Adagrad's ``sum``
    starts at ``initial_accumulator_value``).
    """
    get_optimizer(name)
    shape = np.shape(params)
    if name == "sgd":
        return {}
    if name == "newton":
        return init_newton(shape)
    if name == "adagrad":
        return {"step": 0,
                "sum": _frozen(np.full(shape, float(hp["initial_accumulator_value"])))}
    if name == "rmsprop":
        state: dict[str, Any] = {"step": 0, "square_avg": _frozen(np.zeros(shape))}
        if hp["momentum"] > 0:
            state["momentum_buffer"] = _frozen(np.zeros(shape))
        if hp["centered"]:
            state["grad_avg"] = _frozen(np.zeros(shape))
        return state
    state = {"step": 0, "exp_avg": _frozen(np.zeros(shape)),
             "exp_avg_sq": _frozen(np.zeros(shape))}  # adam, adamw
    if hp["amsgrad"]:
        state["max_exp_avg_sq"] = _frozen(np.zeros(shape))
    return state


# -- update rules -----------------------------------------------------------------------------
# Each line mirrors one torch call; the comments name it. torch's scalar kernels compute
# add(x, alpha=a) as self + a*x, addcmul(x, y, value=v) as self + (v*x)*y and
# addcdiv(x, y, value=v) as self + (v*x)/y, and the grouping below keeps that order.

def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch.lerp with a scalar weight, CPU formula: two forms for accuracy near each end."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def _sgd(params, grad, state, lr, hp):
    momentum = hp["momentum"]
    weight_decay = hp["weight_decay"]
    if weight_decay != 0:
        grad = grad + weight_decay * params                  # grad.add(param, alpha=wd)
    new_state = {}
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = grad.copy()                                # torch.clone(grad)
        else:
            buf = buf * momentum + (1 - hp["dampening"]) * grad  # mul_(m).add_(g, alpha=1-d)
        new_state["momentum_buffer"] = _frozen(buf)
        grad = grad + momentum * buf if hp["nesterov"] else buf
    return _frozen(params + -lr * grad), new_state           # param.add_(grad, alpha=-lr)


def _adagrad(params, grad, state, lr, hp):
    step = state["step"] + 1
    weight_decay = hp["weight_decay"]
    if weight_decay != 0:
        grad = grad + weight_decay * params
    clr = lr / (1 + (step - 1) * hp["lr_decay"])
    total = state["sum"] + grad * grad                       # addcmul_(g, g, value=1)
    std = np.sqrt(total) + hp["eps"]
    new_params = params + (-clr * grad) / std                # addcdiv_(g, std, value=-clr)
    return _frozen(new_params), {"step": step, "sum": _frozen(total)}


def _rmsprop(params, grad, state, lr, hp):
    step = state["step"] + 1
    alpha = hp["alpha"]
    momentum = hp["momentum"]
    weight_decay = hp["weight_decay"]
    if weight_decay != 0:
        grad = grad + weight_decay * params
    square_avg = state["square_avg"] * alpha + ((1 - alpha) * grad) * grad
    new_state: dict[str, Any] = {"step": step, "square_avg": _frozen(square_avg)}
    if hp["centered"]:
        grad_avg = _lerp(state["grad_avg"], grad, 1 - alpha)
        new_state["grad_avg"] = _frozen(grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)     # addcmul(ga, ga, value=-1)
    else:
        avg = np.sqrt(square_avg)
    avg = avg + hp["eps"]
    if momentum > 0:
        buf = state["momentum_buffer"] * momentum + grad / avg  # mul_(m).addcdiv_(g, avg)
        new_state["momentum_buffer"] = _frozen(buf)
        new_params = params + -lr * buf
    else:
        new_params = params + (-lr * grad) / avg
    return _frozen(new_params), new_state


def _adam_core(params, grad, state, lr, hp, decoupled):
    step = state["step"] + 1
    beta1, beta2 = hp["betas"]
    weight_decay = hp["weight_decay"]
    if weight_decay != 0:
        if decoupled:
            params = params * (1 - lr * weight_decay)        # param.mul_(1 - lr*wd)
        else:
            grad = grad + weight_decay * params
    exp_avg = _lerp(state["exp_avg"], grad, 1 - beta1)
    exp_avg_sq = state["exp_avg_sq"] * beta2 + ((1 - beta2) * grad) * grad
    new_state: dict[str, Any] = {"step": step, "exp_avg": _frozen(exp_avg),
                                 "exp_avg_sq": _frozen(exp_avg_sq)}
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5            # torch uses ** 0.5, not sqrt
    if hp["amsgrad"]:
        max_sq = np.maximum(state["max_exp_avg_sq"], exp_avg_sq)
        new_state["max_exp_avg_sq"] = _frozen(max_sq)
        denom = np.sqrt(max_sq) / bias_correction2_sqrt + hp["eps"]
    else:
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + hp["eps"]
    new_params = params + (-step_size * exp_avg) / denom     # addcdiv_(m, denom, -step_size)
    return _frozen(new_params), new_state


def _adam(params, grad, state, lr, hp):
    return _adam_core(params, grad, state, lr, hp, False)


def _adamw(params, grad, state, lr, hp):
    return _adam_core(params, grad, state, lr, hp, True)


_STEPS: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "sgd": _sgd, "adagrad": _adagrad, "rmsprop": _rmsprop, "adam": _adam, "adamw": _adamw,
}


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
    wraps its loop in ``np.errstate``. ``hessian`` (p, p): the exact Hessian of the loss
    ``grad`` belongs to, for an optimizer whose spec ``uses_hessian`` (Newton).
    """
    if OPTIMIZERS[name].uses_hessian:
        if hessian is None:
            raise ValueError(f"{name} needs the Hessian: step(..., hessian=H)")
        return newton_step(params, grad, hessian, state, lr, hp)
    return _STEPS[name](params, grad, state, lr, hp)
