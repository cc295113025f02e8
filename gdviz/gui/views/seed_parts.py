"""What the views draw of a run's other seeds (``RunTrack.seeds``, gui.seed_runs): faint ghost
paths (ONE curve item per run for all its seeds, NaN-separated), and on the contour the
end-point cloud: the seeds' current points, the 1σ and 2σ ellipses of their empirical
covariance, and, for plain SGD on a constant-Hessian problem, the 1σ and 2σ ellipses of the
predicted stationary covariance around the minimum (core.noise.stationary_prediction).

Items are created when the runs change and updated in place per step.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from gdviz.core.noise import covariance_ellipse, stationary_prediction
from gdviz.core.seed_paths import SeedPaths, empirical_covariance
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.items.dots import DotCloud
from gdviz.gui.views.items.updates import set_curve

# points of all runs' ghost paths in one view: stroking them costs ~0.25 ms per 1000 points
# (63 paths of 190 points: 3.2 ms a paint above an empty plot's, offscreen), whatever the alpha
GHOST_POINTS = 6_000
GHOST_ALPHA = 45       # of 255: 64 overlapping ghosts still read as a cloud, not a blot
CLOUD_ALPHA = 170


def ghost_rows(paths: SeedPaths, index: int, budget: int = GHOST_POINTS
               ) -> tuple[np.ndarray, np.ndarray]:
    """(steps (L,), params (L, K−1, p)): the seeds other than the run's own (member 0, drawn
    bold by the view) at steps 0..index, decimated so that all of them hold ~``budget``
    points."""
    others = max(1, paths.n_seeds - 1)
    steps, params = paths.paths(index, budget // others)
    return steps, params[:, 1:]


def separated(columns: np.ndarray) -> np.ndarray:
    """(L, M) values of M paths -> one (M·(L+1),) array, path after path, each followed by a
    NaN (pyqtgraph's ``connect="finite"`` breaks the line there)."""
    rows = np.empty((columns.shape[1], columns.shape[0] + 1))
    rows[:, :-1] = columns.T
    rows[:, -1] = np.nan
    out = rows.ravel()
    out[~np.isfinite(out)] = np.nan
    return out


class GhostPaths:
    """One faint curve per run: its other seeds' paths."""

    def __init__(self, plot_item: pg.PlotItem, z: float = 5) -> None:
        self.plot_item = plot_item
        self.z = z
        self.items: list[pg.PlotCurveItem] = []

    def style(self, tracks: tuple[RunTrack, ...]) -> None:
        while len(self.items) < len(tracks):
            item = pg.PlotCurveItem(connect="finite", antialias=False)
            item.setZValue(self.z)
            self.plot_item.addItem(item)
            self.items.append(item)
        for k, item in enumerate(self.items):
            if k < len(tracks) and tracks[k].seeds is not None:
                color = pg.mkColor(tracks[k].color)
                color.setAlpha(GHOST_ALPHA)
                item.setPen(pg.mkPen(color, width=1))
            else:
                set_curve(item, [], [])

    def draw(self, k: int, x: np.ndarray, y: np.ndarray) -> None:
        """Run k's ghosts: x, y as ``separated`` gives them."""
        set_curve(self.items[k], x, y)

    def clear(self, k: int) -> None:
        if k < len(self.items):
            set_curve(self.items[k], [], [])


class SeedCloud:
    """The contour's end-point cloud of every run: dots, empirical and predicted ellipses."""

    def __init__(self, plot_item: pg.PlotItem, z: float = 25) -> None:
        self.plot_item = plot_item
        self.z = z
        self.dots: list[DotCloud] = []
        self.spread: list[pg.PlotCurveItem] = []     # empirical 1σ, 2σ (solid)
        self.predicted: list[pg.PlotCurveItem] = []  # predicted stationary 1σ, 2σ (dashed)
        # a white line under both: a run's own bold path in the same colour crosses its cloud
        self.halos: list[pg.PlotCurveItem] = []
        self.predictions: list[tuple[np.ndarray, np.ndarray] | None] = []

    def style(self, tracks: tuple[RunTrack, ...]) -> None:
        """Items and pens for ``tracks``; the prediction of each run with seeds."""
        while len(self.dots) < len(tracks):
            dots = DotCloud("o", size=6, pen=pg.mkPen("w", width=1))
            halo = pg.PlotCurveItem(connect="finite", pen=pg.mkPen("w", width=4))
            spread = pg.PlotCurveItem(connect="finite")
            predicted = pg.PlotCurveItem(connect="finite")
            for item, dz in ((dots, 0), (halo, 0.5), (spread, 1), (predicted, 2)):
                item.setZValue(self.z + dz)
                self.plot_item.addItem(item, ignoreBounds=True)
            self.halos.append(halo)
            self.dots.append(dots)
            self.spread.append(spread)
            self.predicted.append(predicted)
        self.predictions = []
        for k in range(len(self.dots)):
            seeded = k < len(tracks) and tracks[k].seeds is not None
            self.predictions.append(stationary_prediction(tracks[k].config) if seeded else None)
            if not seeded:
                self.clear(k)
                continue
            color = pg.mkColor(tracks[k].color)
            fill = pg.mkColor(color)
            fill.setAlpha(CLOUD_ALPHA)
            self.dots[k].setBrush(fill)
            self.spread[k].setPen(pg.mkPen(color, width=2.5))
            self.predicted[k].setPen(pg.mkPen(color, width=2.5, style=Qt.PenStyle.DashLine))

    def draw(self, k: int, points: np.ndarray, pair: tuple[int, int]) -> None:
        """Run k's seeds at ``points`` (K, p), shown over parameters ``pair``."""
        i, j = pair
        self.dots[k].set_points(points[:, i], points[:, j])
        found = empirical_covariance(points[:, [i, j]])
        spread = (np.zeros(0), np.zeros(0))
        if found is not None and np.all(np.isfinite(found[1])):
            spread = _sigma_rings(*found)
        set_curve(self.spread[k], *spread)
        predicted = (np.zeros(0), np.zeros(0))
        if self.predictions[k] is not None:
            minimum, sigma = self.predictions[k]
            predicted = _sigma_rings(minimum[[i, j]], sigma[np.ix_((i, j), (i, j))])
        set_curve(self.predicted[k], *predicted)
        set_curve(self.halos[k], np.concatenate([spread[0], [np.nan], predicted[0]]),
                  np.concatenate([spread[1], [np.nan], predicted[1]]))

    def clear(self, k: int) -> None:
        if k < len(self.dots):
            self.dots[k].clear()
            for items in (self.spread, self.predicted, self.halos):
                set_curve(items[k], [], [])


def _sigma_rings(center: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 1σ and 2σ ellipses of ``cov`` (2, 2) around ``center`` as one NaN-separated curve."""
    x1, y1 = covariance_ellipse(center, cov, 1.0)
    x2, y2 = covariance_ellipse(center, cov, 2.0)
    return np.concatenate([x1, [np.nan], x2]), np.concatenate([y1, [np.nan], y2])


class LossBands:
    """The learning curve's seeds: per run, the median loss over its seeds (dashed) and the
    band between the 10 % and 90 % quantiles, ONE filled polygon (low forward, high back; a
    pg.FillBetweenItem between two curves rebuilt its path on each curve's change: 13 ms a
    frame against 2.5 without the band, measured on noise_ball)."""

    def __init__(self, plot_item: pg.PlotItem, z: float = 4) -> None:
        self.plot_item = plot_item
        self.z = z
        self.parts: list[tuple[QGraphicsPathItem, pg.PlotCurveItem]] = []

    def style(self, tracks: tuple[RunTrack, ...]) -> None:
        while len(self.parts) < len(tracks):
            band = QGraphicsPathItem()
            band.setPen(QPen(Qt.PenStyle.NoPen))
            median = pg.PlotCurveItem()
            band.setZValue(self.z)
            median.setZValue(self.z + 1)
            self.plot_item.addItem(band, ignoreBounds=True)   # the view fits its range itself
            self.plot_item.addItem(median)
            self.parts.append((band, median))
        for k, (band, median) in enumerate(self.parts):
            if k < len(tracks) and tracks[k].seeds is not None:
                color = pg.mkColor(tracks[k].color)
                shade = pg.mkColor(color)
                shade.setAlpha(45)
                band.setBrush(pg.mkBrush(shade))
                median.setPen(pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
            else:
                self.clear(k)

    def draw(self, k: int, x: np.ndarray, quantiles: np.ndarray) -> None:
        """Run k's band at x (L,) from ``quantiles`` (L, 3): low, median, high, in the plot's
        units (non-finite rows are left out)."""
        band, median = self.parts[k]
        keep = np.isfinite(quantiles).all(axis=1)
        x, q = x[keep], quantiles[keep]
        outline_x = np.concatenate([x, x[::-1]])
        outline_y = np.concatenate([q[:, 0], q[::-1, 2]])
        band.setPath(pg.arrayToQPath(outline_x, outline_y, connect="all") if len(x)
                     else QPainterPath())
        median.setData(x, q[:, 1])

    def clear(self, k: int) -> None:
        if k < len(self.parts):
            band, median = self.parts[k]
            band.setPath(QPainterPath())
            if median.xData is not None and len(median.xData):
                median.setData([], [])
