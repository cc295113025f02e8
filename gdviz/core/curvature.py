"""Curvature along a run: the Hessian's extreme eigenvalues, Adam's preconditioned sharpness,
and the stability thresholds they are compared with.

Definitions (all of the *full* loss, whatever the batch size of the run):

* ``sharpness`` = λmax(H) and ``lambda_min`` = λmin(H), H the exact Hessian of the full loss
  at the parameters after the step (negative λmin at a saddle): the eigenvalues of the full
  Hessian (``Problem.hessian``) where the problem gives one, else (a network of more than
  200 parameters) the Lanczos method on its exact Hessian-vector products (core.lanczos).
* ``preconditioned_sharpness`` = λmax(P⁻¹H) for Adam-family optimizers, with Adam's
  preconditioner as Cohen et al. (2022, "Adaptive gradient methods at the edge of
  stability") define it: Adam's step is x ← x − η·P⁻¹·m with the raw first moment m, so

      P = (1 − β₁ᵗ) · diag(√v̂ + ε),   v̂ = v / (1 − β₂ᵗ)

  (torch's denominator √v/√(1 − β₂ᵗ) + ε, times the first moment's bias correction; with
  ``amsgrad`` v is the running maximum). t and v are the optimizer's state after the step.
  The eigenvalues of P⁻¹H are those of the symmetric P^(-1/2) H P^(-1/2). At step 0 (t = 0)
  P is 0 and the column is NaN.

Stability thresholds on a quadratic (the linearised dynamics), in 1/lr units:
  gradient descent 2/η; heavy-ball momentum β (torch SGD, dampening d) (2 + 2β)/((1 − d)·η);
  Nesterov (2 + 2β)/((1 + 2β)·η); SGD's weight decay wd lowers the loss's threshold by wd;
  Adam's preconditioned sharpness (2 + 2β₁)/((1 − β₁)·η), 38/η for β₁ = 0.9.

A problem supplies ``hessian(params)`` (``Problem.has_hessian``) or at least
``hessian_vector_products`` (``Problem.has_hessian_vector_products``); one with neither is
refused here with a sentence.
Another optimizer joins by adding its diagonal preconditioner to ``PRECONDITIONERS`` (and,
if its threshold is known, a rule to ``stability_threshold``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.lanczos import MAX_STEPS, extreme_eigenvalues
from gdviz.core.problems.base import Problem

SHARPNESS = "sharpness"
LAMBDA_MIN = "lambda_min"
PRECONDITIONED = "preconditioned_sharpness"
# numbers held per block of steps in CurvatureColumns.table (Hessians p², or Lanczos bases
# p·steps): 16 MB, so a long history of a network is not one 2048 × p × p array
_BLOCK_NUMBERS = 2_000_000


def require_hessian(problem: Problem) -> None:
    """ConfigError (one sentence) when ``problem`` gives neither its exact Hessian nor exact
    Hessian-vector products."""
    if not problem.has_hessian_vector_products:
        raise ConfigError(f"problem {problem.name!r} gives no exact Hessian, so its "
                          "curvature cannot be computed")


def _finite_hessians(problem: Problem, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Hessians (..., p, p) with the non-finite ones zeroed, which are finite (...))."""
    with np.errstate(all="ignore"):
        hessian = problem.hessian(params)
    finite = np.all(np.isfinite(hessian), axis=(-2, -1))
    return np.where(finite[..., None, None], hessian, 0.0), finite


def hessian_eigenvalues(problem: Problem, params: np.ndarray) -> np.ndarray:
    """Eigenvalues of the full loss's Hessian, ascending: params (..., p) -> (..., p).
    NaN where the Hessian is not finite (a diverged run, Ackley's kink)."""
    safe, finite = _finite_hessians(problem, params)
    return np.where(finite[..., None], np.linalg.eigvalsh(safe), np.nan)


def hessian_extremes(problem: Problem, params: np.ndarray) -> np.ndarray:
    """(λmin, λmax) of the full loss's Hessian: params (..., p) -> (..., 2), from the full
    Hessian where the problem gives one, else by Lanczos on its Hessian-vector products.
    NaN where they are not finite."""
    params = np.asarray(params, dtype=np.float64)
    if problem.has_hessian:
        return hessian_eigenvalues(problem, params)[..., [0, -1]]
    flat = params.reshape(-1, problem.n_params)
    low, high = extreme_eigenvalues(_products(problem, flat), len(flat), problem.n_params)
    return np.stack([low, high], axis=-1).reshape(*params.shape[:-1], 2)


def _products(problem: Problem, params: np.ndarray, scale: np.ndarray | None = None):
    """The operators v -> H(params[i])·v, or with ``scale`` (m, p) the symmetric
    v -> s·H·(s·v) (s = scale[i]), for core.lanczos: params (m, p)."""
    def apply(vectors: np.ndarray, which: np.ndarray) -> np.ndarray:
        if scale is None:
            return problem.hessian_vector_products(params[which], vectors[:, None])[:, 0]
        s = scale[which]
        return s * problem.hessian_vector_products(params[which], (s * vectors)[:, None])[:, 0]

    return apply


# -- preconditioners -----------------------------------------------------------------------------
def _adam_preconditioner(state: Mapping[str, Any], hp: Mapping[str, Any]) -> np.ndarray | None:
    """Adam's / AdamW's P (p,) after the step (see the module docstring); None before step 1."""
    t = int(state.get("step", 0))
    if t < 1:
        return None
    beta1, beta2 = hp["betas"]
    second = state["max_exp_avg_sq"] if hp.get("amsgrad") else state["exp_avg_sq"]
    denom = np.sqrt(second) / (1 - beta2**t) ** 0.5 + hp["eps"]
    return (1 - beta1**t) * denom


#: optimizer name -> f(state after the step, hyperparameters) -> the diagonal of P (p,), or
#: None where it is undefined (before the first step)
PRECONDITIONERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]],
                                    np.ndarray | None]] = {
    "adam": _adam_preconditioner,
    "adamw": _adam_preconditioner,
}


# -- stability thresholds ------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """Where a quadratic stops being stable: ``quantity`` (``sharpness`` or
    ``preconditioned_sharpness``) above ``value`` (1/parameter² units of the Hessian)
    diverges. ``formula`` says how it was computed, e.g. ``"(2 + 2β)/η"``."""

    quantity: str
    value: float
    formula: str


def stability_threshold(optimizer: str, lr: float, hp: Mapping[str, Any]) -> Threshold | None:
    """The threshold of ``optimizer`` at learning rate ``lr`` with hyperparameters ``hp``
    (validated), or None when gdviz knows none (adaptive methods without a stated
    preconditioner, Newton) or ``lr`` <= 0 (a schedule at 0 takes no step: nothing becomes
    unstable)."""
    if not lr > 0:
        return None
    if optimizer == "sgd":
        beta, damp = hp.get("momentum", 0.0), hp.get("dampening", 0.0)
        wd = hp.get("weight_decay", 0.0)
        less = f" − {wd:g}" if wd else ""
        if beta == 0:
            return Threshold(SHARPNESS, 2.0 / lr - wd, f"2/η{less}")
        if hp.get("nesterov"):
            return Threshold(SHARPNESS, (2 + 2 * beta) / ((1 + 2 * beta) * lr) - wd,
                             f"(2 + 2β)/((1 + 2β)·η){less}")
        if damp >= 1:
            return None
        d_text = "" if damp == 0 else f"(1 − {damp:g})·"
        return Threshold(SHARPNESS, (2 + 2 * beta) / ((1 - damp) * lr) - wd,
                         f"(2 + 2β)/({d_text}η){less}")
    if optimizer in PRECONDITIONERS and "betas" in hp:
        beta1 = hp["betas"][0]
        return Threshold(PRECONDITIONED, (2 + 2 * beta1) / ((1 - beta1) * lr),
                         "(2 + 2β₁)/((1 − β₁)·η)")
    return None


def stable_lr_limit(optimizer: str, hp: Mapping[str, Any], sharpness: float) -> float | None:
    """The largest learning rate at which gradient descent or heavy-ball momentum (``sgd``,
    no weight decay considered) is stable on a quadratic of this ``sharpness``: the lr
    where ``stability_threshold`` equals it. None for other optimizers or sharpness <= 0."""
    if optimizer != "sgd" or not sharpness > 0:
        return None
    at_one = stability_threshold(optimizer, 1.0, {**hp, "weight_decay": 0.0})
    return None if at_one is None else at_one.value / sharpness


# -- the columns of a run ------------------------------------------------------------------------
class CurvatureColumns:
    """The curvature columns of one run (``gdviz run --curvature``, the Curvature view).
    ``names`` are the column names; ``row(params, state)`` their values at the parameters (p,)
    and optimizer state after a step (floats, NaN where undefined); ``table`` the same for
    many steps at once; ``needs_states`` says whether the states matter (a preconditioner)."""

    def __init__(self, problem: Problem, optimizer: str, hp: Mapping[str, Any]) -> None:
        require_hessian(problem)
        self.problem = problem
        self.hp = hp
        self._preconditioner = PRECONDITIONERS.get(optimizer)
        self.names: tuple[str, ...] = (SHARPNESS, LAMBDA_MIN) + (
            (PRECONDITIONED,) if self._preconditioner else ())
        self.needs_states = self._preconditioner is not None

    def prepare(self) -> None:
        """Derive the Hessian now if the problem derives it on first use (a formula, up to a
        few seconds), so that its errors come before any row (the command line)."""
        if self.problem.has_hessian:
            with np.errstate(all="ignore"):
                self.problem.hessian(np.asarray(self.problem.default_init, dtype=np.float64))

    def row(self, params: np.ndarray, state: Mapping[str, Any]) -> tuple[float, ...]:
        """The columns at one step: params (p,), the optimizer state after it."""
        return tuple(float(v) for v in self.table(np.asarray(params)[None], [state])[0])

    def table(self, params: np.ndarray, states=None) -> np.ndarray:
        """The columns for m steps at once: params (m, p), states m mappings (only when
        ``needs_states``) -> (m, len(names)); vectorised over the steps of a block (blocks
        of ``_BLOCK_NUMBERS`` numbers)."""
        p = self.problem.n_params
        params = np.asarray(params, dtype=np.float64).reshape(-1, p)
        out = np.full((len(params), len(self.names)), np.nan)
        width = p if self.problem.has_hessian else min(p, MAX_STEPS)
        block = max(1, _BLOCK_NUMBERS // (p * width))
        for start in range(0, len(params), block):
            stop = start + block
            out[start:stop] = self._block(params[start:stop],
                                          states[start:stop] if self.needs_states else None)
        return out

    def _block(self, params: np.ndarray, states) -> np.ndarray:
        """``table`` for one block of steps: params (m, p) -> (m, len(names))."""
        out = np.full((len(params), len(self.names)), np.nan)
        if not len(params):
            return out
        scale = usable = None
        if self.needs_states:
            diagonals = np.full(params.shape, np.nan)
            for i, state in enumerate(states):
                diagonal = self._preconditioner(state, self.hp)
                if diagonal is not None:
                    diagonals[i] = diagonal
            usable = np.all(np.isfinite(diagonals) & (diagonals > 0), axis=1)
            scale = 1.0 / np.sqrt(np.where(usable[:, None], diagonals, 1.0))
        with np.errstate(all="ignore"):
            if not self.problem.has_hessian:   # Lanczos on Hessian-vector products
                out[:, :2] = hessian_extremes(self.problem, params)[:, ::-1]
                if self.needs_states and usable.any():
                    rows = np.flatnonzero(usable)
                    _, high = extreme_eigenvalues(
                        _products(self.problem, params[rows], scale[rows]), len(rows),
                        self.problem.n_params)
                    out[rows, 2] = high
                return out
            safe, finite = _finite_hessians(self.problem, params)
            values = np.linalg.eigvalsh(safe)
            out[:, 0], out[:, 1] = values[:, -1], values[:, 0]
            if self.needs_states:
                scaled = safe * scale[:, :, None] * scale[:, None, :]
                out[:, 2] = np.where(usable, np.linalg.eigvalsh(scaled)[:, -1], np.nan)
            out[~finite] = np.nan
        return out


def replay_states(optimizer: str, hp: Mapping[str, Any], state: Mapping[str, Any],
                  params_before: np.ndarray, grads: np.ndarray, lrs: np.ndarray) -> list:
    """The optimizer states after each of m recorded steps, recomputed from what a history
    keeps: the state before the first of them, and per step the parameters before it (m, p),
    the gradient it used (m, p) and its learning rate (m,). ``optimizers.step`` does the work,
    so the states are the run's own, bit for bit (a history stores only the newest state).
    Not for optimizers that need more than the gradient (Newton's Hessian: it has no
    preconditioner anyway)."""
    from gdviz.core import optimizers

    states = []
    with np.errstate(all="ignore"):
        for before, grad, lr in zip(params_before, grads, lrs):
            _, state = optimizers.step(optimizer, before, grad, state, float(lr), hp)
            states.append(state)
    return states


def curvature_ellipse(hessian: np.ndarray, center: np.ndarray, radius: float,
                      points: int = 72) -> tuple[np.ndarray, np.ndarray]:
    """The picture of a 2×2 Hessian at ``center`` (2,) on a map: (ellipse (points + 1, 2),
    axes (4, 2): two segments through the center along the eigenvectors).

    The ellipse is a level set of the local quadratic model ½·dᵀHd, so its semi-axes are
    ∝ 1/√λ along the eigenvectors, scaled so the longest is ``radius`` (map units). A
    direction of non-positive curvature has no bounded level set: its axis is drawn
    ``radius`` long and the ellipse is empty (a saddle or a ridge). A non-finite Hessian gives
    two empty arrays."""
    hessian = np.asarray(hessian, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64)
    if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(center))):
        return np.zeros((0, 2)), np.zeros((0, 2))
    values, vectors = np.linalg.eigh(hessian)
    positive = values > 0
    half = np.full(2, radius)
    if positive.any():
        inverse_root = 1.0 / np.sqrt(values[positive])
        half[positive] = radius * inverse_root / inverse_root.max()
    ends = vectors * half           # column m: the m-th semi-axis
    axes = np.array([center - ends[:, 0], center + ends[:, 0],
                     center - ends[:, 1], center + ends[:, 1]])
    if not positive.all():
        return np.zeros((0, 2)), axes
    angle = np.linspace(0.0, 2.0 * np.pi, points + 1)
    ellipse = center + np.outer(np.cos(angle), ends[:, 0]) + np.outer(np.sin(angle), ends[:, 1])
    return ellipse, axes
