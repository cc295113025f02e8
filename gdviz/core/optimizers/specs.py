"""The optimizer catalogue: names, torch's hyperparameters and defaults, help texts, and the
checks torch's constructors make (with messages meant for a user).

Every optimizer but ``lion`` is one of ``torch.optim``'s (torch 2.13); ``torch_class`` names it.
Lion (Chen et al. 2023) is not in torch.optim; its spec says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gdviz.core.errors import ConfigError, format_number
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
    state_names: every entry the state can hold besides ``step`` (which ones exist depends on
        the options).
    torch_class: the class in torch.optim (``"AdamW"``), or None when torch has none.
    uses_closure: True when one step re-evaluates the loss and gradient itself (L-BFGS: torch's
        ``step(closure)``); the runner then calls ``closure_step`` instead of ``step``.
    uses_hessian: the step needs the exact Hessian of the batch loss (``step(hessian=...)``).
    """

    name: str
    title: str
    description: str
    default_lr: float
    hyperparams: tuple[HyperParam, ...]
    state_names: tuple[str, ...]
    torch_class: str | None = None
    uses_closure: bool = False
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

_DECOUPLED = HyperParam(
    "decoupled_weight_decay", False, bool,
    "Apply weight decay AdamW's way, multiplying the parameters by (1 − lr × weight_decay) "
    "before the step, instead of adding weight_decay × params to the gradient.")
LINE_SEARCHES = ("none", "strong_wolfe")

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
        ("momentum_buffer",), "SGD"),
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
        ("sum",), "Adagrad"),
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
        ("square_avg", "momentum_buffer", "grad_avg"), "RMSprop"),
    OptimizerSpec(
        "adam", "Adam",
        "Momentum (a running average of gradients) divided by the root of a running "
        "average of squared gradients, both bias-corrected. Each parameter gets its own "
        "step size; the first step has size lr in every coordinate.",
        1e-3,
        (_BETAS, _eps(1e-8), _weight_decay(), _AMSGRAD),
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), "Adam"),
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
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), "AdamW"),
    OptimizerSpec(
        "nadam", "NAdam",
        "Adam with Nesterov momentum: the step looks ahead by mixing the new gradient into the "
        "momentum it is about to use, with a momentum that warms up over the first steps "
        "(momentum_decay).",
        2e-3,
        (
            _BETAS, _eps(1e-8), _weight_decay(),
            HyperParam("momentum_decay", 4e-3, float,
                       "How fast the momentum warms up: step t uses beta1 × (1 − 0.5 × "
                       "0.96^(t × momentum_decay)). 0 keeps it at beta1/2.",
                       minimum=0.0),
            _DECOUPLED,
        ),
        ("exp_avg", "exp_avg_sq", "mu_product"), "NAdam"),
    OptimizerSpec(
        "radam", "RAdam",
        "Rectified Adam: while the squared-gradient average is too young to trust (its "
        "variance estimate rho_t ≤ 5, about the first 5 steps with the default betas) it takes "
        "plain momentum steps, then Adam steps scaled by a rectification factor.",
        1e-3,
        (_BETAS, _eps(1e-8), _weight_decay(), _DECOUPLED),
        ("exp_avg", "exp_avg_sq"), "RAdam"),
    OptimizerSpec(
        "adamax", "Adamax",
        "Adam with the infinity norm: the step is divided by a decaying maximum of |gradient| "
        "instead of the root of the average squared gradient, so one huge gradient cannot "
        "blow up the steps.",
        2e-3,
        (_BETAS, _eps(1e-8), _weight_decay()),
        ("exp_avg", "exp_inf"), "Adamax"),
    OptimizerSpec(
        "adadelta", "Adadelta",
        "Scales each step by the ratio of two running averages, of past squared updates over "
        "squared gradients, so the step has the parameters' units and needs little tuning "
        "of lr (torch's default lr is 1).",
        1.0,
        (
            HyperParam("rho", 0.9, float,
                       "Decay of both running averages (squared gradients and squared "
                       "updates), in [0, 1]. Closer to 1 = longer memory.",
                       minimum=0.0, maximum=1.0),
            _eps(1e-6), _weight_decay(),
        ),
        ("square_avg", "acc_delta"), "Adadelta"),
    OptimizerSpec(
        "rprop", "Rprop",
        "Resilient backpropagation: only the gradient's sign is used. Each parameter has its "
        "own step size, grown by etaplus while the sign stays and cut by etaminus when it "
        "flips (and that step is skipped). Meant for full batches.",
        1e-2,
        (
            HyperParam("etas", (0.5, 1.2), "pair",
                       "(etaminus, etaplus): the factors a step size is multiplied by when the "
                       "gradient's sign flips (0 < etaminus < 1) or stays (etaplus > 1).",
                       minimum=0.0),
            HyperParam("step_sizes", (1e-6, 50.0), "pair",
                       "(min, max): the smallest and largest step size allowed. Each "
                       "parameter's step size starts at lr.",
                       minimum=0.0),
        ),
        ("prev", "step_size"), "Rprop"),
    OptimizerSpec(
        "asgd", "ASGD",
        "Averaged SGD: plain SGD steps with a step size that decays as lr / (1 + lambd·lr·t)"
        "^alpha, plus a running average ax of the parameters (taken from step t0 on) that "
        "converges faster than the iterates themselves.",
        1e-2,
        (
            HyperParam("lambd", 1e-4, float,
                       "Decay term: shrinks the parameters by (1 − lambd × eta) each step and "
                       "sets how fast the step size eta decays.",
                       minimum=0.0),
            HyperParam("alpha", 0.75, float,
                       "Power of the step-size decay: eta = lr / (1 + lambd × lr × t)^alpha.",
                       minimum=0.0),
            HyperParam("t0", 1e6, float,
                       "Step from which the average ax starts averaging (before it, ax just "
                       "copies the parameters).",
                       minimum=0.0),
            _weight_decay(),
        ),
        ("eta", "mu", "ax"), "ASGD"),
    OptimizerSpec(
        "adafactor", "Adafactor",
        "Adam's second moment without its first, with a relative step size: the step is "
        "min(lr, 1/√t) times the parameters' RMS (at least eps2), and updates whose RMS "
        "exceeds d are clipped. gdviz's parameters are one vector, so the moment is not "
        "factored.",
        1e-2,
        (
            HyperParam("beta2_decay", -0.8, float,
                       "Decay of the squared-gradient average: step t mixes in the new "
                       "gradient² with weight t^beta2_decay (≤ 0; −0.8 forgets slower and "
                       "slower).",
                       maximum=0.0),
            HyperParam("eps", (2.220446049250313e-16, 1e-3), "pair",
                       "(eps1, eps2): eps1 keeps the squared-gradient average away from 0 "
                       "(torch's None = machine epsilon, 2.22e-16 in float64); eps2 is the "
                       "smallest parameter RMS the step size scales with.",
                       minimum=0.0),
            HyperParam("d", 1.0, float,
                       "Clipping threshold: an update whose RMS exceeds d is scaled down to "
                       "RMS d.",
                       minimum=1.0),
            HyperParam("weight_decay", 0.0, float,
                       "Decoupled decay: each step first multiplies the parameters by (1 − lr "
                       "× weight_decay), pulling them towards 0.",
                       minimum=0.0),
        ),
        ("variance",), "Adafactor"),
    OptimizerSpec(
        "lion", "Lion (not in torch.optim)",
        "EvoLved sign momentum (Chen et al. 2023; not in torch.optim): the step is lr × the "
        "sign of a mix of momentum and gradient, so every coordinate moves by exactly lr "
        "(plus decoupled weight decay).",
        1e-4,
        (
            HyperParam("betas", (0.9, 0.99), "pair",
                       "beta1 mixes momentum and gradient for the step's sign: c = beta1 × m + "
                       "(1 − beta1) × g; beta2 is the momentum's own decay: m ← beta2 × m + "
                       "(1 − beta2) × g. Each in [0, 1).",
                       minimum=0.0),
            HyperParam("weight_decay", 0.0, float,
                       "Decoupled decay: the step subtracts lr × weight_decay × params too, "
                       "pulling them towards 0.",
                       minimum=0.0),
        ),
        ("exp_avg",)),
    OptimizerSpec(
        "lbfgs", "L-BFGS",
        "Limited-memory BFGS: builds a curvature model from the last history_size gradient "
        "changes and steps towards the model's minimum, with up to max_iter inner iterations "
        "(each a loss and gradient evaluation) per step. A full-batch method.",
        1.0,
        (
            HyperParam("max_iter", 20, int,
                       "Inner iterations per step. One gdviz step is one torch "
                       "step(closure), which may evaluate the loss up to max_eval times.",
                       minimum=1),
            HyperParam("max_eval", None, "optional_int",
                       "Largest number of loss and gradient evaluations per step (empty or "
                       "none: max_iter × 5 // 4, torch's default).",
                       minimum=1),
            HyperParam("tolerance_grad", 1e-7, float,
                       "Stop a step's iterations when every |gradient| entry is at most this.",
                       minimum=0.0),
            HyperParam("tolerance_change", 1e-9, float,
                       "Stop a step's iterations when the loss or the parameters change by "
                       "less than this.",
                       minimum=0.0),
            HyperParam("history_size", 100, int,
                       "How many (parameter change, gradient change) pairs the curvature "
                       "model remembers.",
                       minimum=1),
            HyperParam("line_search_fn", "none", str,
                       "none: step with the fixed length lr; strong_wolfe: search along the "
                       "direction for a step meeting the strong Wolfe conditions (more "
                       "evaluations, sturdier)."),
        ),
        ("func_evals", "n_iter", "evals", "history_len", "d", "t", "old_dirs", "old_stps",
         "ro", "H_diag", "prev_flat_grad", "prev_loss"), "LBFGS", uses_closure=True),
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
        ("shift",), None, uses_hessian=True),
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
    _check_torch_rules(name, hp)
    if hp.get("nesterov") and (hp["momentum"] <= 0 or hp["dampening"] != 0):
        raise ConfigError("nesterov momentum requires a momentum > 0 and dampening = 0, got "
                          f"momentum {format_number(hp['momentum'])} and dampening "
                          f"{format_number(hp['dampening'])}")
    return hp


def _check_torch_rules(name: str, hp: dict[str, Any]) -> None:
    """The cross-field checks of torch's constructors for the newer optimizers."""
    if name == "rprop":
        etaminus, etaplus = hp["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ConfigError(f"rprop etas must satisfy 0 < etaminus < 1 < etaplus, got "
                              f"{format_number(etaminus)},{format_number(etaplus)}")
        low, high = hp["step_sizes"]
        if low > high:
            raise ConfigError(f"rprop step_sizes must be min,max with min <= max, got "
                              f"{format_number(low)},{format_number(high)}")
    if name == "lbfgs":
        search = str(hp["line_search_fn"]).strip()
        hp["line_search_fn"] = "none" if search.lower() == "none" else search
        if hp["line_search_fn"] not in LINE_SEARCHES:
            raise ConfigError(f"lbfgs line_search_fn must be one of {', '.join(LINE_SEARCHES)}, "
                              f"got {hp['line_search_fn']!r}")
