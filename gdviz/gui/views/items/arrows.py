"""Update arrows in data coordinates: one NaN-separated line item for all shafts plus a fixed
pool of pixel-sized heads, all created once.

A head is drawn in pixels (it must not stretch with the axes), so its angle depends on how data
maps to the screen: it is recomputed whenever the ViewBox transform changes (range, resize).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from gdviz.core.surfaces import segments
from gdviz.gui.views.items.updates import set_curve
from gdviz.gui.views.items.wide_curve import WideCurve

MIN_PIXELS = 3.0  # shorter arrows (a zero gradient) get no head: there is no direction to show


class ArrowPool:
    """Up to ``capacity`` arrows from (x0, y0) to (x1, y1) in ``plot``'s data coordinates."""

    def __init__(self, plot: pg.PlotItem, color: str, capacity: int = 10, width: float = 2.0,
                 name: str | None = None, z: float = 20) -> None:
        self.capacity = capacity
        self._vb = plot.getViewBox()
        self.shafts = WideCurve(pen=pg.mkPen(color, width=width), connect="finite", name=name)
        self.shafts.setZValue(z)
        plot.addItem(self.shafts)
        self.heads: list[pg.ArrowItem] = []
        for _ in range(capacity):
            head = pg.ArrowItem(angle=0, headLen=13, tipAngle=32, tailLen=None,
                                pen=pg.mkPen(color), brush=pg.mkBrush(color), pxMode=True)
            head.setZValue(z + 1)
            head.setVisible(False)
            plot.addItem(head, ignoreBounds=True)
            self.heads.append(head)
        self._ends = np.zeros((0, 4))
        self._heads_used = 0   # heads [0, _heads_used) may be visible; the others are hidden
        self._vb.sigTransformChanged.connect(self._orient)

    def set_arrows(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray,
                   y1: np.ndarray) -> None:
        """Show these arrows (at most ``capacity``; the rest are dropped)."""
        ends = np.column_stack([np.ravel(x0), np.ravel(y0), np.ravel(x1), np.ravel(y1)])
        ends = ends[: self.capacity]
        ends = ends[np.all(np.isfinite(ends), axis=1)]
        self._ends = ends
        # skipped when the shafts are as they are (an arrow pool cleared on every frame)
        set_curve(self.shafts, *segments(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3]))
        self._orient()

    def clear(self) -> None:
        self.set_arrows(*(np.zeros(0),) * 4)

    def data(self) -> np.ndarray:
        """(k, 4) the arrows shown: x0, y0, x1, y1."""
        return self._ends.copy()

    def _orient(self, *_args: object) -> None:
        to_scene = self._vb.childGroup.sceneTransform().map   # one transform for all heads
        shown = 0
        for i, (x0, y0, x1, y1) in enumerate(self._ends):
            head = self.heads[i]
            p0 = to_scene(QPointF(x0, y0))
            p1 = to_scene(QPointF(x1, y1))
            dx, dy = p1.x() - p0.x(), p1.y() - p0.y()
            if math.hypot(dx, dy) < MIN_PIXELS:
                if head.isVisible():
                    head.setVisible(False)
                continue
            # angle 0 points left (tip at the item's position); rotate to point along (dx, dy)
            angle = 180.0 + math.degrees(math.atan2(dy, dx))
            if head.rotation() != angle:
                head.setRotation(angle)
            pos = head.pos()
            if pos.x() != x1 or pos.y() != y1:
                head.setPos(x1, y1)
            if not head.isVisible():
                head.setVisible(True)
            shown = i + 1
        # the heads beyond the arrows: only those shown before need hiding
        for head in self.heads[len(self._ends) : max(self._heads_used, len(self._ends))]:
            if head.isVisible():
                head.setVisible(False)
        self._heads_used = max(shown, len(self._ends))
