"""Gradient descent and heavy-ball momentum on a quadratic, predicted from the Hessian's
eigenvalues and measured on a run (the window's Quadratic theory view, ``gdviz theory``).

On a loss with a constant Hessian H (``Problem.constant_hessian``: bowl, linreg, slope, the
quadratic test functions and formulas quadratic in their parameters) the gradient is
H·(θ − θ*), so in the eigenbasis H = V·diag(λ)·Vᵀ every direction evolves on its own: the
error along direction i is eᵢ = vᵢ·(θ − θ*).

torch's SGD with momentum β, dampening d, Nesterov off, is

    v ← β·v + (1 − d)·g   (v = g at the first step),   θ ← θ − η·v,

which with d = 0 is Polyak's heavy ball θₜ₊₁ = θₜ − η·gₜ + β·(θₜ − θₜ₋₁) with step η: the
momentum of Goh's "Why Momentum Really Works" (Distill, 2017; z ← βz + ∇f, w ← w − αz). Along
direction i the state (eᵢ, vᵢ) moves by the 2×2 iteration matrix

    heavy ball  M = [[1 − η(1 − d)λ, −ηβ], [(1 − d)λ, β]]
    Nesterov    M = [[1 − ηλ(1 + β(1 − d)), −ηβ²], [(1 − d)λ, β]]   (g + βv is the step)

after a first step [[1 − ηλ(1 + β·nesterov), 0], [λ, 0]] (torch's buffer starts at g, not
dampened). Gradient descent is β = 0, where M's eigenvalues are 1 − ηλ and 0. The error
contracts per step by the spectral radius ρ(M), the largest |root| of z² − tr(M)·z + det(M);
the *predicted rate* of a run is the largest ρ over the directions it has error along. With
the optimal η and β on κ = λmax/λmin it is (κ − 1)/(κ + 1) for GD and (√κ − 1)/(√κ + 1) with
momentum. Weight decay wd adds wd·θ to the gradient: the loss's H + wd·I and its minimum.

The *measured rate* of a run is the factor per step of ‖e‖ (peak to peak, see
``measured_rate``) over the second half of the steps whose error is above the rounding floor
of θ* (at momentum's optimum a double root makes the error ~ t·ρᵗ: over the second half of
300 steps that reads 0.5 % above ρ).
The predictions assume full-batch steps at a constant learning rate; a mini-batch run scatters
around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig

#: eigen-directions with |λ| below this fraction of the largest |λ| are flat: gradient descent
#: never moves along them (the minimum chosen is the one nearest the start point)
FLAT = 1e-12
#: errors below this fraction of ‖θ*‖ (and of ‖θ₀ − θ*‖ when θ* is solved for, not known) are
#: rounding, not dynamics
ERROR_FLOOR = 1e-12

NOT_QUADRATIC = ("the theory needs a quadratic loss (a Hessian that is the same everywhere: "
                 "bowl, linreg, slope, quadratic, booth, matyas, saddle or a formula quadratic "
                 "in its parameters)")


@dataclass(frozen=True)
class Quadratic:
    """A quadratic loss: ``hessian`` (p, p), ``minimum`` θ* (p,) (its stationary point nearest
    the start), ``eigenvalues`` (p,) ascending and ``eigenvectors`` (p, p), one per column;
    ``error_floor``: errors below it are θ*'s rounding (parameter units)."""

    hessian: np.ndarray
    minimum: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    error_floor: float

    def errors(self, params: np.ndarray) -> np.ndarray:
        """The error along each eigen-direction, (params − θ*)·V: (..., p) -> (..., p)."""
        return (np.asarray(params, dtype=np.float64) - self.minimum) @ self.eigenvectors

    @property
    def condition_number(self) -> float:
        """λmax / λmin over the curved directions (inf with a non-positive λmin)."""
        curved = self.eigenvalues[np.abs(self.eigenvalues) > FLAT * _scale(self.eigenvalues)]
        if curved.size == 0 or curved[0] <= 0:
            return float("inf")
        return float(curved[-1] / curved[0])


def _scale(eigenvalues: np.ndarray) -> float:
    return float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0


def quadratic_of(problem: Problem, start: np.ndarray,
                 weight_decay: float = 0.0) -> Quadratic | str:
    """The quadratic of ``problem`` (plus ``weight_decay``/2·‖θ‖², as torch's SGD adds wd·θ
    to the gradient) seen from ``start`` (p,), or a sentence saying why there is none."""
    hessian = problem.constant_hessian()
    if hessian is None:
        return f"problem {problem.name!r} is not quadratic: {NOT_QUADRATIC}"
    start = np.asarray(start, dtype=np.float64)
    hessian = np.array(hessian, dtype=np.float64) + weight_decay * np.eye(len(start))
    with np.errstate(all="ignore"):
        gradient = problem.grad(start) + weight_decay * start
    if not np.all(np.isfinite(gradient)):
        return "the gradient at the start point is not finite"
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    along = eigenvectors.T @ gradient
    flat = np.abs(eigenvalues) <= FLAT * max(_scale(eigenvalues), np.finfo(float).tiny)
    if np.any(np.abs(along[flat]) > 1e-9 * max(1.0, float(np.linalg.norm(gradient)))):
        return "the loss has no minimum: it falls forever along a flat direction"
    step = np.where(flat, 0.0, along / np.where(flat, 1.0, eigenvalues))
    minimum = start - eigenvectors @ step
    floor = ERROR_FLOOR * max(float(np.linalg.norm(minimum)), float(np.linalg.norm(step)))
    known = _known_minimum(problem, gradient) if weight_decay == 0 and not flat.any() else None
    if known is not None:   # exact (the quadratic's origin): errors measurable to underflow
        minimum, floor = known, ERROR_FLOOR * float(np.linalg.norm(known))
    return Quadratic(hessian, minimum, eigenvalues, eigenvectors, floor)


def _known_minimum(problem: Problem, gradient_at_start: np.ndarray) -> np.ndarray | None:
    """The problem's first known minimum (p,) when its gradient is zero to rounding."""
    if not problem.minima:
        return None
    known = np.array(problem.minima[0].params, dtype=np.float64)
    with np.errstate(all="ignore"):
        there = float(np.linalg.norm(problem.grad(known)))
    return known if there <= 1e-9 * float(np.linalg.norm(gradient_at_start)) else None


# -- the dynamics --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dynamics:
    """torch's SGD on a quadratic: learning rate η, ``momentum`` β, ``dampening`` d and
    ``nesterov`` (see the module docstring). β = 0 is plain gradient descent."""

    lr: float
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False

    @property
    def name(self) -> str:
        if self.momentum == 0:
            return "gradient descent"
        return "Nesterov momentum" if self.nesterov else "heavy-ball momentum"


def dynamics_of(config: RunConfig) -> Dynamics | str:
    """The dynamics of ``config``'s run, or a sentence saying why the theory does not apply
    (another optimizer, a schedule, maximize)."""
    if config.optimizer != "sgd":
        return (f"no prediction for {config.optimizer}: the theory covers gradient descent and "
                "heavy-ball momentum (optimizer sgd)")
    hp = config.hyperparams
    if config.schedule != "constant":
        return f"no prediction: the theory assumes a constant learning rate, not {config.schedule}"
    if hp.get("maximize"):
        return "no prediction: the run maximizes the loss"
    beta = float(hp.get("momentum", 0.0))
    if beta == 0:
        return Dynamics(float(config.lr))
    return Dynamics(float(config.lr), beta, float(hp.get("dampening", 0.0)),
                    bool(hp.get("nesterov", False)))


def _trace_det(eigenvalues, lr, momentum, dampening=0.0, nesterov=False):
    """tr(M) and det(M) of the iteration matrix, broadcast over the arguments' shapes."""
    effective = (1.0 - dampening) * lr * eigenvalues
    if nesterov:
        diagonal = 1.0 - lr * eigenvalues - momentum * effective
        return diagonal + momentum, momentum * (1.0 - lr * eigenvalues)
    return 1.0 - effective + momentum, momentum * np.ones_like(effective)


def spectral_radius(eigenvalues, lr, momentum=0.0, dampening: float = 0.0,
                    nesterov: bool = False) -> np.ndarray:
    """ρ(M), the asymptotic factor per step of the error along an eigen-direction, for every
    combination of the broadcast arguments ``eigenvalues`` (λ, 1/param² units), ``lr`` (η)
    and ``momentum`` (β): |1 − ηλ| for gradient descent."""
    tr, det = _trace_det(np.asarray(eigenvalues, dtype=np.float64),
                         np.asarray(lr, dtype=np.float64),
                         np.asarray(momentum, dtype=np.float64), dampening, nesterov)
    root = np.sqrt((tr * tr - 4.0 * det).astype(np.complex128))
    return np.maximum(np.abs(tr + root), np.abs(tr - root)) / 2.0


def curved(quadratic: Quadratic) -> np.ndarray:
    """The eigenvalues (k,) of the directions that are not flat (their errors move)."""
    lam = quadratic.eigenvalues
    return lam[np.abs(lam) > FLAT * max(_scale(lam), np.finfo(float).tiny)]


def predicted_rate(quadratic: Quadratic, dynamics: Dynamics) -> float:
    """The run's predicted rate: the largest ρ(M) over the curved directions."""
    lam = curved(quadratic)
    if lam.size == 0:
        return 0.0
    return float(np.max(spectral_radius(lam, dynamics.lr, dynamics.momentum,
                                        dynamics.dampening, dynamics.nesterov)))


def rate_grid(eigenvalues: np.ndarray, lrs: np.ndarray, momenta: np.ndarray,
              dampening: float = 0.0, nesterov: bool = False) -> np.ndarray:
    """The predicted rate over the (lr, momentum) plane: lrs (m,), momenta (k,) -> (k, m), the
    largest ρ over ``eigenvalues`` (q,) at each point (Distill's phase diagram)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    rho = spectral_radius(lam[None, None, :], np.asarray(lrs)[None, :, None],
                          np.asarray(momenta)[:, None, None], dampening, nesterov)
    return rho.max(axis=-1) if lam.size else np.zeros((len(momenta), len(lrs)))


#: the phase plane's lr axis ends at LR_ROOM / λmax: heavy ball is stable up to (2 + 2β)/λmax,
#: so up to 4/λmax as β → 1
LR_ROOM = 4.4
PLANE_POINTS = (241, 201)   # (learning rates, momenta) of the phase plane's grid


@dataclass(frozen=True)
class PhasePlane:
    """The (lr, momentum) plane of a quadratic: ``lrs`` (m,), ``momenta`` (k,) and the
    predicted ``rates`` (k, m) of torch's SGD at every point (``rate_grid``)."""

    lrs: np.ndarray
    momenta: np.ndarray
    rates: np.ndarray


def phase_plane(quadratic: Quadratic, runs: tuple[Dynamics, ...] = (),
                dampening: float = 0.0, nesterov: bool = False,
                points: tuple[int, int] = PLANE_POINTS) -> PhasePlane | None:
    """The plane from lr 0 to LR_ROOM/λmax (widened to hold every run in ``runs``) and
    momentum 0 to 1 (or beyond the largest run's), with ``points`` (m, k) grid points; None
    when the loss is flat."""
    lam = curved(quadratic)
    if lam.size == 0:
        return None
    lr_hi = max([LR_ROOM / float(np.max(np.abs(lam)))] + [1.1 * d.lr for d in runs])
    beta_hi = max([1.0] + [1.05 * d.momentum for d in runs])
    lrs = np.linspace(0.0, lr_hi, points[0])
    momenta = np.linspace(0.0, beta_hi, points[1])
    return PhasePlane(lrs, momenta, rate_grid(lam, lrs, momenta, dampening, nesterov))


def best_settings(quadratic: Quadratic) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """((lr, rate) of gradient descent, (lr, momentum) of heavy ball) at their optimum for the
    curved eigenvalues' extremes (Goh 2017), or None unless the quadratic is convex."""
    lam = curved(quadratic)
    if lam.size == 0 or lam[0] <= 0:
        return None
    low, high = float(lam[0]), float(lam[-1])
    gd_lr = 2.0 / (low + high)
    root_low, root_high = np.sqrt(low), np.sqrt(high)
    return ((gd_lr, (high - low) / (high + low)),
            (4.0 / (root_low + root_high) ** 2,
             ((root_high - root_low) / (root_high + root_low)) ** 2))


# -- predicted and measured errors --------------------------------------------------------------
def _matrices(lam: np.ndarray, dyn: Dynamics) -> tuple[np.ndarray, np.ndarray]:
    """(first-step matrix, iteration matrix), each (p, 2, 2), on the state (e, v)."""
    eta, beta, damp = dyn.lr, dyn.momentum, dyn.dampening
    zero = np.zeros_like(lam)
    first = np.stack([np.stack([1.0 - eta * lam * (1.0 + (beta if dyn.nesterov else 0.0)),
                                zero], -1),
                      np.stack([lam, zero], -1)], -2)
    if beta == 0:
        return first, first
    if dyn.nesterov:
        top = [1.0 - eta * lam * (1.0 + beta * (1.0 - damp)), zero - eta * beta * beta]
    else:
        top = [1.0 - eta * (1.0 - damp) * lam, zero - eta * beta]
    rest = np.stack([np.stack(top, -1), np.stack([(1.0 - damp) * lam, zero + beta], -1)], -2)
    return first, rest


def predicted_errors(quadratic: Quadratic, dynamics: Dynamics, start: np.ndarray,
                     steps: np.ndarray) -> np.ndarray:
    """The error along each eigen-direction after each of ``steps`` (t,) int steps from
    ``start`` (p,) (step 0 = the start): -> (t, p). M^(s − 1) by repeated squaring, every
    step at once (log₂ of the last step matrix products)."""
    steps = np.asarray(steps, dtype=np.int64)
    lam = quadratic.eigenvalues
    first, rest = _matrices(lam, dynamics)
    e0 = quadratic.errors(start)
    after_first = first[..., 0] * e0[:, None]                      # (p, 2): state after step 1
    power = np.broadcast_to(np.eye(2), (len(steps), len(lam), 2, 2)).copy()
    base = rest.copy()
    exponent = np.maximum(steps - 1, 0)
    with np.errstate(all="ignore"):
        while np.any(exponent):
            odd = (exponent & 1).astype(bool)
            power[odd] = power[odd] @ base
            exponent >>= 1
            base = base @ base
        state = np.einsum("tpij,pj->tpi", power, after_first)
    return np.where((steps > 0)[:, None], state[..., 0], e0[None, :])


class PredictionTable:
    """The predicted errors of every step 0..n−1 of one run, kept and extended as n grows (the
    window's view asks for them on every refresh): the states after steps 1..L known, the
    next ones are M^L times the first ones, one batched product per doubling, so reaching n
    costs O(n) in all. ``errors(n)`` -> (n, p), a read-only view."""

    def __init__(self, quadratic: Quadratic, dynamics: Dynamics, start: np.ndarray) -> None:
        first, self._rest = _matrices(quadratic.eigenvalues, dynamics)
        e0 = quadratic.errors(start)
        self._states = (first[..., 0] * e0[:, None])[None]        # (L, p, 2): after 1..L
        self._errors = np.concatenate([e0[None], self._states[:, :, 0]])
        self._errors.setflags(write=False)

    def errors(self, n: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            while len(self._errors) < n:
                have = len(self._states)
                m = min(have, n - 1 - have)
                power = np.linalg.matrix_power(self._rest, have)   # (p, 2, 2)
                new = np.einsum("pij,tpj->tpi", power, self._states[:m])
                self._states = np.concatenate([self._states, new])
                self._errors = np.concatenate([self._errors, new[:, :, 0]])
                self._errors.setflags(write=False)
        return self._errors[:n]


def measured_rate(errors: np.ndarray, quadratic: Quadratic) -> float | None:
    """The measured rate of a run from its errors (n, p) at steps 0..n−1: the factor per step
    of ‖e‖'s envelope over the second half of the steps before ‖e‖ reaches the rounding floor
    (or stops being finite): (‖e‖ at j₂ / ‖e‖ at j₁)^(1/(j₂ − j₁)), j₁ and j₂ the steps of the
    largest ‖e‖ in that half's first and second halves (peak to peak: momentum's error
    oscillates). None with fewer than 4 such steps."""
    norms = np.linalg.norm(np.asarray(errors, dtype=np.float64), axis=-1)
    if norms.size == 0 or not np.isfinite(norms[0]):
        return None
    good = np.isfinite(norms) & (norms > max(quadratic.error_floor, np.finfo(float).tiny))
    last = int(np.argmin(good)) - 1 if not good.all() else len(norms) - 1
    if last < 4:
        return None
    half = last // 2
    middle = (half + last + 1) // 2
    first = half + int(np.argmax(norms[half:middle]))
    second = middle + int(np.argmax(norms[middle:last + 1]))
    return float((norms[second] / norms[first]) ** (1.0 / (second - first)))


@dataclass(frozen=True)
class RunTheory:
    """The theory of one run: its ``quadratic``, its ``dynamics`` (or the sentence why there
    is no prediction), the start point (p,) and the predicted rate (None without dynamics)."""

    quadratic: Quadratic
    dynamics: Dynamics | str
    start: np.ndarray
    rate: float | None

    def predicted(self, steps: np.ndarray) -> np.ndarray | None:
        """Predicted errors (t, p) at ``steps`` (t,), or None without dynamics."""
        if isinstance(self.dynamics, str):
            return None
        return predicted_errors(self.quadratic, self.dynamics, self.start, steps)

    def prediction_table(self) -> PredictionTable | None:
        """A growing table of the predicted errors of every step, or None without dynamics."""
        if isinstance(self.dynamics, str):
            return None
        return PredictionTable(self.quadratic, self.dynamics, self.start)


def run_theory(config: RunConfig, problem: Problem | None = None) -> RunTheory | str:
    """The theory of ``config``'s run (``problem``: its problem, if already built), or the
    sentence saying why its loss is not a quadratic."""
    problem = config.make_problem() if problem is None else problem
    start = config.start_point()
    decay = float(config.hyperparams.get("weight_decay", 0.0)) if config.optimizer == "sgd" \
        else 0.0
    quadratic = quadratic_of(problem, start, decay)
    if isinstance(quadratic, str):
        return quadratic
    dynamics = dynamics_of(config)
    rate = None if isinstance(dynamics, str) else predicted_rate(quadratic, dynamics)
    return RunTheory(quadratic, dynamics, start, rate)
