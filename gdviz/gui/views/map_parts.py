"""The contour map's parts that are not the view: its colour map, the colour bar's tick
labels, and the ViewBox that turns a click or drag into a picked start point."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from gdviz.gui.views import style


def loss_colormap() -> pg.ColorMap:
    """viridis blended 40 % towards white: still perceptually ordered, and light enough that
    dark trajectories and arrows stay visible on the low (dark) end."""
    table = pg.colormap.get("viridis").getLookupTable(nPts=64, alpha=False).astype(float)
    table = 0.6 * table + 0.4 * 255.0
    return pg.ColorMap(np.linspace(0.0, 1.0, 64), table.astype(np.uint8))


class PickBox(pg.ViewBox):
    """A ViewBox whose left-button click or drag picks a point (the wheel still zooms).
    ``sig_picked(QPointF in data coordinates, final)``; final is False while dragging."""

    sig_picked = Signal(object, bool)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sig_picked.emit(self.mapSceneToView(ev.scenePos()), True)
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sig_picked.emit(self.mapSceneToView(ev.scenePos()), ev.isFinish())
        else:
            super().mouseDragEvent(ev, axis)


def tick_label(value: float) -> str:
    """A round loss for a colour-bar tick: 0.01, 0.5, 20, 1000, 1e+05."""
    if 1000 <= abs(value) < 1e5:
        return style.fmt(value, 5)
    return style.fmt(value, 3)
