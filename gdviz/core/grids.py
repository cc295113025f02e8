"""Loss grids over two chosen parameters, for the contour and 3-D views (numpy only, no Qt).

A *grid* varies parameters ``i`` (x axis) and ``j`` (y axis) over a rectangle and holds every
other parameter at ``center``: values[r, c] = problem.loss(center with p[i] = xs[c], p[j] = ys[r]),
shape (ny, nx) — rows are y, columns are x (``row-major``, as the image item draws it).

Evaluation is chunked: a loss over n samples materialises a few (points, n) float64 arrays, so
the points per chunk are chosen to keep those under ``CHUNK_BYTES`` (a 256×256 grid of a
1000-sample problem peaks at a few MB, never ~50 MB) and small enough to stay in the CPU cache,
which on these machines is faster than one big chunk. A ``should_stop`` callable is checked
between chunks so a background computation can be abandoned quickly.

``finish_grid`` adds what the views draw: the colour scale (logarithmic when the loss spans
decades, e.g. Rosenbrock), the scaled values and iso-lines as one list of segments.
``GridCache`` keeps finished grids keyed by (problem, settings, pair, held values, region,
resolution), so a grid is only recomputed when one of those changes.
``sample_surface`` is lesson 1's per-sample surface L(w·x) over (x, w).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdviz.core.problem_cache import ProblemLRU
from gdviz.core.problems.base import Problem

DEFAULT_RESOLUTION = 256
CHUNK_BYTES = 40e6          # ceiling on the temporaries of one chunk
CACHE_ELEMENTS = 40_000     # preferred (points × samples) per chunk: stays in the CPU cache
TEMPORARIES = 4             # (points, n) arrays alive at once inside a loss kernel
ISO_LEVELS = 12
LOG_RATIO = 50.0            # log colour when the loss range exceeds 50× its low end
# The work of one grid (points × samples × parameters, see ``grid_work``) the views accept at
# their full resolution: every lesson keeps 256² (linreg or logistic, 1000 samples and up to 6
# parameters: ≤ 4e8; linreg's 256² takes 0.14 s here). A costlier problem gets fewer points
# per side, down to LEAST_RESOLUTION: mlp_spiral (500 samples, 105 parameters) took 3.6 s for
# 256², 0.40 s for 64² (mostly tanh), and while its grids were recomputed the window drew
# 1.2-8 frames a second; it now gets 87².
WORK_BUDGET = 4e8
LEAST_RESOLUTION = 64


@dataclass(frozen=True)
class GridSpec:
    """What to compute: parameters ``i`` (x) and ``j`` (y), the others held at ``center``
    (a p-tuple whose i and j entries are ignored and stored as 0), over ``x_range`` ×
    ``y_range`` with ``resolution`` = (nx, ny) points."""

    i: int
    j: int
    center: tuple[float, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    resolution: tuple[int, int] = (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)

    @staticmethod
    def make(i: int, j: int, center, x_range, y_range,
             resolution: int | tuple[int, int] = DEFAULT_RESOLUTION) -> GridSpec:
        c = [float(v) for v in center]
        c[i] = c[j] = 0.0
        res = (resolution, resolution) if isinstance(resolution, int) else resolution
        return GridSpec(int(i), int(j), tuple(c), (float(x_range[0]), float(x_range[1])),
                        (float(y_range[0]), float(y_range[1])), (int(res[0]), int(res[1])))

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """xs (nx,), ys (ny,): the grid's coordinates, ends included."""
        return (np.linspace(*self.x_range, self.resolution[0]),
                np.linspace(*self.y_range, self.resolution[1]))

    def held(self) -> dict[int, float]:
        return {k: v for k, v in enumerate(self.center) if k not in (self.i, self.j)}


@dataclass(frozen=True)
class DisplayScale:
    """How loss values become colours / heights: ``apply(v)`` = v (linear) or
    log10(v - base + floor) (log); ``lo``/``hi`` bound the applied values of the grid."""

    log: bool
    base: float
    floor: float
    lo: float
    hi: float

    def apply(self, values) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        if not self.log:
            return v
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(v - self.base, 0.0) + self.floor)

    def invert(self, shown) -> np.ndarray:
        """The loss whose applied value is ``shown`` (for colour-bar tick labels)."""
        s = np.asarray(shown, dtype=np.float64)
        return 10.0 ** s - self.floor + self.base if self.log else s

    def ticks(self, most: int = 8) -> list[tuple[float, float]] | None:
        """Colour-bar ticks of a log scale at round losses (1-2-5 steps, or decades when the
        range is wide, or 1..9 steps when 1-2-5 leaves fewer than three): (shown value, loss)
        pairs. None for a linear scale."""
        if not self.log:
            return None
        lo, hi = (float(v) - self.base for v in self.invert(np.array([self.lo, self.hi])))
        first = math.floor(math.log10(max(lo, self.floor, 1e-300)))
        last = math.ceil(math.log10(max(hi, 1e-300)))
        def inside(steps: tuple[int, ...]) -> list[tuple[float, float]]:
            ticks = [(float(self.apply(m * 10.0 ** e + self.base)), m * 10.0 ** e + self.base)
                     for e in range(first, last + 1) for m in steps]
            return [t for t in ticks if self.lo <= t[0] <= self.hi]

        ticks = inside((1, 2, 5) if last - first <= 3 else (1,))
        if len(ticks) < 3:   # a short range (0.64 to 1.02 showed "1" alone): every 1..9
            ticks = inside(tuple(range(1, 10)))
        return ticks[:: -(-len(ticks) // most)] if len(ticks) > most else ticks

    def label(self) -> str:
        if not self.log:
            return "loss"
        return "loss (log scale)" if self.base == 0.0 else \
            "loss − min (log)"   # short: it stands beside a colour bar as tall as the map


def display_scale(values: np.ndarray, log: bool | None = None) -> DisplayScale:
    """Linear, unless the finite values span decades: then most of a linear colour map would
    sit in its bottom few percent (Rosenbrock's valley would be one flat colour). The
    low end is the 5th percentile above the minimum: round bowls stay linear (ratio ~30).
    ``log`` True / False forces a log / linear scale (the 3-D view's height toggle); the
    log scale is then log10(v - base + floor) as above, with floor a tenth of the low end."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return DisplayScale(False, 0.0, 0.0, 0.0, 1.0)
    vmin, vmax = float(v.min()), float(v.max())
    span = vmax - vmin
    if not span > 0:
        return DisplayScale(False, 0.0, 0.0, vmin - 0.5, vmax + 0.5)
    low = float(np.percentile(v - vmin, 5))
    if low <= 0:
        low = float(np.percentile(v - vmin, 25))
    if log is False or (log is None and not (low > 0 and span / low > LOG_RATIO)):
        return DisplayScale(False, 0.0, 0.0, vmin, vmax)
    if not low > 0:  # a forced log scale of values that are mostly at their minimum
        low = span
    base = 0.0 if vmin >= 0 else vmin
    floor = max(0.1 * low, span * 1e-9, 1e-300)
    scale = DisplayScale(True, base, floor, 0.0, 1.0)
    shown = scale.apply(np.array([vmin, vmax]))
    return DisplayScale(True, base, floor, float(shown[0]), float(shown[1]))


@dataclass(frozen=True)
class LossGrid:
    """A finished grid (all arrays read-only): xs (nx,), ys (ny,), values (ny, nx) of the
    loss, shown (ny, nx) = scale.apply(values), iso-line ``levels`` (in shown units) and their
    segments ``iso`` (m, 2, 2) as [[x0, y0], [x1, y1]] in parameter coordinates;
    ``seconds`` the computing time."""

    spec: GridSpec
    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    scale: DisplayScale
    shown: np.ndarray
    levels: np.ndarray
    iso: np.ndarray
    seconds: float


def chunk_points(n_samples: int, n_params: int, max_bytes: float = CHUNK_BYTES) -> int:
    """Grid points per chunk for a loss over ``n_samples`` samples."""
    per_point = 8.0 * (TEMPORARIES * max(n_samples, 1) + 2 * n_params)
    by_memory = max(1, int(max_bytes // per_point))
    by_cache = max(16, CACHE_ELEMENTS // max(n_samples, 1))
    return min(by_memory, by_cache)


def grid_values(problem: Problem, spec: GridSpec,
                should_stop: Callable[[], bool] | None = None,
                max_bytes: float = CHUNK_BYTES) -> np.ndarray | None:
    """(ny, nx) full loss on the grid, or None when ``should_stop()`` said so."""
    xs, ys = spec.axes()
    nx, ny = len(xs), len(ys)
    out = np.empty(nx * ny)
    m = chunk_points(problem.n_samples, problem.n_params, max_bytes)
    base = np.asarray(spec.center, dtype=np.float64)
    rows = np.arange(nx * ny)
    for start in range(0, nx * ny, m):
        if should_stop is not None and should_stop():
            return None
        r = rows[start:start + m]
        points = np.repeat(base[None, :], len(r), axis=0)
        points[:, spec.i] = xs[r % nx]
        points[:, spec.j] = ys[r // nx]
        with np.errstate(all="ignore"):
            out[start:start + m] = problem.loss(points)
    return out.reshape(ny, nx)


def shaded(values: np.ndarray, xs: np.ndarray, ys: np.ndarray, n_levels: int = ISO_LEVELS
           ) -> tuple[np.ndarray, DisplayScale, np.ndarray, np.ndarray, np.ndarray]:
    """How a grid of losses ``values`` (ny, nx) over xs (nx,), ys (ny,) is drawn: (the values
    with non-finite ones as NaN, their colour scale, the shown values scale.apply(values), the
    ``n_levels`` iso-line levels in shown units, and the iso-line segments (m, 2, 2))."""
    values = np.where(np.isfinite(values), values, np.nan)
    scale = display_scale(values)
    shown = scale.apply(values)
    levels = np.linspace(scale.lo, scale.hi, n_levels + 2)[1:-1] if scale.hi > scale.lo \
        else np.zeros(0)
    return values, scale, shown, levels, isolines(shown, xs, ys, levels)


def finish_grid(spec: GridSpec, values: np.ndarray, seconds: float = 0.0,
                n_levels: int = ISO_LEVELS) -> LossGrid:
    """Add the colour scale, the shown values and the iso-lines to computed ``values``."""
    xs, ys = spec.axes()
    values, scale, shown, levels, iso = shaded(values, xs, ys, n_levels)
    arrays = [xs, ys, values, shown, levels, iso]
    for a in arrays:
        a.setflags(write=False)
    return LossGrid(spec, xs, ys, values, scale, shown, levels, iso, seconds)


def compute_grid(problem: Problem, spec: GridSpec,
                 should_stop: Callable[[], bool] | None = None) -> LossGrid | None:
    """The finished grid of ``spec`` (None if stopped). Safe in any thread: reads only."""
    t0 = time.perf_counter()
    values = grid_values(problem, spec, should_stop)
    if values is None:
        return None
    return finish_grid(spec, values, time.perf_counter() - t0)


# -- iso-lines: marching squares, vectorised over cells, one segment list for all levels --------
def isolines(z: np.ndarray, xs: np.ndarray, ys: np.ndarray,
             levels: np.ndarray) -> np.ndarray:
    """Segments (m, 2, 2) of the contour lines of z (ny, nx) at ``levels``, in the coordinates
    xs (nx,), ys (ny,). Cells with a non-finite corner are skipped; saddle cells are resolved
    by the cell's mean. Segments are not joined into paths: drawn as pairs they look the same."""
    out = []
    a, b, c, d = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]   # (x0,y0) (x1,y0) (x1,y1) (x0,y1)
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    rr, cc = np.nonzero(ok)
    a, b, c, d = a[ok], b[ok], c[ok], d[ok]
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    low = np.minimum(np.minimum(a, b), np.minimum(c, d))
    high = np.maximum(np.maximum(a, b), np.maximum(c, d))
    for level in levels:
        hit = np.flatnonzero((low <= level) & (high > level))    # only cells the line crosses
        if hit.size == 0:
            continue
        va, vb, vc, vd = a[hit], b[hit], c[hit], d[hit]
        above = [v > level for v in (va, vb, vc, vd)]
        col, row = cc[hit], rr[hit]
        crosses = np.empty((4, hit.size), dtype=bool)
        px = np.empty((4, hit.size))
        py = np.empty((4, hit.size))
        # edges 0 bottom a->b, 1 right b->c, 2 top d->c, 3 left a->d: (v0, v1, corners, start, dir)
        for e, (v0, v1, (s0, s1), (c0, r0), (ec, er)) in enumerate((
                (va, vb, (0, 1), (0, 0), (1, 0)), (vb, vc, (1, 2), (1, 0), (0, 1)),
                (vd, vc, (3, 2), (0, 1), (1, 0)), (va, vd, (0, 3), (0, 0), (0, 1)))):
            crosses[e] = above[s0] != above[s1]
            with np.errstate(all="ignore"):
                t = np.where(crosses[e], (level - v0) / (v1 - v0), 0.0)
            px[e] = xs[0] + (col + c0 + ec * t) * dx
            py[e] = ys[0] + (row + r0 + er * t) * dy
        count = crosses.sum(axis=0)
        two = np.flatnonzero(count == 2)
        if two.size:
            first = np.argmax(crosses[:, two], axis=0)
            second = 3 - np.argmax(crosses[::-1, two], axis=0)
            out.append(_pairs(px, py, two, first, second))
        four = np.flatnonzero(count == 4)
        if four.size:
            centre_above = (va[four] + vb[four] + vc[four] + vd[four]) / 4 > level
            joined = centre_above == above[0][four]     # a connects to c through the middle
            # cut off corners b (edges 0, 1) and d (2, 3), or a (0, 3) and c (1, 2)
            out.append(_pairs(px, py, four, np.zeros(four.size, dtype=np.int64),
                              np.where(joined, 1, 3)))
            out.append(_pairs(px, py, four, np.where(joined, 2, 1), np.where(joined, 3, 2)))
    if not out:
        return np.zeros((0, 2, 2))
    return np.concatenate(out)


def _pairs(px, py, cells, e0, e1) -> np.ndarray:
    return np.stack([np.stack([px[e0, cells], py[e0, cells]], axis=-1),
                     np.stack([px[e1, cells], py[e1, cells]], axis=-1)], axis=1)


# -- regions and held values ----------------------------------------------------------------
def grid_region(base: np.ndarray, points: np.ndarray, margin: float = 0.08,
                max_growth: float = 4.0) -> np.ndarray:
    """(2, 2) [[x0, x1], [y0, y1]]: the rectangle ``base`` grown to hold the finite
    ``points`` (m, 2) with a margin. Points further than ``max_growth`` base widths outside
    are ignored (a diverging run would otherwise shrink the landscape to a dot)."""
    base = np.asarray(base, dtype=np.float64).copy()
    width = base[:, 1] - base[:, 0]
    width = np.where(width > 0, width, 1.0)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    limit_lo, limit_hi = base[:, 0] - max_growth * width, base[:, 1] + max_growth * width
    keep = np.all(np.isfinite(pts), axis=1) & np.all((pts >= limit_lo) & (pts <= limit_hi),
                                                     axis=1)
    pts = pts[keep]
    if len(pts) == 0:
        return base
    lo = np.minimum(base[:, 0], pts.min(axis=0))
    hi = np.maximum(base[:, 1], pts.max(axis=0))
    grown = (lo < base[:, 0]) | (hi > base[:, 1])
    pad = margin * (hi - lo)
    lo = np.where(lo < base[:, 0], lo - pad, lo)
    hi = np.where(hi > base[:, 1], hi + pad, hi)
    out = np.stack([lo, hi], axis=1)
    return np.where(grown[:, None], out, base)


def snap_held(values: np.ndarray, ranges: np.ndarray, fraction: float = 0.02) -> np.ndarray:
    """Held values rounded to a lattice of ``fraction`` of each parameter's range: a grid is
    recomputed only when a held value moves by about that much, and scrubbing back over the
    timeline finds the same keys in the cache."""
    values = np.asarray(values, dtype=np.float64)
    step = fraction * np.maximum(np.abs(np.diff(np.asarray(ranges, dtype=np.float64),
                                                axis=-1)[..., 0]), 1e-12)
    snapped = np.round(values / step) * step
    return np.where(np.isfinite(snapped), snapped, 0.0) + 0.0   # + 0.0: no −0.0 keys


# -- the cache ------------------------------------------------------------------------------
class GridCache(ProblemLRU):
    """An LRU of finished grids per problem (weakly keyed: a dropped problem frees its grids).

    The key is the problem object (the registry builds one per settings and data file) plus
    its settings and the ``GridSpec``. ``hits``/``misses`` count lookups; the views count a
    miss as one computation."""

    def __init__(self, max_entries: int = 24) -> None:
        super().__init__(max_entries)

    @staticmethod
    def key(problem: Problem, spec: GridSpec) -> tuple:
        settings = tuple(sorted((str(k), repr(v)) for k, v in problem.settings.items()))
        return (settings, spec)

    def get(self, problem: Problem, spec: GridSpec) -> LossGrid | None:
        return self.lookup(problem, self.key(problem, spec))

    def put(self, problem: Problem, grid: LossGrid) -> None:
        self.store(problem, self.key(problem, grid.spec), grid)

    def compute(self, problem: Problem, spec: GridSpec) -> LossGrid:
        """Synchronous get-or-compute (cheap grids, scripts and tests)."""
        found = self.get(problem, spec)
        if found is None:
            found = compute_grid(problem, spec)
            self.put(problem, found)
        return found


def grid_work(problem: Problem, points: int) -> float:
    """Rough work of a loss over ``points`` parameter points: points × samples × parameters
    (a network's forward pass costs about one multiply-add per parameter and sample)."""
    return float(points) * max(problem.n_samples, 1) * max(problem.n_params, 2)


def affordable_resolution(problem: Problem, wanted: int, budget: float = WORK_BUDGET,
                          least: int = LEAST_RESOLUTION) -> int:
    """Points per side for a grid of ``problem``: ``wanted``, or fewer (not below ``least``)
    when ``wanted``² points would cost more than ``budget`` (``grid_work``)."""
    if grid_work(problem, wanted * wanted) <= budget:
        return int(wanted)
    side = int(math.sqrt(budget / grid_work(problem, 1)))
    return int(min(wanted, max(least, side)))


def grid_cost(problem: Problem, spec: GridSpec) -> int:
    """Per-sample loss evaluations the grid needs (the views compute cheap grids at once)."""
    return spec.resolution[0] * spec.resolution[1] * max(problem.n_samples, 1)


# -- lesson 1: the per-sample surface over (x, w) ------------------------------------------------
@dataclass(frozen=True)
class SampleSurface:
    """Per-sample losses over (x, w): xs (nx,), ws (nw,), values (nw, nx) with
    values[r, c] = ℓ(w = ws[r]; sample at x = xs[c]); the lowest value and where it is.
    ``samples`` (nx,): the sample of each column when the columns are real samples (data with
    targets), None when x is a dense grid (no targets: the loss depends on w·x only)."""

    xs: np.ndarray
    ws: np.ndarray
    values: np.ndarray
    minimum: float
    at_x: float
    at_w: float
    title: str
    samples: np.ndarray | None = None


def sample_surface(problem: Problem, resolution: int = 100) -> SampleSurface | None:
    """The lesson's surface for a one-parameter problem with one feature, or None.

    Without targets (wavy) the loss depends on w·x only, so x runs over a dense grid of the
    data range (the model's kernel takes any x). With targets (slope) each sample has its own
    curve, so the columns are the samples themselves, ordered by x (at most ``resolution``,
    evenly chosen)."""
    if problem.n_params != 1 or not problem.has_data or problem.data_x.shape[1] != 1:
        return None
    ws = np.linspace(*problem.view_range[0], resolution)
    x = problem.data_x[:, 0]
    with np.errstate(all="ignore"):
        if problem.data_y is None:
            pick = None
            xs = np.linspace(float(x.min()), float(x.max()), resolution)
            values = problem._sample_losses(ws[:, None], xs[:, None], None)
        else:
            order = np.argsort(x, kind="stable")
            pick = order[np.unique(np.round(np.linspace(0, len(x) - 1, min(resolution,
                                                                          len(x)))).astype(int))]
            xs = x[pick]
            values = problem.sample_losses(ws[:, None], pick)
    values = np.where(np.isfinite(values), values, np.nan)
    r, c = np.unravel_index(np.nanargmin(values), values.shape)
    best, at_x, at_w = float(values[r, c]), float(xs[c]), float(ws[r])
    known = getattr(problem, "surface_minimum", math.nan)
    if math.isfinite(known):
        y = float(problem.surface_argmin_y)
        best = min(best, float(known))
        title = f"global minimum {known:.4f} at w·x = {y:.4f}".replace("-", "−")
    elif problem.minima:
        name = problem.param_names[0]
        title = (f"samples ordered by x; the best fit to all of them is "
                 f"{name} = {_num(problem.minima[0].params[0])}")
    else:
        title = f"lowest per-sample loss {_num(best)} at x = {_num(at_x)}, w = {_num(at_w)}"
    for a in (xs, ws, values):
        a.setflags(write=False)
    return SampleSurface(xs, ws, values, best, at_x, at_w, title, pick)


def _num(v: float) -> str:
    return f"{v:.5g}".replace("-", "−")
