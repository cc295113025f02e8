"""Loss landscapes: the full loss over a plane through a centre point, and runs' paths projected
onto that plane (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets").

The plane is ``centre + a·u + b·v`` for two directions u, v (p,) chosen as
  * ``random``: two Gaussian directions, filter-normalised: for every unit of a network the
    direction's incoming weights are scaled to the norm of the centre's incoming weights of
    that unit (``Problem.filter_groups``), and the biases' entries are set to 0 (Li et al.'s
    choice). A problem without layers is one group: the whole direction gets the centre's norm
    (unit norm when the centre is 0);
  * ``pca``: the first two principal directions (unit vectors) of all runs' trajectories
    together (points centred on their mean), with the fraction of variance each explains;
  * ``params``: the unit vectors of two named parameters (a and b are then those parameters'
    offsets from the centre).
The grid spans a, b in [-span, span] (units of the directions). Each path point θ is projected
by least squares onto the plane: (a, b), its distance ‖θ - (centre + a·u + b·v)‖ from the plane,
its true loss L(θ) and the surface's loss L(centre + a·u + b·v) there.

The grid is evaluated with the problem's own vectorised loss in chunks of grid points small
enough for one layer's activations to stay in the CPU cache (benchmarks/bench_landscape.py:
chunks of ~256k numbers per layer measured 1.5-2x faster than one block of all grid points).
The cost grows linearly with the grid points and the samples, and with the units of the
network (a 51×51 grid of a 2-30-30-1 network on 1000 samples: 0.51-0.62 s of CPU). Plain numbers,
no units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.problems.base import Problem
from gdviz.core.settings_parse import parse_floats

DIRECTION_KINDS = ("random", "pca", "params")
DEFAULT_GRID = 51
DEFAULT_SPAN = 1.0
MAX_GRID = 501
_CHUNK_NUMBERS = 256_000  # numbers per layer activation in one chunk (fits in L2/L3)
# A separate random stream for the directions, independent of the run's batches and start.
_DIRECTION_STREAM = 0x4C414E44


@dataclass(frozen=True)
class PathProjection:
    """One run's path seen in the plane (arrays of shape (T,), T = points on the path).

    a, b:          coordinates in the plane (units of the directions)
    distance:      ‖θ - its projection‖, the distance from the plane (parameter units)
    loss:          the true full loss at θ
    surface_loss:  the full loss at the projection (what the picture shows there)
    """

    a: np.ndarray
    b: np.ndarray
    distance: np.ndarray
    loss: np.ndarray
    surface_loss: np.ndarray


@dataclass(frozen=True)
class Landscape:
    """A computed landscape.

    a, b:        (m,) grid coordinates along direction_a and direction_b
    losses:      (m, m) full loss, row i at b[i], column j at a[j]
    center, direction_a, direction_b: (p,) the plane
    kind:        "random", "pca" or "params"
    explained:   (2,) fraction of the trajectories' variance along each direction (pca), or None
    paths:       one PathProjection per run given
    """

    a: np.ndarray
    b: np.ndarray
    losses: np.ndarray
    center: np.ndarray
    direction_a: np.ndarray
    direction_b: np.ndarray
    kind: str
    explained: np.ndarray | None
    paths: tuple[PathProjection, ...]


# -- directions --------------------------------------------------------------------------------
def filter_normalized(problem: Problem, center: np.ndarray, rng: np.random.Generator
                      ) -> np.ndarray:
    """A Gaussian direction (p,) scaled unit by unit to the centre's norms; biases zeroed."""
    direction = rng.standard_normal(problem.n_params)
    rows, biases = problem.filter_groups()
    for row in rows:
        norm = float(np.linalg.norm(direction[row]))
        target = float(np.linalg.norm(center[row]))
        if len(rows) == 1 and not biases.size and target == 0.0:
            target = 1.0  # a problem without layers started at 0: a unit direction
        direction[row] *= target / norm if norm > 0 else 0.0
    direction[biases] = 0.0
    return direction


# The two random directions the window's line views offer beyond two parameters (the
# per-sample losses along a line, the gradient histogram's projection), with the seed of the
# Landscape view and of `gdviz landscape` by default: the same directions everywhere.
DIRECTION_NAMES = ("random direction 1", "random direction 2")
DIRECTION_SEED = 0


def random_directions(problem: Problem, center: np.ndarray, seed: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, _DIRECTION_STREAM])
    return filter_normalized(problem, center, rng), filter_normalized(problem, center, rng)


def pca_directions(paths: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first two principal directions (unit, (p,) each) of all points of ``paths`` (each
    (T, p)) together, and the fraction of their variance each explains, (2,)."""
    points = np.concatenate([np.asarray(path, dtype=np.float64) for path in paths])
    points = points[np.all(np.isfinite(points), axis=1)]  # a diverged run's last points
    centred = points - points.mean(axis=0)
    if centred.shape[0] < 2 or centred.shape[1] < 2:
        raise ConfigError("pca directions need a path of at least 2 points and a problem with "
                          "at least 2 parameters")
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    with np.errstate(over="ignore"):
        total = float(np.sum(singular ** 2))
    if not np.isfinite(total):
        raise ConfigError("pca directions: the paths hold values too large for their variance "
                          "(a run diverged); use fewer steps or a smaller learning rate")
    if total == 0.0 or singular[1] == 0.0:
        raise ConfigError("pca directions need a path that moves in at least two directions "
                          "(this one stays on a line or a point)")
    return vt[0], vt[1], singular[:2] ** 2 / total


def param_directions(problem: Problem, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of two named parameters."""
    if len(names) != 2:
        raise ConfigError(f"--directions params: needs two parameter names, got {len(names)}")
    out = []
    for name in names:
        if name not in problem.param_names:
            shown = ", ".join(problem.param_names[:8])
            more = ", ..." if problem.n_params > 8 else ""
            raise ConfigError(f"--directions: no parameter {name!r} (the parameters are "
                              f"{shown}{more})")
        unit = np.zeros(problem.n_params)
        unit[problem.param_names.index(name)] = 1.0
        out.append(unit)
    if names[0] == names[1]:
        raise ConfigError(f"--directions params: needs two different parameters, got "
                          f"{names[0]!r} twice")
    return out[0], out[1]


def parse_directions(text: str) -> tuple[str, tuple[str, ...]]:
    """``random``, ``pca`` or ``params:NAME,NAME`` -> (kind, names)."""
    kind, _, rest = text.strip().partition(":")
    if kind not in DIRECTION_KINDS:
        raise ConfigError(f"--directions must be random, pca or params:NAME,NAME, got {text!r}")
    names = tuple(n.strip() for n in rest.split(",") if n.strip())
    if kind == "params":
        return kind, names
    if rest:
        raise ConfigError(f"--directions {kind} takes no names, got {text!r}")
    return kind, ()


def parse_center(text: str, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``start``, ``end`` or comma-separated values, one per parameter -> (p,)."""
    word = text.strip().lower()
    if word in ("start", "end"):
        point = np.array(start if word == "start" else end, dtype=np.float64)
        if not np.all(np.isfinite(point)):
            raise ConfigError(f"--center {word}: the run's {word} point is not finite (the run "
                              "diverged); choose --center start or give the values")
        return point
    values = np.array(parse_floats(text, "--center"), dtype=np.float64)
    if values.shape != start.shape:
        raise ConfigError(f"--center needs start, end or {start.size} values (one per "
                          f"parameter), got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ConfigError("--center values must be finite numbers")
    return values


def check_grid(grid: int, span: float) -> None:
    if not 2 <= grid <= MAX_GRID:
        raise ConfigError(f"--grid must be between 2 and {MAX_GRID}, got {grid}")
    if not (np.isfinite(span) and span > 0):
        raise ConfigError(f"--span must be a finite number > 0, got {span}")


# -- evaluation --------------------------------------------------------------------------------
def _chunk_rows(problem: Problem) -> int:
    """Grid points per evaluation so one layer's activations hold ~_CHUNK_NUMBERS numbers."""
    width = max((layer.out for layer in getattr(problem, "layers", ())), default=1)
    return max(1, _CHUNK_NUMBERS // max(1, problem.n_samples * width))


def plane_losses(problem: Problem, center: np.ndarray, direction_a: np.ndarray,
                 direction_b: np.ndarray, a: np.ndarray, b: np.ndarray,
                 cancelled: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Full losses (len(b), len(a)) at centre + a[j]·u + b[i]·v, or None if cancelled."""
    aa, bb = (grid.reshape(-1, 1) for grid in np.meshgrid(a, b))
    rows = _chunk_rows(problem)
    out = np.empty(aa.shape[0])
    with np.errstate(all="ignore"):
        for start in range(0, aa.shape[0], rows):
            if cancelled is not None and cancelled():
                return None
            part = slice(start, start + rows)
            out[part] = problem.loss(center + aa[part] * direction_a + bb[part] * direction_b)
    return out.reshape(len(b), len(a))


def project_path(problem: Problem, center: np.ndarray, direction_a: np.ndarray,
                 direction_b: np.ndarray, path: np.ndarray) -> PathProjection:
    """Least-squares projection of the points ``path`` (T, p) onto the plane. Points that are
    not finite (a diverged run's last) get NaN coordinates, distance and surface loss."""
    basis = np.stack([direction_a, direction_b], axis=1)  # (p, 2)
    path = np.asarray(path, dtype=np.float64)
    offsets = path - center
    finite = np.all(np.isfinite(offsets), axis=1)
    coords = np.full((2, len(path)), np.nan)
    coords[:, finite] = np.linalg.lstsq(basis, offsets[finite].T, rcond=None)[0]
    projected = center + coords.T @ basis.T
    with np.errstate(all="ignore"):
        return PathProjection(
            a=coords[0], b=coords[1],
            distance=np.linalg.norm(path - projected, axis=1),
            loss=np.asarray(problem.loss(path), dtype=np.float64),
            surface_loss=np.asarray(problem.loss(projected), dtype=np.float64))


def compute_landscape(problem: Problem, paths: Sequence[np.ndarray], *, directions: str = "random",
                      center: str = "end", grid: int = DEFAULT_GRID,
                      span: float = DEFAULT_SPAN, seed: int = 0) -> Landscape:
    """The landscape of ``problem`` around the runs' ``paths`` (each (T, p), the first run's
    start and end are ``center``'s start and end); options as ``gdviz landscape``."""
    check_grid(grid, span)
    try:
        with np.errstate(all="ignore"):  # a diverged run's huge values: reported, not warned
            return _landscape(problem, paths, directions, center, grid, span, seed)
    except np.linalg.LinAlgError:
        raise ConfigError("the runs' paths hold values too large to project onto a plane (a "
                          "run diverged); use --center start, fewer --steps or a smaller "
                          "--lr") from None


def plane_directions(problem: Problem, kind: str, names: Sequence[str], center: np.ndarray,
                     paths: Sequence[np.ndarray], seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The plane's two directions (p,) each for ``kind`` (``random``, ``pca`` or ``params``
    with two parameter ``names``) through ``center`` (p,), and the variance each explains
    (pca; else None). ``paths``: the runs' trajectories, each (T, p). ConfigError when the
    directions cannot be made (all zero, a path on a line, values not finite)."""
    explained = None
    if kind == "random":
        u, v = random_directions(problem, center, seed)
        if not (np.any(u) and np.any(v)):
            raise ConfigError("random directions are all zero: the centre's weights are all 0 "
                              "(filter normalisation scales to them); choose another --center")
    elif kind == "pca":
        u, v, explained = pca_directions(paths)
    else:
        u, v = param_directions(problem, names)
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))):
        raise ConfigError("the plane's directions are not finite: the run diverged to values "
                          "too large for them; use --center start, fewer --steps or a smaller "
                          "--lr")
    return u, v, explained


def plane_projector(direction_a: np.ndarray, direction_b: np.ndarray) -> np.ndarray:
    """(2, p): the least-squares coordinates (a, b) of an offset θ - centre in the plane are
    ``projector @ (θ - centre)`` (the pseudo-inverse of the basis; for many points at once,
    e.g. a path drawn on every frame, where ``project_path``'s losses are not needed)."""
    return np.linalg.pinv(np.stack([direction_a, direction_b], axis=1))


def _landscape(problem: Problem, paths: Sequence[np.ndarray], directions: str, center: str,
               grid: int, span: float, seed: int) -> Landscape:
    kind, names = parse_directions(directions)
    first = np.asarray(paths[0], dtype=np.float64)
    middle = parse_center(center, first[0], first[-1])
    u, v, explained = plane_directions(problem, kind, names, middle, paths, seed)
    a = np.linspace(-span, span, grid)
    b = np.linspace(-span, span, grid)
    losses = plane_losses(problem, middle, u, v, a, b)
    projections = tuple(project_path(problem, middle, u, v, np.asarray(p, dtype=np.float64))
                        for p in paths)
    return Landscape(a, b, losses, middle, u, v, kind, explained, projections)
