"""The parts of a loss map that are not a view: the colour map, the map itself (image,
iso-lines and colour bar, shared by the contour and the landscape views), the colour bar's
tick labels, the message a view shows instead of a map, and the ViewBox that turns a click or
drag into a picked start point."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel

from gdviz.core.grids import DisplayScale
from gdviz.gui.views import style
from gdviz.gui.views.items.caching import cache_as_pixmap, cache_axes


def loss_colormap() -> pg.ColorMap:
    """viridis blended 40 % towards white: still perceptually ordered, and light enough that
    dark trajectories and arrows stay visible on the low (dark) end."""
    table = pg.colormap.get("viridis").getLookupTable(nPts=64, alpha=False).astype(float)
    table = 0.6 * table + 0.4 * 255.0
    return pg.ColorMap(np.linspace(0.0, 1.0, 64), table.astype(np.uint8))


class LossMap:
    """A grid of losses drawn on ``plot_item``: ``image`` (the colour map, under everything),
    ``iso`` (its iso-lines, kept as a pixmap between frames: they change with the map only) and
    ``colorbar`` beside the plot."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        self.cmap = loss_colormap()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(self.cmap)
        self.image.setZValue(-20)
        plot_item.addItem(self.image)
        self.iso = pg.PlotDataItem([], [], connect="pairs",
                                   pen=pg.mkPen(40, 40, 40, 110, width=1))
        self.iso.setZValue(-10)
        plot_item.addItem(self.iso)
        self.colorbar = pg.ColorBarItem(colorMap=self.cmap, interactive=False, width=14,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=plot_item)
        cache_axes(self.colorbar)
        cache_as_pixmap(self.iso)
        self.colorbar.axis.enableAutoSIPrefix(False)    # "(x0.001)" confuses students
        self.colorbar.axis.setWidth(58)                 # room for "5000" beside the label

    def show(self, xs: np.ndarray, ys: np.ndarray, shown: np.ndarray, scale: DisplayScale,
             iso: np.ndarray) -> None:
        """The colour map ``shown`` (ny, nx) over xs (nx,) × ys (ny,), each cell centred on
        its point, its colour bar and the iso-line segments ``iso`` (m, 2, 2)."""
        (x0, x1), (y0, y1) = (xs[0], xs[-1]), (ys[0], ys[-1])
        dx, dy = (x1 - x0) / max(len(xs) - 1, 1), (y1 - y0) / max(len(ys) - 1, 1)
        lo, hi = scale.lo, scale.hi
        self.image.setImage(np.nan_to_num(shown, nan=hi), levels=(lo, hi))
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
        self.colorbar.setLevels((lo, hi))
        self.colorbar.axis.setLabel(scale.label())
        ticks = scale.ticks()
        self.colorbar.axis.setTicks(
            None if ticks is None else [[(t, tick_label(v)) for t, v in ticks]])
        self.iso.setData(iso[:, :, 0].ravel(), iso[:, :, 1].ravel())

    def clear(self) -> None:
        self.image.clear()
        self.iso.setData([], [])


def message_label(text: str) -> QLabel:
    """A centred, wrapping message shown (by the view) in place of a map it cannot draw."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setVisible(False)
    return label


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
