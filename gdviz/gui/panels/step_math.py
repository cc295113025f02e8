"""Step math panel: the arithmetic of the latest step, with its actual numbers.

Shows the batch, the gradient, the optimizer state and, per parameter, the update written out
(plain SGD: ``w ← w − η·g = −0.3000 − 0.01·(−1.2345) = −0.2877``; Adam, Adagrad, RMSprop and
momentum SGD with their state terms). Each formula is re-evaluated from the record and shown
only when it reproduces the actual update; otherwise the plain difference is shown, so the
panel never displays arithmetic that is not what happened.
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


def update_lines(name: str, record: StepRecord, config: RunConfig, names: tuple[str, ...]
                 ) -> list[str]:
    """One line per parameter: the update formula with its numbers."""
    hp, lr = config.hyperparams, record.lr
    lines = []
    for i, pname in enumerate(names):
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
    if name == "rmsprop" and not hp.get("centered") and not hp.get("momentum"):
        v = float(state["square_avg"][i])
        eps = float(hp["eps"])
        return (f"{p} ← {p} − η·g/(√v+ε) = {num(w)} − {eta}·{paren(g)}/(√{num(v)}+{eps:g})",
                w - lr * g / (math.sqrt(v) + eps))
    return None


def _state_notes(config: RunConfig, record: StepRecord) -> list[str]:
    """How the state enters the update, for the optimizers whose formula uses it."""
    hp = config.hyperparams
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
    if config.optimizer == "newton" and "shift" in record.state:
        return [f"   Δ = −η·(H + μI)⁻¹·g   with H the batch loss's Hessian, μ = "
                f"max(0, damping − λmin) = {record.state['shift']:g}, damping = "
                f"{hp['damping']:g}"]
    return []


def _vector(values: Any, names: tuple[str, ...]) -> str:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if len(arr) == len(names):
        return ", ".join(f"{n}: {num(v)}" for n, v in zip(names, arr))
    return ", ".join(num(v) for v in arr)


def step_math_html(record: StepRecord, config: RunConfig, problem: Problem) -> str:
    """The panel's content for ``record`` as HTML (monospace)."""
    names = problem.param_names
    rows = [f"<b>step {record.step}</b>   epoch {record.epoch}   η = {lr_text(record.lr)}"
            f"   batch: {html.escape(describe_batch(record, problem))}"]
    ending = ""
    if record.message:
        color = "#c00000" if record.status == "diverged" else "#006000"
        ending = (f"<span style='color:{color}'><b>{html.escape(record.message)}</b>"
                      "</span>")
    if record.step == 0:
        rows.append(f"full gradient g: {_vector(record.grad, names)}   "
                    f"|g| = {num(record.grad_norm)}")
        rows.append(f"full loss at the start: {num(record.loss)}")
        rows += [ending] if ending else []
        return "<pre style='margin:0'>" + "\n".join(rows) + "</pre>"
    k = len(record.batch)
    grad_word = gradient_words(problem, k)
    rows.append(f"{grad_word}: {_vector(record.grad, names)}   |g| = {num(record.grad_norm)}")
    rows += ["   " + html.escape(line)
             for line in update_lines(config.optimizer, record, config, names)]
    if problem.has_data:
        rows.append(f"{batch_loss_words(problem, k)} {num(record.batch_loss)} (before the "
                    f"step) → full loss {num(record.loss)} (after)")
    else:
        rows.append(f"f {num(record.batch_loss)} → {num(record.loss)}")
    rows += [ending] if ending else []
    state_rows = []
    for key, value in record.state.items():
        word = STATE_WORDS.get(key, key)
        text = str(value) if np.ndim(value) == 0 else _vector(value, names)
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
        for i, n in enumerate(names[:4]):
            rows.append(f"   ∂ℓ/∂{n}: min {num(sg[:, i].min())}  max {num(sg[:, i].max())}  "
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

    def show_record(self, record: StepRecord, config: RunConfig, problem: Problem) -> None:
        self.text.setHtml(step_math_html(record, config, problem))

    def plain_text(self) -> str:
        return self.text.toPlainText()
