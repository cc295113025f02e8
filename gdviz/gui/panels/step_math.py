"""Step math panel: the arithmetic of the latest step, with its actual numbers.

Shows the batch, the gradient, the optimizer state and, per parameter, the update written out
(plain SGD: ``w ← w − η·g = −0.3000 − 0.01·(−1.2345) = −0.2877``; Adam, NAdam, RAdam, Adamax,
Adagrad, RMSprop, Rprop, Lion and momentum SGD with their state terms; a momentum a schedule
cycles as this step's value). L-BFGS says how many loss/gradient evaluations its step made and
how many curvature pairs it holds. Each formula is re-evaluated from the record and shown
only when it reproduces the actual update; otherwise the plain difference is shown, so the
panel never displays arithmetic that is not what happened.

A network has a hundred parameters or more: the panel then writes out the SHOWN_PARAMS that
moved most in this step (their updates, and their entries of the gradient and the state) and
says how many it leaves out. All of them on 105 lines made the panel unreadable and cost
~6 ms of the GUI thread per update at full speed (mlp_spiral).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextEdit, QVBoxLayout, QWidget

from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig, StepRecord

STATE_WORDS = {
    "momentum_buffer": "v  (velocity, momentum_buffer)",
    "exp_avg": "m  (average gradient, exp_avg)",
    "exp_avg_sq": "v  (average squared gradient, exp_avg_sq)",
    "max_exp_avg_sq": "v_max (max_exp_avg_sq)",
    "sum": "G  (sum of squared gradients)",
    "square_avg": "v  (average squared gradient, square_avg)",
    "grad_avg": "ḡ  (average gradient, grad_avg)",
    "step": "t  (steps taken)",
    "mu_product": "Πμ (product of the momentum schedule, mu_product)",
    "exp_inf": "u  (decaying max of |g|, exp_inf)",
    "acc_delta": "Δ² (average squared update, acc_delta)",
    "prev": "g′ (last gradient, 0 where its sign flipped: prev)",
    "step_size": "s  (per-parameter step sizes, step_size)",
    "eta": "η_t (ASGD's decayed step size, eta)",
    "mu": "averaging weight of ax (mu)",
    "ax": "ā  (averaged parameters, ax)",
    "variance": "v  (average squared gradient, variance)",
    "evals": "loss/gradient evaluations in this step (evals)",
    "func_evals": "evaluations since the start (func_evals)",
    "n_iter": "iterations since the start (n_iter)",
    "history_len": "curvature pairs remembered (history_len)",
    "d": "d  (last search direction)",
    "t": "t  (last step length)",
    "H_diag": "γ  (initial Hessian scale yᵀs/yᵀy, H_diag)",
    "prev_flat_grad": "gradient at the last iterate (prev_flat_grad)",
    "prev_loss": "loss at the last iterate (prev_loss)",
    "cycled_momentum": "momentum (or β₁) the schedule set for this step",
}


def num(x: float) -> str:
    """A number for formulas: 4 decimals in the everyday range, else 4 significant digits."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        text = f"{x:.4f}"
    else:
        text = f"{x:.4g}"
    return text.replace("-", "−")


def paren(x: float) -> str:
    """Negative numbers in parentheses, as written by hand: ``0.01·(−1.2345)``."""
    return f"({num(x)})" if x < 0 else num(x)


def lr_text(lr: float) -> str:
    return f"{lr:g}".replace("-", "−")


def describe_batch(record: StepRecord, problem: Problem) -> str:
    k, n = len(record.batch), problem.n_samples
    if record.step == 0:
        return "start point (no step yet)"
    if not problem.has_data:
        return "the function itself (no data)"
    if k == n and np.array_equal(np.sort(record.batch), np.arange(n)):
        return f"all {n} samples (full batch)"
    shown = ", ".join(str(int(i)) for i in record.batch[:6])
    if k == 1:
        i = int(record.batch[0])
        x = problem.data_x[i]
        text = f"sample {i}: x = " + (num(x[0]) if len(x) == 1 else
                                       "(" + ", ".join(num(v) for v in x[:4]) + ")")
        if problem.data_y is not None:
            text += f", y = {num(problem.data_y[i])}"
        return text
    if k <= 6:
        return f"samples {shown}"
    return f"samples {shown}, … ({k})"


def gradient_words(problem: Problem, k: int) -> str:
    """How the step's gradient g combines the batch's k per-sample gradients, following the
    problem's reduction (``problem.reduce_factor``): the mean of them for a ``mean`` loss;
    for a ``sum`` loss n/k times their sum (the full sum's gradient, estimated from the
    batch), which is n times their mean."""
    n = problem.n_samples
    if not problem.has_data:
        return "gradient g of f"
    if problem.reduction == "mean":
        return "gradient g (this sample's)" if k == 1 else f"gradient g (mean over {k} samples)"
    if k == n:
        return f"gradient g (sum over all {n} samples)"
    if k == 1:
        return f"gradient g ({n} × this sample's: the sum over {n} samples, estimated)"
    return f"gradient g ({n}/{k} × the sum over {k} samples: the sum over {n}, estimated)"


def batch_loss_words(problem: Problem, k: int) -> str:
    """What the recorded batch loss is, following the problem's reduction."""
    if problem.reduction == "mean" or k == problem.n_samples:
        return "loss on the batch"
    return f"loss on the batch × {problem.n_samples}/{k}"


SHOWN_PARAMS = 8   # a problem with more parameters shows those that moved most


def shown_params(record: StepRecord, names: tuple[str, ...]) -> tuple[int, ...]:
    """The parameters the panel writes out, in their order: all of them up to SHOWN_PARAMS,
    else the SHOWN_PARAMS with the largest |update| in ``record`` (the largest |gradient| at
    the start point, which has no update)."""
    if len(names) <= SHOWN_PARAMS:
        return tuple(range(len(names)))
    size = np.abs(np.asarray(record.params, dtype=float) - np.asarray(record.params_before,
                                                                      dtype=float))
    if record.step == 0 or not np.any(size > 0):
        size = np.abs(np.asarray(record.grad, dtype=float))
    size = np.where(np.isfinite(size), size, np.inf)   # a parameter gone to NaN is news
    largest = np.argsort(-size, kind="stable")[:SHOWN_PARAMS]
    return tuple(int(i) for i in np.sort(largest))


def update_lines(name: str, record: StepRecord, config: RunConfig, names: tuple[str, ...],
                 shown: tuple[int, ...] | None = None) -> list[str]:
    """One line per parameter (or per parameter of ``shown``): the update formula with its
    numbers."""
    hp, lr = _hyperparams_used(config, record), record.lr
    lines = []
    for i in range(len(names)) if shown is None else shown:
        pname = names[i]
        before, after, g = (float(record.params_before[i]), float(record.params[i]),
                            float(record.grad[i]))
        formula = _formula(name, hp, record, i, lr, before, g, pname)
        if formula is not None:
            text, predicted = formula
            if math.isclose(predicted, after, rel_tol=1e-9, abs_tol=1e-12):
                lines.append(f"{text} = {num(after)}")
                continue
        delta = after - before
        lines.append(f"{pname} ← {pname} + Δ = {num(before)} + {paren(delta)} = {num(after)}")
    return lines


def _hyperparams_used(config: RunConfig, record: StepRecord):
    """The run's hyperparameters with the momentum (or beta1) a cycling schedule set for this
    step, where torch's param_group held it."""
    hp = config.hyperparams
    cycled = record.state.get("cycled_momentum")
    if cycled is None:
        return hp
    if "betas" in hp:
        return {**hp, "betas": (cycled, hp["betas"][1])}
    return {**hp, "momentum": cycled}


def _formula(name: str, hp, record: StepRecord, i: int, lr: float, w: float, g: float,
             p: str) -> tuple[str, float] | None:
    """(text without the result, the value it evaluates to), or None if not applicable."""
    state = record.state
    eta = lr_text(lr)
    wd = float(hp.get("weight_decay", 0.0))
    if wd:
        return None  # shown as a plain difference: the decay term would crowd the line
    if name == "sgd":
        if "momentum_buffer" not in state:
            return (f"{p} ← {p} − η·g = {num(w)} − {eta}·{paren(g)}", w - lr * g)
        b = float(state["momentum_buffer"][i])
        if hp.get("nesterov"):
            mu = float(hp["momentum"])
            return (f"{p} ← {p} − η·(g + μ·v) = {num(w)} − {eta}·({num(g)} + {mu:g}·{paren(b)})",
                    w - lr * (g + mu * b))
        return (f"{p} ← {p} − η·v = {num(w)} − {eta}·{paren(b)}", w - lr * b)
    if name in ("adam", "adamw"):
        t = int(state.get("step", 0))
        beta1, beta2 = hp["betas"]
        m = float(state["exp_avg"][i])
        v_key = "max_exp_avg_sq" if hp.get("amsgrad") else "exp_avg_sq"
        v = float(state[v_key][i])
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        eps = float(hp["eps"])
        return (f"{p} ← {p} − η·m̂/(√v̂+ε) = {num(w)} − {eta}·{paren(m_hat)}/"
                f"(√{num(v_hat)}+{eps:g})", w - lr * m_hat / (math.sqrt(v_hat) + eps))
    if name == "adagrad":
        t = int(state.get("step", 0))
        G = float(state["sum"][i])
        eps = float(hp["eps"])
        clr = lr / (1 + (t - 1) * float(hp["lr_decay"]))
        return (f"{p} ← {p} − η·g/(√G+ε) = {num(w)} − {lr_text(clr)}·{paren(g)}/"
                f"(√{num(G)}+{eps:g})", w - clr * g / (math.sqrt(G) + eps))
    if name == "adamax":
        t = int(state.get("step", 0))
        m, u = float(state["exp_avg"][i]), float(state["exp_inf"][i])
        clr = lr / (1 - hp["betas"][0] ** t)
        return (f"{p} ← {p} − η/(1−β₁ᵗ)·m/u = {num(w)} − {lr_text(clr)}·{paren(m)}/{num(u)}",
                w - clr * m / u)
    if name == "radam":
        t = int(state.get("step", 0))
        beta1, beta2 = hp["betas"]
        m_hat = float(state["exp_avg"][i]) / (1 - beta1**t)
        bc2 = 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bc2
        if rho_t <= 5:
            return (f"{p} ← {p} − η·m̂ (ρ_t = {rho_t:.2f} ≤ 5: no adaptive step yet) = "
                    f"{num(w)} − {eta}·{paren(m_hat)}", w - lr * m_hat)
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        v = float(state["exp_avg_sq"][i])
        scale = math.sqrt(bc2) / (math.sqrt(v) + float(hp["eps"]))
        return (f"{p} ← {p} − η·r·m̂·√(1−β₂ᵗ)/(√v+ε) = {num(w)} − {eta}·{rect:.4f}·"
                f"{paren(m_hat)}·{num(scale)}", w - lr * rect * m_hat * scale)
    if name == "nadam":
        t = int(state.get("step", 0))
        beta1, beta2 = hp["betas"]
        decay = float(hp["momentum_decay"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * decay))
        product = float(state["mu_product"])
        denom = math.sqrt(float(state["exp_avg_sq"][i]) / (1 - beta2**t)) + float(hp["eps"])
        m = float(state["exp_avg"][i])
        a = (1 - mu) / (1 - product)
        b = mu_next / (1 - product * mu_next)
        return (f"{p} ← {p} − η·(a·g + b·m)/(√v̂+ε) = {num(w)} − {eta}·({num(a)}·{paren(g)} "
                f"+ {num(b)}·{paren(m)})/{num(denom)}", w - lr * (a * g + b * m) / denom)
    if name == "rprop":
        sign = float(np.sign(state["prev"][i]))
        s_i = float(state["step_size"][i])
        return (f"{p} ← {p} − sign(g)·s = {num(w)} − ({sign:+.0f})·{num(s_i)}", w - sign * s_i)
    if name == "lion":
        beta1, beta2 = hp["betas"]
        m_before = (float(state["exp_avg"][i]) - (1 - beta2) * g) / beta2
        c = beta1 * m_before + (1 - beta1) * g
        sign = float(np.sign(c))
        return (f"{p} ← {p} − η·sign(β₁m + (1−β₁)g) = {num(w)} − {eta}·({sign:+.0f})",
                w - lr * sign)
    if name == "rmsprop" and not hp.get("centered") and not hp.get("momentum"):
        v = float(state["square_avg"][i])
        eps = float(hp["eps"])
        return (f"{p} ← {p} − η·g/(√v+ε) = {num(w)} − {eta}·{paren(g)}/(√{num(v)}+{eps:g})",
                w - lr * g / (math.sqrt(v) + eps))
    return None


def _state_notes(config: RunConfig, record: StepRecord) -> list[str]:
    """How the state enters the update, for the optimizers whose formula uses it."""
    hp = _hyperparams_used(config, record)
    if config.optimizer == "sgd" and "momentum_buffer" in record.state:
        return [f"   v ← μ·v + (1−τ)·g   with μ = {hp['momentum']:g}, τ = {hp['dampening']:g}"]
    if config.optimizer in ("adam", "adamw"):
        b1, b2 = hp["betas"]
        t = record.state.get("step", 0)
        return [f"   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)   with β₁ = {b1:g}, β₂ = {b2:g}, t = {t}"]
    if config.optimizer == "adagrad":
        return ["   G ← G + g²"]
    if config.optimizer == "rmsprop":
        return [f"   v ← α·v + (1−α)·g²   with α = {hp['alpha']:g}"]
    if config.optimizer == "nadam":
        return ["   a = (1−μₜ)/(1−Πμ), b = μₜ₊₁/(1−Πμ·μₜ₊₁), μₜ = β₁(1 − ½·0.96^(t·"
                f"momentum_decay)), v̂ = v/(1−β₂ᵗ)   with t = {record.state.get('step', 0)}"]
    if config.optimizer == "radam":
        return ["   r: the rectification √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ)), once ρₜ > 5"]
    if config.optimizer == "adamax":
        return [f"   u ← max(β₂·u, |g|+ε)   with β₂ = {hp['betas'][1]:g}"]
    if config.optimizer == "rprop":
        etaminus, etaplus = hp["etas"]
        return [f"   s ← s·{etaplus:g} where g kept its sign, s·{etaminus:g} (and no step) "
                "where it flipped"]
    if config.optimizer == "lbfgs" and "evals" in record.state:
        return [f"   one step = one torch step(closure): {record.state['evals']} loss/gradient "
                f"evaluations, {record.state.get('history_len', 0)} of "
                f"{hp['history_size']} curvature pairs held"]
    if config.optimizer == "newton" and "shift" in record.state:
        return [f"   Δ = −η·(H + μI)⁻¹·g   with H the batch loss's Hessian, μ = "
                f"max(0, damping − λmin) = {record.state['shift']:g}, damping = "
                f"{hp['damping']:g}"]
    return []


def _vector(values: Any, names: tuple[str, ...], shown: tuple[int, ...] | None = None) -> str:
    """The entries of a parameter-sized vector by name (those of ``shown``, then how many
    are left out); any other vector as its numbers."""
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if len(arr) != len(names):
        return ", ".join(num(v) for v in arr)
    if shown is None or len(shown) == len(names):
        return ", ".join(f"{n}: {num(v)}" for n, v in zip(names, arr))
    return (", ".join(f"{names[i]}: {num(arr[i])}" for i in shown)
            + f", … ({len(names) - len(shown)} more)")


def step_math_html(record: StepRecord, config: RunConfig, problem: Problem) -> str:
    """The panel's content for ``record`` as HTML (monospace)."""
    names = problem.param_names
    shown = shown_params(record, names)
    rows = [f"<b>step {record.step}</b>   epoch {record.epoch}   η = {lr_text(record.lr)}"
            f"   batch: {html.escape(describe_batch(record, problem))}"]
    ending = ""
    if record.message:
        color = "#c00000" if record.status == "diverged" else "#006000"
        ending = (f"<span style='color:{color}'><b>{html.escape(record.message)}</b>"
                      "</span>")
    if record.step == 0:
        rows.append(f"full gradient g: {_vector(record.grad, names, shown)}   "
                    f"|g| = {num(record.grad_norm)}")
        rows.append(f"full loss at the start: {num(record.loss)}")
        rows += [ending] if ending else []
        return "<pre style='margin:0'>" + "\n".join(rows) + "</pre>"
    k = len(record.batch)
    grad_word = gradient_words(problem, k)
    rows.append(f"{grad_word}: {_vector(record.grad, names, shown)}   "
                f"|g| = {num(record.grad_norm)}")
    if len(shown) < len(names):
        rows.append(f"   the {len(shown)} of {len(names)} parameters that moved most in this "
                    "step:")
    rows += ["   " + html.escape(line)
             for line in update_lines(config.optimizer, record, config, names, shown)]
    if problem.has_data:
        rows.append(f"{batch_loss_words(problem, k)} {num(record.batch_loss)} (before the "
                    f"step) → full loss {num(record.loss)} (after)")
    else:
        rows.append(f"f {num(record.batch_loss)} → {num(record.loss)}")
    rows += [ending] if ending else []
    state_rows = []
    for key, value in record.state.items():
        word = STATE_WORDS.get(key, key)
        if np.ndim(value) == 0:
            text = num(value) if isinstance(value, float) else str(value)
        else:
            text = _vector(value, names, shown)
        state_rows.append(f"   {html.escape(word)}: {text}")
    if state_rows:
        rows.append("optimizer state after the step:")
        rows += state_rows
        rows += _state_notes(config, record)
    if k > 1:
        sg = record.sample_grads
        n = problem.n_samples
        rows.append("spread of the per-sample gradients in this batch "
                    + ("(g is their mean):" if problem.reduction == "mean" else
                       f"(g is {n} × their mean):"))
        for i in shown[:4]:
            rows.append(f"   ∂ℓ/∂{names[i]}: min {num(sg[:, i].min())}  max {num(sg[:, i].max())}  "
                        f"mean {num(sg[:, i].mean())}")
    return "<pre style='margin:0'>" + "\n".join(rows) + "</pre>"


class StepMathPanel(QWidget):
    """A read-only monospace text showing the latest step's arithmetic."""

    title = "Step math"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextEdit()
        self.text.setObjectName("step_math_text")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)
        self.text.setToolTip(
            "The arithmetic of the latest step: which samples were used, the gradient they "
            "give, the optimizer's memory (state) and each parameter's update with the actual "
            "numbers.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.text)

    def show_record(self, record: StepRecord, config: RunConfig, problem: Problem,
                    run: tuple[str, str] | None = None) -> None:
        """The arithmetic of ``record``; ``run``: (name, colour) of the run it belongs to when
        several are compared ("run 2 · adam lr=0.05" above it), None for a single run."""
        head = ""
        if run is not None:
            name, color = run
            head = (f"<span style='color:{color}'>●</span> <b>{html.escape(name)}</b><br>")
        self.text.setHtml(head + step_math_html(record, config, problem))

    def plain_text(self) -> str:
        return self.text.toPlainText()
