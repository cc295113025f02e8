"""The plot of learning-rate sweeps: objective against lr (log x), for each swept run in its
colour the mean over the seeds (line), mean ± one standard deviation (band), the best lr
(dashed vertical line and a dot) and the usable window (shaded); lrs where a seed diverged
are crosses along the top edge (their objective is inf and has no place on the axis).

``SweepPlot.show_results([(result, colour), ...])`` replaces what is drawn. The y axis is
logarithmic when every finite mean is > 0 and the objective is a loss (final, auc); steps-to
is drawn linear.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from gdviz.core.sweep import SweepResult
from gdviz.gui.views.base import configure_pyqtgraph


def _colour(colour: str, alpha: int) -> QColor:
    c = QColor(colour)
    c.setAlpha(alpha)
    return c


class SweepPlot(pg.PlotWidget):
    """Objective against learning rate for one or more sweeps."""

    def __init__(self, parent=None) -> None:
        configure_pyqtgraph()
        super().__init__(parent, viewBox=pg.ViewBox(enableMenu=False))
        self.setMinimumSize(420, 260)
        self.setLabel("bottom", "learning rate")
        self.showGrid(x=True, y=True, alpha=0.2)
        # bottom left: the losses of the small lrs are high, above it
        self.legend = self.addLegend(offset=(10, -10))
        self.log_y = False
        self.best_lines: list[pg.InfiniteLine] = []
        self.windows: list[pg.LinearRegionItem] = []

    def show_results(self, results: list[tuple[SweepResult, str, str]]) -> None:
        """Draw ``(result, colour, name)`` for each sweep (earlier drawings are removed)."""
        self.clear()
        self.legend.clear()
        self.best_lines, self.windows = [], []
        if not results:
            return
        objective = results[0][0].objective
        finite = np.concatenate([r.mean[np.isfinite(r.mean)] for r, _, _ in results])
        self.log_y = (objective.kind != "steps-to" and finite.size > 0
                      and bool((finite > 0).all()))
        self.setLogMode(x=True, y=self.log_y)
        self.setLabel("left", objective.label)
        top = float(finite.max()) if finite.size else 1.0
        for result, colour, name in results:
            self._draw(result, colour, name, top)
        self.enableAutoRange()

    def _draw(self, result: SweepResult, colour: str, name: str, top: float) -> None:
        lrs, mean, spread = result.lrs, result.mean, result.spread
        ok = np.isfinite(mean)
        line = pg.PlotDataItem(lrs[ok], mean[ok], pen=pg.mkPen(colour, width=2),
                               symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None,
                               name=name)
        self.addItem(line)
        has_band = ok & np.isfinite(spread) & (spread > 0)
        if has_band.any():
            low = mean[has_band] - spread[has_band]
            if self.log_y:  # a band below 0 has no place on a log axis: keep it above
                low = np.maximum(low, mean[has_band] * 1e-3)
            lower = pg.PlotDataItem(lrs[has_band], low, pen=None)
            upper = pg.PlotDataItem(lrs[has_band], mean[has_band] + spread[has_band], pen=None)
            self.addItem(lower)
            self.addItem(upper)
            self.addItem(pg.FillBetweenItem(lower, upper, brush=_colour(colour, 50)))
        bad = result.diverged.any(axis=1)
        if bad.any():
            self.addItem(pg.PlotDataItem(lrs[bad], np.full(int(bad.sum()), top), pen=None,
                                         symbol="x", symbolSize=9, symbolPen=colour))
        window = result.window_lrs
        if window is not None:
            region = pg.LinearRegionItem(values=(math.log10(window[0]), math.log10(window[1])),
                                         movable=False, brush=_colour(colour, 35),
                                         pen=pg.mkPen(_colour(colour, 90)))
            region.setZValue(-10)
            self.addItem(region)
            self.windows.append(region)
        best = result.best_lr
        if best is not None:
            marker = pg.InfiniteLine(pos=math.log10(best), angle=90,
                                     pen=pg.mkPen(colour, width=1.5,
                                                  style=Qt.PenStyle.DashLine))
            self.addItem(marker)
            self.best_lines.append(marker)
            self.addItem(pg.PlotDataItem([best], [result.best_value], pen=None, symbol="star",
                                         symbolSize=14, symbolBrush=colour, symbolPen="k"))
