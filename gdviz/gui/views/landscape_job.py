"""The Landscape view's background computation (no Qt): what a landscape is computed from
(``LandscapeRequest``, copies only: nothing mutable crosses threads), the finished landscape as
the view draws it (``ComputedLandscape``), the grid's axes around the projected paths
(``plane_axes``), and the job itself (``landscape_job``: a generator for gui.tasks.TaskRunner
that reports the fraction of rows done, band by band, and gives up when asked to stop)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gdviz.core import grids
from gdviz.core.errors import ConfigError
from gdviz.core.landscape import (
    DEFAULT_SPAN,
    Landscape,
    plane_directions,
    plane_losses,
    plane_projector,
)
from gdviz.core.problems.base import Problem

SEED = 0               # the random directions' seed (gdviz landscape --seed's default)
MARGIN = 0.15          # room around the projected paths, of their extent
ROW_BAND = 4           # grid rows per progress report (51 rows: 13 reports)
GROWTH_CAP = 20.0      # a map grows to hold the paths up to 20x its extent (else a diverged
                       # run would ask for a map of 1e12 where nothing is visible)


@dataclass(frozen=True)
class LandscapeRequest:
    """What a landscape is computed from (all copies: nothing mutable crosses threads)."""

    problem: Problem
    kind: str
    names: tuple[str, ...]
    center: np.ndarray          # (p,)
    center_word: str            # "start", "current" or "final"
    center_step: int            # the selected run's step the centre was taken at
    paths: tuple[np.ndarray, ...]   # (T, p) each, the runs' paths at request time
    steps: tuple[int, ...]      # each run's last step when the plane was chosen
    grid: int
    # the plane (u, v, explained) of an earlier landscape whose map only grows to hold the
    # paths (they left it); None: the directions are made anew
    plane: tuple | None = None


@dataclass(frozen=True)
class ComputedLandscape:
    """A finished landscape and how it is drawn: x = a, y = b (random, pca), or the two
    parameters' values (params: a + centre_i, b + centre_j)."""

    request: LandscapeRequest
    landscape: Landscape
    projector: np.ndarray       # (2, p), plane_projector
    offset: tuple[float, float]  # added to (a, b) to draw them
    scale: grids.DisplayScale
    shown: np.ndarray           # (m, m) scale.apply(losses)
    iso: np.ndarray             # (s, 2, 2) iso-line segments, drawn coordinates
    center_loss: float          # the full loss at the centre
    seconds: float


def _extent(coords: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """[lo, hi] holding [low, high] and the finite ``coords`` with MARGIN of their extent;
    coordinates beyond GROWTH_CAP times [low, high] on either side (a diverged run) are left
    off the map."""
    finite = coords[np.isfinite(coords)]
    if high > low:
        reach = GROWTH_CAP * (high - low)
        finite = finite[(finite >= low - reach) & (finite <= high + reach)]
    lo, hi = low, high
    if finite.size:
        pad = MARGIN * max(float(np.ptp(finite)), 1e-12)
        lo, hi = min(lo, float(finite.min()) - pad), max(hi, float(finite.max()) + pad)
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def plane_axes(request: LandscapeRequest, projector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid's a and b: random directions span [-1, 1] (Li et al.'s picture, grown to
    hold the paths); a principal plane the paths; two parameters their view range."""
    points = np.concatenate(request.paths) if request.paths else request.center[None, :]
    with np.errstate(all="ignore"):
        coords = (points - request.center) @ projector.T      # (T, 2)
    coords = np.clip(coords, -1e12, 1e12)
    out = []
    for k in range(2):
        if request.kind == "params":
            index = request.problem.param_names.index(request.names[k])
            low, high = (float(v) - request.center[index]
                         for v in request.problem.view_range[index])
        elif request.kind == "random":
            low, high = -DEFAULT_SPAN, DEFAULT_SPAN
        else:
            low, high = 0.0, 0.0
        lo, hi = _extent(coords[:, k], low, high)
        if request.kind != "params":          # symmetric: the centre in the middle
            hi = max(abs(lo), abs(hi))
            lo = -hi
        out.append(np.linspace(lo, hi, request.grid))
    return out[0], out[1]


def landscape_job(request: LandscapeRequest):
    """The job of one request (a generator: it yields the fraction of rows done, returns the
    ComputedLandscape or None when stopped). Reads only the request's copies."""

    def job(should_stop):
        with np.errstate(all="ignore"):     # a diverged run's values: reported in words
            try:
                return (yield from compute(should_stop))
            except np.linalg.LinAlgError:
                raise ConfigError("the runs' paths hold values too large to project onto a "
                                  "plane (a run diverged); centre the start, or use fewer "
                                  "steps or a smaller learning rate") from None

    def compute(should_stop):
        t0 = time.perf_counter()
        problem, center = request.problem, request.center
        u, v, explained = request.plane or plane_directions(
            problem, request.kind, request.names, center, request.paths, SEED)
        projector = plane_projector(u, v)
        a, b = plane_axes(request, projector)
        losses = np.empty((len(b), len(a)))
        for lo in range(0, len(b), ROW_BAND):
            part = plane_losses(problem, center, u, v, a, b[lo:lo + ROW_BAND], should_stop)
            if part is None:
                return None
            losses[lo:lo + ROW_BAND] = part
            yield min(1.0, (lo + ROW_BAND) / len(b))
        offset = (0.0, 0.0)
        if request.kind == "params":
            names = problem.param_names
            offset = tuple(float(center[names.index(n)]) for n in request.names)
        _, scale, shown, _, iso = grids.shaded(losses, a + offset[0], b + offset[1])
        land = Landscape(a, b, losses, center, u, v, request.kind, explained, ())
        center_loss = float(problem.loss(center))
        return ComputedLandscape(request, land, projector, offset, scale, shown, iso, center_loss,
                         time.perf_counter() - t0)

    return job
