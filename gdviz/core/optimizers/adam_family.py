"""Update rules built on running moments of the gradient: Adam, AdamW, NAdam, RAdam, Adamax,
Adafactor (torch.optim, single-tensor path) and Lion (not in torch.optim).

One line per torch call in torch's order (see ``kernels``). Scalars torch keeps as 0-d tensors
(``step``, NAdam's ``mu_product``) are Python numbers here; with torch's default dtype float64
those tensors hold the same float64 values. ``params``/``grad``: float64, ``(n_params,)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gdviz.core.optimizers.kernels import add_weight_decay, frozen, lerp


def init_adam(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    state = {"step": 0, "exp_avg": frozen(np.zeros(shape)),
             "exp_avg_sq": frozen(np.zeros(shape))}
    if hp["amsgrad"]:
        state["max_exp_avg_sq"] = frozen(np.zeros(shape))
    return state


def _adam_core(params, grad, state, lr, hp, decoupled):
    step = state["step"] + 1
    beta1, beta2 = hp["betas"]
    weight_decay = hp["weight_decay"]
    if weight_decay != 0 and decoupled:
        params = params * (1 - lr * weight_decay)            # param.mul_(1 - lr*wd)
    elif not decoupled:
        grad = add_weight_decay(grad, params, weight_decay)
    exp_avg = lerp(state["exp_avg"], grad, 1 - beta1)
    exp_avg_sq = state["exp_avg_sq"] * beta2 + ((1 - beta2) * grad) * grad
    new_state: dict[str, Any] = {"step": step, "exp_avg": frozen(exp_avg),
                                 "exp_avg_sq": frozen(exp_avg_sq)}
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5            # torch uses ** 0.5, not sqrt
    if hp["amsgrad"]:
        max_sq = np.maximum(state["max_exp_avg_sq"], exp_avg_sq)
        new_state["max_exp_avg_sq"] = frozen(max_sq)
        denom = np.sqrt(max_sq) / bias_correction2_sqrt + hp["eps"]
    else:
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + hp["eps"]
    new_params = params + (-step_size * exp_avg) / denom     # addcdiv_(m, denom, -step_size)
    return frozen(new_params), new_state


def adam(params, grad, state, lr, hp):
    return _adam_core(params, grad, state, lr, hp, False)


def adamw(params, grad, state, lr, hp):
    return _adam_core(params, grad, state, lr, hp, True)


def _decay(params, grad, lr, hp):
    """Weight decay AdamW's way (decoupled_weight_decay) or Adam's: (params, grad)."""
    weight_decay = hp["weight_decay"]
    if weight_decay != 0 and hp.get("decoupled_weight_decay"):
        return params * (1 - lr * weight_decay), grad
    return params, add_weight_decay(grad, params, weight_decay)


def _moments(state, grad, beta1, beta2):
    exp_avg = lerp(state["exp_avg"], grad, 1 - beta1)        # exp_avg.lerp_(g, 1-beta1)
    exp_avg_sq = state["exp_avg_sq"] * beta2 + ((1 - beta2) * grad) * grad
    return exp_avg, exp_avg_sq


def init_nadam(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "exp_avg": frozen(np.zeros(shape)),
            "exp_avg_sq": frozen(np.zeros(shape)), "mu_product": 1.0}


def nadam(params, grad, state, lr, hp):
    step = state["step"] + 1
    beta1, beta2 = hp["betas"]
    momentum_decay = hp["momentum_decay"]
    bias_correction2 = 1 - beta2**step
    params, grad = _decay(params, grad, lr, hp)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product = state["mu_product"] * mu
    exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
    denom = np.sqrt(exp_avg_sq / bias_correction2)           # exp_avg_sq.div(bc2).sqrt()
    mu_product_next = mu_product * mu_next
    denom = denom + hp["eps"]
    params = params + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * grad) / denom
    params = params + (((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg) / denom
    return frozen(params), {"step": step, "exp_avg": frozen(exp_avg),
                            "exp_avg_sq": frozen(exp_avg_sq), "mu_product": float(mu_product)}


def init_moments(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "exp_avg": frozen(np.zeros(shape)),
            "exp_avg_sq": frozen(np.zeros(shape))}


def radam(params, grad, state, lr, hp):
    step = state["step"] + 1
    beta1, beta2 = hp["betas"]
    params, grad = _decay(params, grad, lr, hp)
    exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    bias_corrected_exp_avg = exp_avg / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive_lr = (bias_correction2**0.5) / (np.sqrt(exp_avg_sq) + hp["eps"])
        params = params + -1.0 * (bias_corrected_exp_avg * lr * adaptive_lr * rect)
    else:
        params = params + -1.0 * (bias_corrected_exp_avg * lr)  # momentum only, unscaled
    return frozen(params), {"step": step, "exp_avg": frozen(exp_avg),
                            "exp_avg_sq": frozen(exp_avg_sq)}


def init_adamax(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "exp_avg": frozen(np.zeros(shape)), "exp_inf": frozen(np.zeros(shape))}


def adamax(params, grad, state, lr, hp):
    step = state["step"] + 1
    beta1, beta2 = hp["betas"]
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    exp_avg = lerp(state["exp_avg"], grad, 1 - beta1)
    exp_inf = np.maximum(state["exp_inf"] * beta2, np.abs(grad) + hp["eps"])
    clr = lr / (1 - beta1**step)
    params = params + (-clr * exp_avg) / exp_inf             # addcdiv_(m, exp_inf, -clr)
    return frozen(params), {"step": step, "exp_avg": frozen(exp_avg),
                            "exp_inf": frozen(exp_inf)}


def init_adafactor(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "variance": frozen(np.zeros(shape))}


def adafactor(params, grad, state, lr, hp):
    """torch.optim.Adafactor on a vector (torch factors only 2-D and larger parameters)."""
    step = float(state["step"] + 1)
    eps1, eps2 = hp["eps"]
    one_minus_beta2_t = step ** hp["beta2_decay"]
    rho_t = min(lr, 1 / (step**0.5))
    alpha = max(eps2, float(np.linalg.norm(params)) / (params.size**0.5)) * rho_t
    if hp["weight_decay"] != 0:
        params = params * (1 - lr * hp["weight_decay"])
    variance = lerp(state["variance"], grad * grad, one_minus_beta2_t)
    update = 1.0 / np.sqrt(np.maximum(variance, eps1 * eps1))  # clamp_(min=eps1²).rsqrt_()
    update = update * grad
    denom = max(1.0, float(np.linalg.norm(update)) / ((update.size**0.5) * hp["d"]))
    params = params + (-alpha / denom) * update
    return frozen(params), {"step": int(step), "variance": frozen(variance)}


def init_lion(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"exp_avg": frozen(np.zeros(shape))}


def lion(params, grad, state, lr, hp):
    """Lion (Chen et al. 2023, Algorithm 2), in the order of the authors' reference code."""
    beta1, beta2 = hp["betas"]
    params = params * (1 - lr * hp["weight_decay"])
    update = np.sign(state["exp_avg"] * beta1 + (1 - beta1) * grad)
    params = params + -lr * update
    exp_avg = state["exp_avg"] * beta2 + (1 - beta2) * grad
    return frozen(params), {"exp_avg": frozen(exp_avg)}
