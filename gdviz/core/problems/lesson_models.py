"""The models and losses of the five lessons, as vectorised Problem kernels.

Every kernel takes params of shape (..., p) (one point, a list of points or a 2-D grid of
points), selected samples x of shape (k, d) and targets y of shape (k,) (or None), and returns
per-sample losses of shape (..., k) or per-sample gradients of shape (..., k, p). Parameters,
data and losses are plain numbers without units.

Overflow and invalid operations are silenced inside the kernels: a diverging run (the lesson's
"lr 5 diverges") must produce inf/NaN losses quietly, for the runner to report.

The data generation and the registry entries live in ``lessons.py``; this module only computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.problems.base import Minimum, Problem, read_only

# Beyond |y| = 40, exp(-y^2) underflows to exactly 0 in float64, so the wavy loss and its slope
# are exactly 0 there; clipping keeps y^3 from overflowing into inf * 0 = NaN for huge w.
_WAVY_CLIP = 40.0
# Hessians of many points at once (the Curvature view: a whole history) sum the samples' outer
# products with one matrix product when the k outer products take at most this many floats
# (8 MB): logistic, 500 samples, 2001 points, 122 ms instead of einsum's 219 ms (best of 5)
_OUTER_CELLS = 1_000_000


# -- the wavy lesson's 1-D curve ------------------------------------------------------------------
def _clip(y: np.ndarray) -> np.ndarray:
    """np.clip(y, -40, 40) (NaN stays NaN) in two ufunc calls: np.clip's Python wrapper took
    ~3 µs of a ~45 µs wavy step, three times a step. A scalar (SGD with batch 1) is compared
    in Python, ~4x faster than a ufunc on a scalar: the same value (one of the inputs; NaN
    and -0.0 kept, as np.maximum/np.minimum keep them)."""
    if type(y) is np.float64:
        return min(max(y, -_WAVY_CLIP), _WAVY_CLIP)
    return np.minimum(np.maximum(y, -_WAVY_CLIP), _WAVY_CLIP)


def wavy_curve(y: np.ndarray) -> np.ndarray:
    """The per-sample loss of the wavy lesson, L(y) = (-y^2 + y^3) * exp(-y^2), elementwise."""
    y = _clip(y)
    # (-y)·y = -(y·y) exactly, so each repeated product is computed once (same numbers)
    y2 = y * y
    minus_y2 = -y2
    return (minus_y2 + y2 * y) * np.exp(minus_y2)


def wavy_slope(y: np.ndarray) -> np.ndarray:
    """dL/dy = (-2y + 3y^2) e^(-y^2) + (-y^2 + y^3)(-2y) e^(-y^2), elementwise."""
    y = _clip(y)
    # the products of the formula above, each computed once (same numbers, 13 numpy calls
    # instead of 19: a third of a wavy step's time was this function)
    y2 = y * y
    minus_y2 = -y2
    e = np.exp(minus_y2)
    minus_2y = -2.0 * y
    return (minus_2y + 3.0 * y * y) * e + (minus_y2 + y2 * y) * minus_2y * e


def wavy_curvature(y: np.ndarray) -> np.ndarray:
    """d²L/dy² = (-2 + 6y + 10y² - 14y³ - 4y⁴ + 4y⁵) e^(-y²), elementwise."""
    y = np.clip(y, -_WAVY_CLIP, _WAVY_CLIP)
    poly = -2.0 + y * (6.0 + y * (10.0 + y * (-14.0 + y * (-4.0 + y * 4.0))))
    return poly * np.exp(-y * y)


def wavy_critical_points() -> np.ndarray:
    """The y where dL/dy = 0: y = 0 and the three real roots of 2y^3 - 2y^2 - 3y + 2.

    dL/dy = -y (2y^3 - 2y^2 - 3y + 2) e^(-y^2), so these are exact up to rounding.
    """
    roots = np.roots([2.0, -2.0, -3.0, 2.0])
    return np.sort(np.concatenate([[0.0], roots.real[np.abs(roots.imag) < 1e-12]]))


def wavy_curve_minimum(lo: float = -np.inf, hi: float = np.inf) -> tuple[float, float]:
    """(y*, L(y*)): the minimum of L(y) over lo <= y <= hi, from the critical points and ends.

    Over all y it is y* ~ -1.1246 with L ~ -0.7586, the global minimum of every per-sample
    curve and of the lesson's 3-D (x, w) surface.
    """
    candidates = [y for y in wavy_critical_points() if lo <= y <= hi]
    candidates += [v for v in (lo, hi) if np.isfinite(v)]
    values = wavy_curve(np.array(candidates, dtype=np.float64))
    best = int(np.argmin(values))
    return float(candidates[best]), float(values[best])


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow for large |z| (only e^-|z| is ever computed)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _affine(params: np.ndarray, x: np.ndarray, bias: bool) -> np.ndarray:
    """x·w (+ b): params (..., d[+1]), x (k, d) -> (..., k). The bias, if any, is last.

    Per-member data, x (..., k, d) with the leading dimensions of params (the ensemble's K
    batches): one matrix-vector product per member, each the very BLAS call a single point
    makes ((d,) @ (d, k)), so member m's numbers equal its own call's bit for bit. One
    (K, d) @ (d, k) product would not: BLAS rounds it differently (256 of 256 rows differed).
    """
    d = x.shape[-1]
    if x.ndim == 2:
        z = np.matmul(params[..., :d], x.T)
    else:
        z = np.matmul(params[..., None, :d], np.swapaxes(x, -1, -2))[..., 0, :]
    if bias:
        z = z + params[..., d, None]
    return z


def _outer_sum(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Σ_i weights[..., i] · f_i f_iᵀ: weights (..., k), features (k, q) -> (..., q, q),
    exactly symmetric (einsum's sums for (i, j) and (j, i) can round differently)."""
    k, q = features.shape
    lead = weights.shape[:-1]
    if k * q * q <= _OUTER_CELLS:   # one BLAS product with the k outer products
        outer = (features[:, :, None] * features[:, None, :]).reshape(k, q * q)
        summed = np.matmul(weights.reshape(-1, k), outer).reshape(lead + (q, q))
    else:                           # no (k, q, q) temporary for a big CSV
        summed = np.einsum("...k,ki,kj->...ij", weights, features, features)
    return 0.5 * (summed + np.swapaxes(summed, -1, -2))


def _times_features(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """c[..., None] * [x, 1]: c (..., k), x (k, d) or (..., k, d) -> (..., k, d + 1), the
    last column c itself (c·1 is c exactly), without building [x, 1] (a concatenate of
    ones took a third of linreg's gradient for 256 ensemble members)."""
    d = x.shape[-1]
    out = np.empty(np.broadcast_shapes(c.shape, x.shape[:-1]) + (d + 1,))
    np.multiply(c[..., None], x, out=out[..., :d])
    out[..., d] = c
    return out


def _sum_last(a: np.ndarray) -> np.ndarray:
    """a[..., 0] + a[..., 1] + ... left to right: (..., q) -> (...). Elementwise adds (a
    reduction along a length-3 axis cost ~10x more for 256 points at once)."""
    total = a[..., 0]
    for j in range(1, a.shape[-1]):
        total = total + a[..., j]
    return total


def _with_ones(x: np.ndarray) -> np.ndarray:
    """(..., k, d) -> (..., k, d + 1): the bias trick's column of ones appended."""
    return np.concatenate([x, np.ones((*x.shape[:-1], 1))], axis=-1)


# -- the problems --------------------------------------------------------------------------------
class LessonProblem(Problem):
    """A Problem built from ready data. Subclasses only implement the kernels and ``predict``.

    Besides the base attributes, ``data_columns`` holds the column names of the data (features,
    then the target; from the CSV header or generated, e.g. ``("x1", "x2", "y")``) and
    ``description`` a paragraph on this instance (e.g. naming its CSV file).
    """

    def __init__(self, *, name: str, title: str, param_names: tuple[str, ...],
                 data_x: Any, data_y: Any | None, default_init: Any, view_range: Any,
                 settings: Mapping[str, Any], reduction: str = "mean",
                 true_params: Any | None = None, minima: tuple[Minimum, ...] = (),
                 extras: Mapping[str, Any] | None = None,
                 loss_range: tuple[float, float] | None = None,
                 data_columns: tuple[str, ...] = (), description: str = "") -> None:
        self.param_names = tuple(param_names)
        super().__init__()
        self.name = name
        self.title = title
        self.reduction = reduction
        self.data_x = read_only(data_x)
        self.data_y = None if data_y is None else read_only(data_y)
        self.default_init = read_only(default_init)
        self.view_range = read_only(view_range)
        self.settings = MappingProxyType(dict(settings))
        self.true_params = None if true_params is None else read_only(true_params)
        self.minima = tuple(minima)
        self.extras = MappingProxyType({k: read_only(v) for k, v in (extras or {}).items()})
        self.loss_range = loss_range
        self.data_columns = tuple(data_columns)
        self.description = description
        p = len(self.param_names)
        if self.default_init.shape != (p,) or self.view_range.shape != (p, 2):
            raise ValueError(f"{name}: default_init must have shape ({p},) and view_range "
                             f"({p}, 2), got {self.default_init.shape} and {self.view_range.shape}")


class WavyProblem(LessonProblem):
    """Lesson 1: y = w·x with the per-sample loss L(w·x); no targets (data_y is None).

    ``surface_minimum`` (float) is the lowest value of the per-sample loss over the (x, w)
    rectangle spanned by the data range and the view range (~ -0.76 for the lesson), for the
    title of the 3-D surface; ``surface_argmin_y`` is the y = w·x where it is reached.
    """

    surface_minimum: float = float("nan")
    surface_argmin_y: float = float("nan")

    # elementwise kernels: K members' batches in one call round as K separate calls
    elementwise_kernels = member_kernels = True

    def _sample_losses(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            return wavy_curve(params[..., 0, None] * x[..., 0])

    def _sample_grads(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            if params.shape == (1,) and x.shape == (1, 1):
                # one point, one sample (SGD with batch 1): the same operations on numpy
                # float64 scalars, which cost a third of a ufunc call on a (1,) array
                # (wavy_slope 2.1 µs instead of 5.2). Scalar arithmetic rounds as the array
                # loops do (IEEE), and np.exp of a scalar equals it of an array (tested)
                w, xi = params[0], x[0, 0]
                return np.array([[wavy_slope(w * xi) * xi]])
            g = wavy_slope(params[..., 0, None] * x[..., 0]) * x[..., 0]
        return g[..., None]

    def _hessian_sum(self, params, x, y):
        """Σ L''(w·x)·x² over the k samples: params (..., 1) -> (..., 1, 1)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return _outer_sum(wavy_curvature(params[..., 0, None] * x[:, 0]), x)

    def predict(self, params, x):
        """The model output y = w·x: params (..., 1), x (k, 1) -> (..., k)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(params, dtype=np.float64)[..., 0, None] * x[:, 0]


class LinearRegressionProblem(LessonProblem):
    """Lessons 2 and 5: ŷ = x·w + b (params w1..wd, then b), per-sample loss (ŷ - y)^2 / 2.

    The full loss is evaluated in closed form (``fast_loss``): the loss is quadratic, so with
    δ = θ − θ̂ it is exactly L(θ̂) + ḡ(θ̂)·δ + ½·δᵀHδ, where θ̂ is the least-squares solution
    (the start if there is none) and L(θ̂), ḡ(θ̂) are summed over the samples once. A few
    elementwise operations on (..., p) arrays instead of O(n·p) work: what makes 256 seeds of
    linreg (n = 1000) cheap. Near the minimum the terms after L(θ̂) are small, so the loss
    keeps its precision there (tests/core/test_lessons.py: the per-sample mean to 1e-12).
    """

    member_kernels = True
    fast_loss = True
    _expansion: tuple[np.ndarray, float, np.ndarray, np.ndarray] | None = None

    def _expansion_point(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        """(θ̂ (p,), L(θ̂), ḡ(θ̂) (p,), H (p, p)), computed once from the samples."""
        if self._expansion is None:
            solution = least_squares(self.data_x, self.data_y, bias=True)
            center = self.default_init if solution is None else solution
            self._expansion = (np.array(center, dtype=np.float64),
                               float(self.batch_loss(center)), self.batch_grad(center),
                               np.array(self.constant_hessian()))
        return self._expansion

    def loss(self, params):
        """The full loss (..., p) -> (...), in closed form (see the class). Elementwise
        operations only, so each point of a stack rounds as it alone."""
        center, loss0, grad0, hessian = self._expansion_point()
        with np.errstate(over="ignore", invalid="ignore"):
            delta = np.asarray(params, dtype=np.float64) - center
            terms = delta[..., None, :] * hessian          # H_ij·δ_j (..., p, p)
            curvature = _sum_last(terms)                   # Hδ (..., p)
            return loss0 + _sum_last(delta * (grad0 + 0.5 * curvature))

    def _sample_losses(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            r = _affine(params, x, bias=True) - y
            return 0.5 * r * r

    def _sample_grads(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            r = _affine(params, x, bias=True) - y
            return _times_features(r, x)

    def _hessian_sum(self, params, x, y):
        """Σ [x, 1][x, 1]ᵀ over the k samples (the same at every point): -> (..., d+1, d+1)."""
        once = _outer_sum(np.ones(x.shape[0]), _with_ones(x))
        return np.broadcast_to(once, params.shape[:-1] + once.shape).copy()

    def constant_hessian(self):
        """(1/n)·Σ aᵢaᵢᵀ with aᵢ = (xᵢ, 1): the loss is quadratic in (w, b)."""
        a = _with_ones(self.data_x)
        return read_only(a.T @ a / self.n_samples)

    def predict(self, params, x):
        """ŷ = x·w + b: params (..., d + 1), x (k, d) -> (..., k)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return _affine(np.asarray(params, dtype=np.float64), x, bias=True)


class SlopeProblem(LessonProblem):
    """Lesson 4: ŷ = w·x (no bias), per-sample loss (w·x - y)^2 / N with N the dataset size,
    so a one-point gradient is the lesson's (2/N)(w·x - y)·x."""

    # elementwise kernels: K members' batches in one call round as K separate calls
    elementwise_kernels = member_kernels = True

    def _sample_losses(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            r = params[..., 0, None] * x[..., 0] - y
            return r * r / self.n_samples

    def _sample_grads(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            r = params[..., 0, None] * x[..., 0] - y
            return (2.0 / self.n_samples * r * x[..., 0])[..., None]

    def constant_hessian(self):
        """(1/n)·Σ 2xᵢ²/N, (1, 1): the loss is quadratic in w."""
        x = self.data_x[:, 0]
        return read_only([[float(np.mean(2.0 * x * x / self.n_samples))]])

    def _hessian_sum(self, params, x, y):
        """Σ 2x²/N over the k samples (the same at every point): -> (..., 1, 1)."""
        once = _outer_sum(np.full(x.shape[0], 2.0 / self.n_samples), x)
        return np.broadcast_to(once, params.shape[:-1] + once.shape).copy()

    def predict(self, params, x):
        """ŷ = w·x: params (..., 1), x (k, 1) -> (..., k)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(params, dtype=np.float64)[..., 0, None] * x[:, 0]


class LogisticProblem(LessonProblem):
    """Lesson 3: p = σ(x·w + b) (bias trick: b is the last weight), per-sample loss
    (σ - y)^2 / 2 summed over the training set, gradient (σ - y)·σ·(1 - σ)·[x, 1]."""

    member_kernels = True

    def _sample_losses(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            r = stable_sigmoid(_affine(params, x, bias=True)) - y
            return 0.5 * r * r

    def _sample_grads(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            s = stable_sigmoid(_affine(params, x, bias=True))
            return _times_features((s - y) * s * (1.0 - s), x)

    def _hessian_sum(self, params, x, y):
        """Σ c_i [x_i, 1][x_i, 1]ᵀ with c = d²/dz² ½(σ(z) - y)² = σ'·(σ' + (σ - y)(1 - 2σ)),
        σ' = σ(1 - σ): params (..., d + 1) -> (..., d + 1, d + 1)."""
        with np.errstate(over="ignore", invalid="ignore"):
            s = stable_sigmoid(_affine(params, x, bias=True))
            slope = s * (1.0 - s)
            return _outer_sum(slope * (slope + (s - y) * (1.0 - 2.0 * s)), _with_ones(x))

    def predict(self, params, x):
        """The probability of class 1, σ(x·w + b): params (..., d + 1), x (k, d) -> (..., k)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return stable_sigmoid(_affine(np.asarray(params, dtype=np.float64), x, bias=True))


# -- helpers the factories use -------------------------------------------------------------------
def least_squares(x: np.ndarray, y: np.ndarray, bias: bool) -> np.ndarray | None:
    """The least-squares parameters (w1..wd[, b]) for x (n, d), y (n,), or None when they are
    not unique (fewer independent samples than parameters)."""
    a = _with_ones(x) if bias else x
    solution, _, rank, _ = np.linalg.lstsq(a, y, rcond=None)
    if rank < a.shape[1] or not np.all(np.isfinite(solution)):
        return None
    return solution


def frame(center: np.ndarray, *points: np.ndarray, pad: float = 1.3,
          floor: float = 1.0) -> np.ndarray:
    """A (p, 2) view range centred on ``center`` (p,) that contains every point (p,) with a
    margin: half-width = pad * the largest distance, at least ``floor`` (and a quarter of
    |center|, so a start on the solution still shows a bowl around it)."""
    center = np.asarray(center, dtype=np.float64)
    half = np.maximum(floor, 0.25 * np.abs(center))
    for point in points:
        half = np.maximum(half, pad * np.abs(np.asarray(point, dtype=np.float64) - center))
    return np.stack([center - half, center + half], axis=1)


def grid_minimum_1d(loss, lo: float, hi: float, points: int = 801,
                    max_block: int = 1_000_000, n_samples: int = 1) -> tuple[float, float]:
    """(w*, loss(w*)): the global minimum of a 1-parameter loss on [lo, hi].

    ``loss`` maps params (m, 1) -> (m,). A grid of ``points`` values (evaluated in blocks of at
    most ``max_block`` sample evaluations; ``n_samples`` per grid point) finds the lowest cell,
    then golden-section search refines it within its two neighbours.
    """
    grid = np.linspace(lo, hi, points)
    rows = max(1, max_block // max(1, n_samples))
    values = np.concatenate([loss(grid[i:i + rows, None]) for i in range(0, points, rows)])
    best = int(np.nanargmin(values))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, points - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def f(w: float) -> float:
        return float(loss(np.array([[w]]))[0])

    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    w = (a + b) / 2.0
    fw = f(w)
    if values[best] < fw:  # the refinement can only help; keep the grid point otherwise
        return float(grid[best]), float(values[best])
    return float(w), fw
