"""Update rules without Adam's moments: SGD, Adagrad, RMSprop, Adadelta, Rprop and ASGD.

torch.optim's single-tensor code path (``foreach=False``, ``maximize=False``), one line per
torch call in the same order (see ``kernels``). ``params``/``grad``: float64 arrays of one shape,
``(n_params,)``; every state array has that shape too. Each function returns ``(new_params,
new_state)`` with new read-only arrays and never modifies its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gdviz.core.optimizers.kernels import add_weight_decay, frozen, lerp


def init_sgd(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {}  # torch creates momentum_buffer on the first step (a copy of the gradient)


def sgd(params, grad, state, lr, hp):
    momentum = hp["momentum"]
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    new_state = {}
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = grad.copy()                                # torch.clone(grad)
        else:
            buf = buf * momentum + (1 - hp["dampening"]) * grad  # mul_(m).add_(g, alpha=1-d)
        new_state["momentum_buffer"] = frozen(buf)
        grad = grad + momentum * buf if hp["nesterov"] else buf
    return frozen(params + -lr * grad), new_state            # param.add_(grad, alpha=-lr)


def init_adagrad(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "sum": frozen(np.full(shape, float(hp["initial_accumulator_value"])))}


def adagrad(params, grad, state, lr, hp):
    step = state["step"] + 1
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    clr = lr / (1 + (step - 1) * hp["lr_decay"])
    total = state["sum"] + grad * grad                       # addcmul_(g, g, value=1)
    std = np.sqrt(total) + hp["eps"]
    new_params = params + (-clr * grad) / std                # addcdiv_(g, std, value=-clr)
    return frozen(new_params), {"step": step, "sum": frozen(total)}


def init_rmsprop(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    state: dict[str, Any] = {"step": 0, "square_avg": frozen(np.zeros(shape))}
    if hp["momentum"] > 0:
        state["momentum_buffer"] = frozen(np.zeros(shape))
    if hp["centered"]:
        state["grad_avg"] = frozen(np.zeros(shape))
    return state


def rmsprop(params, grad, state, lr, hp):
    step = state["step"] + 1
    alpha = hp["alpha"]
    momentum = hp["momentum"]
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    square_avg = state["square_avg"] * alpha + ((1 - alpha) * grad) * grad
    new_state: dict[str, Any] = {"step": step, "square_avg": frozen(square_avg)}
    if hp["centered"]:
        grad_avg = lerp(state["grad_avg"], grad, 1 - alpha)
        new_state["grad_avg"] = frozen(grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)     # addcmul(ga, ga, value=-1)
    else:
        avg = np.sqrt(square_avg)
    avg = avg + hp["eps"]
    if momentum > 0:
        buf = state.get("momentum_buffer")
        buf = np.zeros_like(params) if buf is None else buf  # a schedule turned momentum on
        buf = buf * momentum + grad / avg                    # mul_(m).addcdiv_(g, avg)
        new_state["momentum_buffer"] = frozen(buf)
        new_params = params + -lr * buf
    else:
        new_params = params + (-lr * grad) / avg
    return frozen(new_params), new_state


def init_adadelta(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "square_avg": frozen(np.zeros(shape)),
            "acc_delta": frozen(np.zeros(shape))}


def adadelta(params, grad, state, lr, hp):
    rho, eps = hp["rho"], hp["eps"]
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    square_avg = state["square_avg"] * rho + ((1 - rho) * grad) * grad
    std = np.sqrt(square_avg + eps)                          # square_avg.add(eps).sqrt_()
    delta = np.sqrt(state["acc_delta"] + eps) / std * grad   # .div_(std).mul_(grad)
    acc_delta = state["acc_delta"] * rho + ((1 - rho) * delta) * delta
    return frozen(params + -lr * delta), {"step": state["step"] + 1,
                                          "square_avg": frozen(square_avg),
                                          "acc_delta": frozen(acc_delta)}


def init_rprop(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "prev": frozen(np.zeros(shape)), "step_size": frozen(np.full(shape, lr))}


def rprop(params, grad, state, lr, hp):
    etaminus, etaplus = hp["etas"]
    step_size_min, step_size_max = hp["step_sizes"]
    sign = np.sign(grad * state["prev"])                     # grad.mul(prev).sign()
    factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
    # mul_(sign).clamp_(min, max)
    step_size = np.minimum(np.maximum(state["step_size"] * factor, step_size_min),
                           step_size_max)
    grad = np.where(factor == etaminus, 0.0, grad)           # a flipped sign skips the step
    new_params = params + (-1 * np.sign(grad)) * step_size   # addcmul_(sign, step_size, -1)
    return frozen(new_params), {"step": state["step"] + 1, "prev": frozen(grad),
                                "step_size": frozen(step_size)}


def init_asgd(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"step": 0, "eta": float(lr), "mu": 1.0, "ax": frozen(np.zeros(shape))}


def asgd(params, grad, state, lr, hp):
    step = state["step"] + 1
    lambd, eta, mu = hp["lambd"], state["eta"], state["mu"]
    grad = add_weight_decay(grad, params, hp["weight_decay"])
    params = params * (1 - lambd * eta)                      # decay term
    params = params + -eta * grad                            # add_(grad, alpha=-eta)
    if mu != 1:
        ax = state["ax"] + (params - state["ax"]) * mu       # ax.add_(param.sub(ax).mul_(mu))
    else:
        ax = params.copy()
    new_eta = lr / ((1 + lambd * lr * float(step)) ** hp["alpha"])
    new_mu = 1 / max(1, float(step) - hp["t0"])
    return frozen(params), {"step": step, "eta": float(new_eta), "mu": float(new_mu),
                            "ax": frozen(ax)}
