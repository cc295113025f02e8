"""Lines across a plot at given positions that move while a run plays."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class RuleLines:
    """Vertical (or horizontal) lines across a plot at the given positions, for markers that
    move while a run plays (epoch boundaries, the current w, a histogram's means): ONE curve
    of segments spanning the visible range, redrawn when the range changes.

    Why not pg.InfiniteLine: a moved InfiniteLine recomputes its bounds while it is painted
    and calls prepareGeometryChange from there, so Qt paints its whole plot a second time on
    every frame (measured: 7 paints of the window per refresh instead of 1)."""

    def __init__(self, plot: pg.PlotWidget, pen, vertical: bool = True, z: float = 5) -> None:
        self.vertical = vertical
        self.item = pg.PlotCurveItem([], [], pen=pen, connect="pairs", antialias=False)
        self.item.rule_lines = self  # what it shows is ``values`` (the span follows the view)
        self.item.setZValue(z)
        plot.getPlotItem().addItem(self.item, ignoreBounds=True)
        self.view = plot.getPlotItem().getViewBox()
        self.view.sigRangeChanged.connect(self._draw)
        self.values = np.zeros(0)

    def set_values(self, values) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        if not np.array_equal(values, self.values):
            self.values = values
            self._draw()

    # one line: the InfiniteLine-like calls the views use
    def setValue(self, value: float) -> None:  # noqa: N802 (Qt style)
        self.set_values([value])

    def value(self) -> float:
        return float(self.values[0]) if len(self.values) else float("nan")

    def setVisible(self, visible: bool) -> None:  # noqa: N802 (Qt style)
        self.item.setVisible(visible)

    def isVisible(self) -> bool:  # noqa: N802 (Qt style)
        return self.item.isVisible()

    def _draw(self, *_args) -> None:
        (x0, x1), (y0, y1) = self.view.viewRange()
        ends = np.tile([y0, y1] if self.vertical else [x0, x1], len(self.values))
        along = np.repeat(self.values, 2)
        x, y = (along, ends) if self.vertical else (ends, along)
        self.item.setData(x, y, connect="pairs")
