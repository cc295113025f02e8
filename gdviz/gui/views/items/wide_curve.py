"""A curve item for wide lines along long, noisy paths (learning curves, parameter traces,
trajectories), drawn as a few 1-pixel lines side by side.

Why: Qt's raster engine has a fast path only for 1-pixel (cosmetic) lines. A wider aliased
line is stroked into a polygon per segment (pyqtgraph's ``drawLines``) and then filled; along
the envelope of an SGD run (up to two points per pixel column, zig-zagging over much of the
plot's height) that is what a learning curve of 6 runs spends most of its paint on. Stamping
the 1-pixel line at 4 (2 px wide) or 5 (3 px wide) offsets of one device pixel covers the same
pixels to within a pixel, at a quarter of the cost (measured on 6 wavy runs of 8 000 steps:
learning curve paint 2.5-3.5 ms -> 0.9 ms, parameter trace 3.3 -> 1.1 ms).

Only aliased, opaque, solid, cosmetic pens of width 1.5-3.5 without a fill are stamped; the
item draws anything else (an antialiased short curve, an export's antialiased frame, dashes)
as pyqtgraph does.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPen, QTransform

# device-pixel offsets of the 1-pixel copies, by the pen's width rounded
STAMPS = {
    2: ((0, 0), (1, 0), (0, 1), (1, 1)),
    3: ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)),
}


def stamps_for(pen: QPen | None) -> tuple[tuple[int, int], ...] | None:
    """The offsets that draw ``pen``'s line as 1-pixel copies; None if it cannot be."""
    if pen is None or not pen.isCosmetic() or pen.style() != Qt.PenStyle.SolidLine:
        return None
    if pen.color().alpha() != 255 or not pen.isSolid():
        return None   # overlapping copies of a translucent line would darken it
    return STAMPS.get(round(pen.widthF()))


class WideCurve(pg.PlotCurveItem):
    """A pg.PlotCurveItem (so ``setData(x, y)`` costs ~20 µs, not the ~165 µs of a
    pg.PlotDataItem's log mapping and bounds bookkeeping) whose wide aliased line is drawn
    as 1-pixel copies (module note). It has no log mode: on a log axis the caller gives
    log10 values, as it does for its markers."""

    _fast_bounds = (None, None)   # per axis: (min, max) of the data, until they change

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802, N803 (pyqtgraph)
        """The finite data's (min, max) on axis ``ax``, found with one NaN-skipping reduction
        per axis and kept until the data change: pyqtgraph's general version (warning
        filters, nanmin, inf checks) ran twice per curve and frame, in the scene's update and
        in the paint, at ~30 µs a call."""
        pen = self.opts["pen"]
        if (frac < 1.0 or orthoRange is not None or self.opts["fillLevel"] is not None
                or (pen is not None and not pen.isCosmetic())):
            return super().dataBounds(ax, frac, orthoRange)
        data = self.xData if ax == 0 else self.yData
        if data is None or len(data) == 0:
            return (None, None)
        if self._fast_bounds[ax] is None:
            low, high = float(np.fmin.reduce(data)), float(np.fmax.reduce(data))
            if not (math.isfinite(low) and math.isfinite(high)):   # all NaN, or an inf
                return super().dataBounds(ax, frac, orthoRange)
            self._fast_bounds[ax] = (low, high)
        return self._fast_bounds[ax]

    def invalidateBounds(self):  # noqa: N802 (pyqtgraph name)
        self._fast_bounds = [None, None]
        super().invalidateBounds()

    def paint(self, p, opt, widget):
        offsets = stamps_for(self.opts["pen"])
        plain = (offsets is None or self.opts["antialias"] or self._exportOpts is not False
                 or self.opts["fillLevel"] is not None or self.opts["shadowPen"] is not None
                 or self.opts["stepMode"])
        if plain:
            super().paint(p, opt, widget)
            return
        if self.xData is None or len(self.xData) < 2:
            return
        thin = QPen(self.opts["pen"])
        thin.setWidth(1)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(thin)
        path = self.getPath()
        origin = p.transform()
        for dx, dy in offsets:
            p.setTransform(origin * QTransform.fromTranslate(dx, dy))
            p.drawPath(path)
        p.setTransform(origin)
