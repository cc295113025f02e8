"""The classic 2-D optimizer benchmark functions: formulas, hand-derived gradients, minima.

Every loss here is a plain numpy function ``f(x, y, s)``, every gradient
``g(x, y, s) -> (df/dx, df/dy)`` and every Hessian ``h(x, y, s) -> (d²f/dx², d²f/dxdy,
d²f/dy²)`` (all derived by hand, checked against finite differences in the tests), where
``x`` and ``y`` are float64 arrays of one common (broadcast) shape ``(...)`` and ``s`` is the
validated settings mapping (the constants ``a``, ``b``, ``A``, ... of the functions that have
them). Results have shape ``(...)``, so the same
code evaluates one point, a path or a 256 x 256 contour grid.

:mod:`gdviz.core.problems.analytic` wraps each :class:`FunctionDef` in a Problem and
registers it. Minima are literature values, refined by Newton's method to float64 precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.problems.base import Minimum, SettingSpec

Settings = Mapping[str, Any]
Range = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class FunctionDef:
    """One benchmark function.

    ``loss(x, y, s)``: arrays (...) -> (...). ``grad(x, y, s)``: -> (d/dx (...), d/dy (...)).
    ``hess(x, y, s)``: -> (d²/dx² (...), d²/dxdy (...), d²/dy² (...)).
    ``view(s)``: ((x_lo, x_hi), (y_lo, y_hi)). ``minima(s)``: every known minimum.
    ``constants``: the function's own settings (``grad_noise`` is added for all functions).
    ``quadratic``: True when f is a quadratic polynomial, so its Hessian is the same everywhere
    (``Problem.constant_hessian``; core.quadratic_theory predicts gradient descent on it).
    """

    name: str
    title: str
    description: str
    loss: Callable[[np.ndarray, np.ndarray, Settings], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray, Settings], tuple[np.ndarray, np.ndarray]]
    start: tuple[float, float]
    view: Callable[[Settings], Range]
    minima: Callable[[Settings], tuple[Minimum, ...]]
    constants: tuple[SettingSpec, ...] = ()
    hess: Callable[[np.ndarray, np.ndarray, Settings],
                   tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
    quadratic: bool = False


def _fixed(value: Any) -> Callable[[Settings], Any]:
    """A settings-independent view range or minima list."""
    return lambda s: value


# -- Rosenbrock ------------------------------------------------------------------------------
def _rosenbrock(x, y, s):
    a, b = s["a"], s["b"]
    return (a - x) ** 2 + b * (y - x * x) ** 2


def _rosenbrock_grad(x, y, s):
    a, b = s["a"], s["b"]
    r = y - x * x
    return -2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r


def _rosenbrock_hess(x, y, s):
    b = s["b"]
    return 2.0 - 4.0 * b * y + 12.0 * b * x * x, -4.0 * b * x, 2.0 * b + 0.0 * x


def _rosenbrock_view(s) -> Range:
    a = s["a"]
    return (min(-2.0, a - 1.0), max(2.0, a + 1.0)), (min(-1.0, a * a - 1.0), max(3.0, a * a + 1.0))


# -- Himmelblau ------------------------------------------------------------------------------
def _himmelblau(x, y, s):
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


def _himmelblau_grad(x, y, s):
    u = x * x + y - 11.0
    v = x + y * y - 7.0
    return 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


def _himmelblau_hess(x, y, s):
    u = x * x + y - 11.0
    v = x + y * y - 7.0
    return 4.0 * u + 8.0 * x * x + 2.0, 4.0 * (x + y), 2.0 + 4.0 * v + 8.0 * y * y


_HIMMELBLAU_MINIMA = (
    Minimum((3.0, 2.0), 0.0),
    Minimum((-2.805118086952745, 3.131312518250573), 0.0),
    Minimum((-3.779310253377747, -3.283185991286169), 0.0),
    Minimum((3.584428340330492, -1.848126526964404), 0.0),
)


# -- Rastrigin -------------------------------------------------------------------------------
_TAU = 2.0 * math.pi


def _rastrigin(x, y, s):
    A = s["A"]
    return 2.0 * A + x * x - A * np.cos(_TAU * x) + y * y - A * np.cos(_TAU * y)


def _rastrigin_grad(x, y, s):
    A = s["A"]
    return 2.0 * x + _TAU * A * np.sin(_TAU * x), 2.0 * y + _TAU * A * np.sin(_TAU * y)


def _rastrigin_hess(x, y, s):
    c = _TAU * _TAU * s["A"]
    return 2.0 + c * np.cos(_TAU * x), 0.0 * (x + y), 2.0 + c * np.cos(_TAU * y)


# -- Beale -----------------------------------------------------------------------------------
def _beale_terms(x, y):
    y2 = y * y
    y3 = y2 * y
    return 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3, y2, y3


def _beale(x, y, s):
    t1, t2, t3, _, _ = _beale_terms(x, y)
    return t1 * t1 + t2 * t2 + t3 * t3


def _beale_grad(x, y, s):
    t1, t2, t3, y2, y3 = _beale_terms(x, y)
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
    gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
    return gx, gy


def _beale_hess(x, y, s):
    t1, t2, t3, y2, y3 = _beale_terms(x, y)
    # t_i and their first derivatives: dt/dx = (y - 1, y² - 1, y³ - 1), dt/dy = (x, 2xy, 3xy²);
    # second: d²t/dxdy = (1, 2y, 3y²), d²t/dy² = (0, 2x, 6xy), d²t/dx² = 0
    ax, bx, cx = y - 1.0, y2 - 1.0, y3 - 1.0
    ay, by, cy = x, 2.0 * x * y, 3.0 * x * y2
    hxx = 2.0 * (ax * ax + bx * bx + cx * cx)
    hxy = 2.0 * (ax * ay + bx * by + cx * cy + t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
    hyy = 2.0 * (ay * ay + by * by + cy * cy + 2.0 * x * t2 + 6.0 * x * y * t3)
    return hxx, hxy, hyy


# -- Booth -----------------------------------------------------------------------------------
def _booth(x, y, s):
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def _booth_grad(x, y, s):
    u = x + 2.0 * y - 7.0
    v = 2.0 * x + y - 5.0
    return 2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v


def _booth_hess(x, y, s):
    zero = 0.0 * (x + y)
    return zero + 10.0, zero + 8.0, zero + 10.0


# -- Matyas ----------------------------------------------------------------------------------
def _matyas(x, y, s):
    return 0.26 * (x * x + y * y) - 0.48 * x * y


def _matyas_grad(x, y, s):
    return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


def _matyas_hess(x, y, s):
    zero = 0.0 * (x + y)
    return zero + 0.52, zero - 0.48, zero + 0.52


# -- Quadratic -------------------------------------------------------------------------------
def _quadratic(x, y, s):
    return 0.5 * (s["a"] * x * x + s["b"] * y * y)


def _quadratic_grad(x, y, s):
    return s["a"] * x + 0.0 * y, s["b"] * y + 0.0 * x


def _quadratic_hess(x, y, s):
    zero = 0.0 * (x + y)
    return zero + s["a"], zero, zero + s["b"]


# -- Saddles ---------------------------------------------------------------------------------
def _saddle(x, y, s):
    return x * x - y * y


def _saddle_grad(x, y, s):
    return 2.0 * x, -2.0 * y


def _saddle_hess(x, y, s):
    zero = 0.0 * (x + y)
    return zero + 2.0, zero, zero - 2.0


def _monkey(x, y, s):
    return x ** 3 - 3.0 * x * y * y


def _monkey_grad(x, y, s):
    return 3.0 * (x * x - y * y), -6.0 * x * y


def _monkey_hess(x, y, s):
    return 6.0 * x + 0.0 * y, -6.0 * y + 0.0 * x, -6.0 * x + 0.0 * y


# -- Six-hump camel --------------------------------------------------------------------------
def _camel(x, y, s):
    x2 = x * x
    y2 = y * y
    return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2


def _camel_grad(x, y, s):
    x2 = x * x
    return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y ** 3


def _camel_hess(x, y, s):
    x2 = x * x
    return 8.0 - 25.2 * x2 + 10.0 * x2 * x2 + 0.0 * y, 1.0 + 0.0 * (x + y), \
        -8.0 + 48.0 * y * y + 0.0 * x


_CAMEL_MINIMA = (
    Minimum((0.08984201310031806, -0.7126564030207396), -1.031628453489877),
    Minimum((-0.08984201310031806, 0.7126564030207396), -1.031628453489877),
    Minimum((-1.703606714969981, 0.7960835686726251), -0.2154638243837176, "local"),
    Minimum((1.703606714969981, -0.7960835686726251), -0.2154638243837176, "local"),
    Minimum((-1.607104752920197, -0.5686514548841314), 2.104250310311258, "local"),
    Minimum((1.607104752920197, 0.5686514548841314), 2.104250310311258, "local"),
)


# -- Ackley ----------------------------------------------------------------------------------
def _ackley_parts(x, y, s):
    r = np.sqrt(0.5 * (x * x + y * y))
    e1 = np.exp(-s["b"] * r)
    e2 = np.exp(0.5 * (np.cos(s["c"] * x) + np.cos(s["c"] * y)))
    return r, e1, e2


def _ackley(x, y, s):
    _, e1, e2 = _ackley_parts(x, y, s)
    return s["a"] * (1.0 - e1) + math.e - e2


def _ackley_grad(x, y, s):
    """At the origin the cone term has a kink; its subgradient 0 is returned there."""
    a, b, c = s["a"], s["b"], s["c"]
    r, e1, e2 = _ackley_parts(x, y, s)
    safe_r = np.where(r > 0.0, r, 1.0)
    cone = np.where(r > 0.0, 0.5 * a * b * e1 / safe_r, 0.0)
    ripple = 0.5 * c * e2
    return cone * x + ripple * np.sin(c * x), cone * y + ripple * np.sin(c * y)


def _ackley_hess(x, y, s):
    """At the origin the cone's curvature is infinite (a kink): NaN there."""
    a, b, c = s["a"], s["b"], s["c"]
    r, e1, e2 = _ackley_parts(x, y, s)
    safe_r = np.where(r > 0.0, r, 1.0)
    cone = np.where(r > 0.0, 0.5 * a * b * e1 / safe_r, np.nan)
    bend = 0.5 * (b + 1.0 / safe_r) / safe_r     # d(cone)/dx = -cone * bend * x
    ripple = 0.5 * c * e2
    sx, sy = np.sin(c * x), np.sin(c * y)
    hxx = cone * (1.0 - bend * x * x) + ripple * c * (np.cos(c * x) - 0.5 * sx * sx)
    hyy = cone * (1.0 - bend * y * y) + ripple * c * (np.cos(c * y) - 0.5 * sy * sy)
    hxy = -cone * bend * x * y - 0.5 * c * ripple * sx * sy
    return hxx, hxy, hyy


# -- Styblinski-Tang -------------------------------------------------------------------------
def _st(x, y, s):
    return 0.5 * (x ** 4 - 16.0 * x * x + 5.0 * x + y ** 4 - 16.0 * y * y + 5.0 * y)


def _st_grad(x, y, s):
    return 2.0 * x ** 3 - 16.0 * x + 2.5, 2.0 * y ** 3 - 16.0 * y + 2.5


def _st_hess(x, y, s):
    return 6.0 * x * x - 16.0 + 0.0 * y, 0.0 * (x + y), 6.0 * y * y - 16.0 + 0.0 * x


_ST_LO, _ST_HI = -2.903534027771177, 2.746802770990837   # minima of t^4 - 16t^2 + 5t

_ST_MINIMA = (
    Minimum((_ST_LO, _ST_LO), -78.33233140754283),
    Minimum((_ST_LO, _ST_HI), -64.19561235905536, "local"),
    Minimum((_ST_HI, _ST_LO), -64.19561235905536, "local"),
    Minimum((_ST_HI, _ST_HI), -50.05889331056789, "local"),
)


# -- the table -------------------------------------------------------------------------------
_ORIGIN = (Minimum((0.0, 0.0), 0.0),)

FUNCTIONS: tuple[FunctionDef, ...] = (
    FunctionDef(
        "rosenbrock", "Rosenbrock (narrow curved valley)",
        "Rosenbrock's banana f = (a − x)² + b(y − x²)². The minimum (a, a²) lies at the bottom "
        "of a long, narrow, curved valley whose walls are about b times steeper than its floor. "
        "Plain gradient descent drops to the valley floor in a few steps, then zig-zags across "
        "it and crawls along it; momentum and adaptive methods (RMSprop, Adam) travel visibly "
        "faster. Raising b narrows the valley and forces a smaller learning rate.",
        _rosenbrock, _rosenbrock_grad, (-1.2, 1.0), _rosenbrock_view,
        lambda s: (Minimum((s["a"], s["a"] ** 2), 0.0),),
        (SettingSpec("a", 1.0, float, "x of the minimum (a, a²)", -5.0, 5.0),
         SettingSpec("b", 100.0, float, "steepness of the valley walls: larger b makes the "
                     "valley narrower and gradient descent slower", 0.0)),
        hess=_rosenbrock_hess,
    ),
    FunctionDef(
        "himmelblau", "Himmelblau (four minima)",
        "Himmelblau's function f = (x² + y − 11)² + (x + y² − 7)². Four minima of equal depth "
        "(f = 0) surround a local maximum near (−0.27, −0.92). Which one an optimizer reaches "
        "depends on the start, the learning rate and momentum: from a start near the hill top, "
        "optimizers that feel the same first gradient can still finish in different basins.",
        _himmelblau, _himmelblau_grad, (0.0, 0.0), _fixed(((-5.0, 5.0), (-5.0, 5.0))),
        _fixed(_HIMMELBLAU_MINIMA),
        hess=_himmelblau_hess,
    ),
    FunctionDef(
        "rastrigin", "Rastrigin (many local minima)",
        "Rastrigin f = 2A + Σ (xᵢ² − A cos 2πxᵢ): a bowl covered by a regular grid of cosine "
        "ripples, with a local minimum near every integer point and the global minimum 0 at "
        "the origin. Gradient descent stops in the nearest dimple; momentum, large steps or "
        "gradient noise can hop over the ridges. A = 0 leaves the plain bowl.",
        _rastrigin, _rastrigin_grad, (-3.3, 2.7), _fixed(((-5.12, 5.12), (-5.12, 5.12))),
        _fixed(_ORIGIN),
        (SettingSpec("A", 10.0, float, "height of the ripples (0 gives a plain bowl)", 0.0),),
        hess=_rastrigin_hess,
    ),
    FunctionDef(
        "beale", "Beale (flat valley, steep walls)",
        "Beale f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)². The global minimum "
        "0 at (3, 0.5) sits in a flat curved valley, there is a saddle at (0, 1), and the walls "
        "where |y| > 1 rise like x²y⁶. Gradients differ by orders of magnitude across the "
        "picture: a learning rate that suits the valley overshoots on the walls, which is what "
        "per-parameter step sizes (Adagrad, RMSprop, Adam) fix.",
        _beale, _beale_grad, (1.0, 1.5), _fixed(((-4.5, 4.5), (-4.5, 4.5))),
        _fixed((Minimum((3.0, 0.5), 0.0),)),
        hess=_beale_hess,
    ),
    FunctionDef(
        "booth", "Booth (tilted quadratic bowl)",
        "Booth f = (x + 2y − 7)² + (2x + y − 5)², a convex quadratic with minimum 0 at (1, 3). "
        "Its elliptical level sets (Hessian eigenvalues 2 and 18) show the textbook picture: "
        "gradient descent converges for learning rates below 2/18 ≈ 0.11, zig-zags across the "
        "ellipse near that limit and creeps along its long axis.",
        _booth, _booth_grad, (-3.0, 6.0), _fixed(((-5.0, 7.0), (-3.0, 9.0))),
        _fixed((Minimum((1.0, 3.0), 0.0),)),
        hess=_booth_hess, quadratic=True,
    ),
    FunctionDef(
        "matyas", "Matyas (nearly flat valley)",
        "Matyas f = 0.26(x² + y²) − 0.48xy, a convex quadratic with minimum 0 at the origin. "
        "The valley along y = x is almost flat (Hessian eigenvalues 0.04 and 1, condition "
        "number 25): gradient descent drops into it quickly and then crawls along it toward "
        "the minimum, which momentum speeds up a lot.",
        _matyas, _matyas_grad, (8.0, 3.0), _fixed(((-10.0, 10.0), (-10.0, 10.0))),
        _fixed(_ORIGIN),
        hess=_matyas_hess, quadratic=True,
    ),
    FunctionDef(
        "quadratic", "Quadratic ½(a·x² + b·y²) (condition number b/a)",
        "The quadratic f = ½(a·x² + b·y²) with minimum 0 at the origin: its Hessian is "
        "diag(a, b) everywhere, so it is the model every stability and rate law is derived "
        "on. Gradient descent is stable for lr < 2/max(a, b); its best rate per step is "
        "(κ − 1)/(κ + 1) with κ = b/a, reached at lr = 2/(a + b), while heavy-ball momentum "
        "reaches (√κ − 1)/(√κ + 1). The default κ = 100 makes the difference plain (0.980 "
        "against 0.818). Newton's method with lr 1 lands on the minimum in one step.",
        _quadratic, _quadratic_grad, (1.0, 1.0), _fixed(((-1.5, 1.5), (-1.5, 1.5))),
        _fixed(_ORIGIN),
        (SettingSpec("a", 1.0, float, "curvature along x (the Hessian's first eigenvalue)",
                     0.0, 1e6),
         SettingSpec("b", 100.0, float, "curvature along y (the second eigenvalue); b/a is "
                     "the condition number κ", 0.0, 1e6)),
        hess=_quadratic_hess, quadratic=True,
    ),
    FunctionDef(
        "saddle", "Saddle x² − y²",
        "The saddle f = x² − y² curves up along x and down along y and is unbounded below: "
        "its stationary point at the origin is not a minimum. Starting almost on the x axis, "
        "gradient descent slides toward the saddle point and lingers there until the tiny y "
        "offset has grown enough to carry it away; momentum, adaptive methods or grad_noise "
        "escape sooner. From y = 0 exactly, noiseless gradient descent never escapes.",
        _saddle, _saddle_grad, (-1.8, 0.01), _fixed(((-2.0, 2.0), (-2.0, 2.0))), _fixed(()),
        hess=_saddle_hess, quadratic=True,
    ),
    FunctionDef(
        "monkey-saddle", "Monkey saddle x³ − 3xy²",
        "The monkey saddle f = x³ − 3xy² has three valleys and three ridges meeting at the "
        "origin and is unbounded below. Its gradient vanishes quadratically there, so the "
        "stationary point (not a minimum) is even flatter than an ordinary saddle: gradient "
        "descent running down a ridge almost stalls near the origin before it turns into one "
        "of the valleys.",
        _monkey, _monkey_grad, (1.5, 0.1), _fixed(((-2.0, 2.0), (-2.0, 2.0))), _fixed(()),
        hess=_monkey_hess,
    ),
    FunctionDef(
        "six-hump-camel", "Six-hump camel (six minima)",
        "Six-hump camel f = (4 − 2.1x² + x⁴/3)x² + xy + (4y² − 4)y². Six minima in the frame: "
        "two global ones (f ≈ −1.0316) at ±(0.0898, −0.7126), two local ones (f ≈ −0.2155) at "
        "±(−1.7036, 0.7961) and two shallow ones (f ≈ 2.1043) at ±(1.6071, 0.5687), separated "
        "by saddles. From one start, different optimizers can settle in different minima.",
        _camel, _camel_grad, (-2.0, -1.0), _fixed(((-2.2, 2.2), (-1.2, 1.2))),
        _fixed(_CAMEL_MINIMA),
        hess=_camel_hess,
    ),
    FunctionDef(
        "ackley", "Ackley (rippled plateau, deep funnel)",
        "Ackley f = −a·exp(−b·√((x² + y²)/2)) − exp((cos cx + cos cy)/2) + a + e: a nearly "
        "flat outer plateau covered with ripples around a single deep funnel to the global "
        "minimum 0 at the origin (where the cone has a kink). Gradient descent gets stuck in a "
        "ripple on the plateau; momentum, noise or adaptive steps are needed to reach the "
        "funnel.",
        _ackley, _ackley_grad, (-3.6, 1.3), _fixed(((-5.0, 5.0), (-5.0, 5.0))), _fixed(_ORIGIN),
        (SettingSpec("a", 20.0, float, "depth of the central funnel", 0.0),
         SettingSpec("b", 0.2, float, "how quickly the funnel widens into the plateau", 0.0),
         SettingSpec("c", 2.0 * math.pi, float, "frequency of the ripples (2π: one per unit)",
                     0.0)),
        hess=_ackley_hess,
    ),
    FunctionDef(
        "styblinski-tang", "Styblinski–Tang (four corner minima)",
        "Styblinski–Tang f = ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ). Four minima sit at the corners of a "
        "square: the global one at (−2.9035, −2.9035) with f ≈ −78.33, two local ones with "
        "f ≈ −64.20 and the shallowest at (2.7468, 2.7468) with f ≈ −50.06, separated by "
        "ridges near xᵢ ≈ 0.157. Where gradient descent ends depends on which side of the "
        "ridges it starts; momentum can carry it across one.",
        _st, _st_grad, (0.3, 4.5), _fixed(((-5.0, 5.0), (-5.0, 5.0))), _fixed(_ST_MINIMA),
        hess=_st_hess,
    ),
)
