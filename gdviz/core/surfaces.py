"""Vectorised loss curves along 1-D slices of parameter space, for the views (numpy only).

A *slice* varies one parameter (``index``) over ``values`` (m,) and holds the others at
``center`` (p,). On a slice every sample i has its own loss curve ℓᵢ; the views draw them on the
*per-sample scale*: the mean of the per-sample losses (= the full loss for ``mean`` problems,
full loss / n for ``sum`` problems), so the mean curve lies among the sample curves it averages.

Shapes: curves are (k, m) — one row per sample, one column per slice value.

``SliceCache`` keeps recently computed slices keyed by (problem, index, held values, range,
resolution, drawn samples): for one-parameter problems the held values are empty, so the
curves are computed once per run; for several parameters the slice changes whenever the held
values do, and the cache only pays off when the user scrubs back over the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdviz.core.problem_cache import ProblemLRU
from gdviz.core.problems.base import Problem

DEFAULT_RESOLUTION = 200


def slice_grid(lo: float, hi: float, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """(resolution,) evenly spaced values from lo to hi inclusive."""
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    return np.linspace(float(lo), float(hi), int(resolution))


def slice_points(center: np.ndarray, index: int, values: np.ndarray) -> np.ndarray:
    """(m, p) parameter vectors: ``center`` with parameter ``index`` replaced by each value."""
    center = np.asarray(center, dtype=np.float64)
    points = np.repeat(center[None, :], len(values), axis=0)
    points[:, index] = values
    return points


def sample_curves(problem: Problem, center: np.ndarray, index: int, values: np.ndarray,
                  idx: np.ndarray | None = None) -> np.ndarray:
    """(k, m) per-sample losses ℓᵢ along the slice, for samples ``idx`` (all if None)."""
    with np.errstate(all="ignore"):
        losses = problem.sample_losses(slice_points(center, index, values), idx)  # (m, k)
    return np.ascontiguousarray(losses.T)


def line_points(base: np.ndarray, direction: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(m, p) points ``base + t·direction`` for each t of ``values`` (m,): a line through
    ``base`` (p,) along any ``direction`` (p,) (a landscape direction: t in its units)."""
    base = np.asarray(base, dtype=np.float64)
    return base + np.asarray(values, dtype=np.float64)[:, None] * np.asarray(direction,
                                                                             dtype=np.float64)


def line_curves(problem: Problem, base: np.ndarray, direction: np.ndarray, values: np.ndarray,
                idx: np.ndarray | None = None) -> np.ndarray:
    """(k, m) per-sample losses ℓᵢ along the line ``base + t·direction``, t in ``values``."""
    with np.errstate(all="ignore"):
        losses = problem.sample_losses(line_points(base, direction, values), idx)  # (m, k)
    return np.ascontiguousarray(losses.T)


def per_sample_scale(problem: Problem) -> float:
    """Factor from the problem's full loss (and gradient) to the per-sample (mean) scale."""
    return 1.0 if problem.reduction == "mean" else 1.0 / problem.n_samples


def mean_curve(problem: Problem, center: np.ndarray, index: int, values: np.ndarray,
               idx: np.ndarray | None = None) -> np.ndarray:
    """(m,) mean of the per-sample losses of ``idx`` (all samples if None) along the slice."""
    return sample_curves(problem, center, index, values, idx).mean(axis=0)


def loss_slice(problem: Problem, center: np.ndarray, index: int, values: np.ndarray,
               idx: np.ndarray | None = None) -> np.ndarray:
    """(m,) the batch loss of ``idx`` (the full loss if None) along the slice, on the problem's
    own scale (``problem.batch_loss``)."""
    with np.errstate(all="ignore"):
        return problem.batch_loss(slice_points(center, index, values), idx)


def mean_slope(problem: Problem, params: np.ndarray, index: int,
               idx: np.ndarray | None = None) -> float:
    """∂/∂param[index] of the mean per-sample loss of ``idx`` at ``params``: the slope of
    ``mean_curve`` there."""
    with np.errstate(all="ignore"):
        grads = problem.sample_grads(np.asarray(params, dtype=np.float64), idx)  # (k, p)
    return float(grads[:, index].mean())


def tangent_line(problem: Problem, params: np.ndarray, index: int, half_width: float,
                 idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """The tangent of ``mean_curve`` (samples ``idx``) at ``params`` along parameter ``index``.

    Returns x (2,), y (2,) of a segment ``half_width`` either side of the point, and the slope.
    """
    params = np.asarray(params, dtype=np.float64)
    w = float(params[index])
    with np.errstate(all="ignore"):
        y0 = float(problem.sample_losses(params, idx).mean())
    slope = mean_slope(problem, params, index, idx)
    x = np.array([w - half_width, w + half_width])
    return x, y0 + slope * (x - w), slope


def evenly_chosen(n: int, cap: int) -> np.ndarray:
    """Indices of at most ``cap`` of ``n`` items, evenly spread (all of them if n <= cap)."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, cap)).astype(np.int64))


def covers_all(batch: np.ndarray, n: int) -> bool:
    """True when ``batch`` (sample indices) holds every one of the n samples: a full batch.
    Sizes first: ``np.unique`` costs ~30 ms on its first call in a process (numpy sets it up
    lazily), which the start point's empty batch no longer pays before the first paint."""
    return len(batch) >= n and len(np.unique(batch)) >= n


def nan_separated(x: np.ndarray, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten (k, m) curves over a shared x (m,) into one polyline with NaN between curves.

    Returns X, Y of length k * (m + 1): draw with ``connect="finite"`` as ONE item.
    """
    curves = np.atleast_2d(curves)
    k, m = curves.shape
    xs = np.empty((k, m + 1))
    ys = np.empty((k, m + 1))
    xs[:, :m] = x
    ys[:, :m] = curves
    xs[:, m] = np.nan
    ys[:, m] = np.nan
    return xs.ravel(), ys.ravel()


def segments(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
             y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k line segments (x0, y0) -> (x1, y1) as one NaN-separated polyline of length 3k."""
    k = len(x0)
    xs = np.column_stack([x0, x1, np.full(k, np.nan)]).ravel()
    ys = np.column_stack([y0, y1, np.full(k, np.nan)]).ravel()
    return xs, ys


@dataclass(frozen=True)
class SliceCurves:
    """One computed slice. ``drawn`` (k,) are the sample indices whose curves are in ``curves``
    (k, m); ``mean`` (m,) averages ALL samples (per-sample scale)."""

    values: np.ndarray
    drawn: np.ndarray
    curves: np.ndarray
    mean: np.ndarray


class SliceCache(ProblemLRU):
    """A small LRU of slices per problem (weakly keyed, so a dropped problem frees its slices)."""

    def __init__(self, max_entries: int = 32) -> None:
        super().__init__(max_entries)

    @staticmethod
    def _key(index: int, center: np.ndarray, lo: float, hi: float, resolution: int,
             drawn: np.ndarray) -> tuple:
        held = np.delete(np.asarray(center, dtype=np.float64), index)
        return (int(index), held.tobytes(), float(lo), float(hi), int(resolution),
                np.asarray(drawn, dtype=np.int64).tobytes())

    def get(self, problem: Problem, index: int, center: np.ndarray, lo: float, hi: float,
            resolution: int = DEFAULT_RESOLUTION,
            drawn: np.ndarray | None = None) -> SliceCurves:
        """The slice of parameter ``index`` over [lo, hi] with the others held at ``center``;
        curves of the samples ``drawn`` (all if None)."""
        drawn = np.arange(problem.n_samples) if drawn is None else drawn
        return self._get(problem, self._key(index, center, lo, hi, resolution, drawn), lo, hi,
                         resolution, drawn,
                         lambda values: sample_curves(problem, center, index, values))

    def get_line(self, problem: Problem, base: np.ndarray, direction: np.ndarray, lo: float,
                 hi: float, resolution: int = DEFAULT_RESOLUTION,
                 drawn: np.ndarray | None = None) -> SliceCurves:
        """The curves along the line ``base + t·direction`` for t in [lo, hi] (``values`` are
        the t); curves of the samples ``drawn`` (all if None)."""
        drawn = np.arange(problem.n_samples) if drawn is None else drawn
        key = ("line", np.asarray(base, dtype=np.float64).tobytes(),
               np.asarray(direction, dtype=np.float64).tobytes(), float(lo), float(hi),
               int(resolution), np.asarray(drawn, dtype=np.int64).tobytes())
        return self._get(problem, key, lo, hi, resolution, drawn,
                         lambda values: line_curves(problem, base, direction, values))

    def _get(self, problem: Problem, key: tuple, lo: float, hi: float, resolution: int,
             drawn: np.ndarray, curves_at) -> SliceCurves:
        """The cached SliceCurves of ``key``, else made from ``curves_at(values)`` (every
        sample's curve, (n, m)) and kept."""
        found = self.lookup(problem, key)
        if found is not None:
            return found
        values = slice_grid(lo, hi, resolution)
        all_curves = curves_at(values)
        curves = all_curves[drawn]
        for array in (values, curves):
            array.setflags(write=False)
        mean = all_curves.mean(axis=0)
        mean.setflags(write=False)
        result = SliceCurves(values, np.asarray(drawn, dtype=np.int64), curves, mean)
        self.store(problem, key, result)
        return result
