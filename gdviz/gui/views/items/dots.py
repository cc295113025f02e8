"""Markers of a few points that move on every frame (the current point of each run, the mean
loss at w, the batch's samples), drawn by Qt in C++.

Why not pg.ScatterPlotItem: its ``paint`` is Python (~0.35-0.45 ms per paint even for one
spot: bounds, a view transform, a fragment atlas), and a plot repaints it on every frame while
a run plays; a window showed ~8 of them. Here each marker is a ``QGraphicsPathItem`` that
ignores the view's scale (its size is in pixels, as a scatter's ``pxMode``), is given its
pen and brush when they change and is moved with ``setPos``: nothing of it runs in Python
when Qt paints.

The markers are children of one ``Dots`` item, added to the plot. ``Dots`` draws nothing
itself (``ItemHasNoContents``) and sits at the origin of the data coordinates, so that what
pyqtgraph asks of a plot item (``dataBounds`` for the auto-range, ``pixelPadding``,
``getData``) is answered in data coordinates. On a log axis the caller passes log10 values
(``Dots`` has no ``setLogMode``).

Above ``many`` points (a large batch) one item per point would cost more than a scatter's
paint: then a pg.ScatterPlotItem child, moved in place (updates.set_points), shows them instead.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from gdviz.gui.views.items.updates import set_points

_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
_FIXED_SIZE = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations


def symbol_path(symbol: str, size: float) -> QPainterPath:
    """pyqtgraph's ``symbol`` (a path of unit size) scaled to ``size`` pixels, as a scatter
    with ``pxMode`` draws it (``drawSymbol`` scales the painter by the size)."""
    return QTransform.fromScale(size, size).map(Symbols[symbol])


class Dot(QGraphicsPathItem):
    """One marker: a fixed-size path, moved with ``setPos`` in its parent's (data)
    coordinates. Painted by QGraphicsPathItem in C++ (no Python ``paint``)."""

    def __init__(self, path: QPainterPath, pen: QPen, brush: QBrush, parent) -> None:
        super().__init__(path, parent)
        self.setFlag(_FIXED_SIZE)
        self.setPen(pen)
        self.setBrush(brush)


class Dots(QGraphicsPathItem):
    """Markers of one symbol: ``set_points(x, y)`` moves them (and shows or hides as many as
    needed); ``brushes``/``sizes`` give each its own fill or size.

    ``symbol``/``size``/``pen``/``brush`` mean what they mean for pg.ScatterPlotItem
    (``size`` is the symbol's width in pixels, pxMode; the pen is cosmetic, None: no
    outline). More than ``many`` points are drawn by a scatter (see the module's note)."""

    MANY = 32

    def __init__(self, symbol: str = "o", size: float = 7, pen=None, brush=None,
                 many: int = MANY) -> None:
        super().__init__()
        self.many = many
        self._scatter: pg.ScatterPlotItem | None = None   # made at the first large set
        self.setFlag(_NO_CONTENTS)
        self._symbol = symbol
        self._size = float(size)
        self._pen = pg.mkPen(pen) if pen is not None else pg.mkPen(None)
        self._brush = pg.mkBrush(brush) if brush is not None else pg.mkBrush(None)
        self._paths: dict[float, QPainterPath] = {}
        self._dots: list[Dot] = []       # a pool that only grows; the unused are hidden
        self._shown = 0
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._sizes: list[float] = []

    # -- what pyqtgraph asks of a plot item ---------------------------------------------------
    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The markers' positions as given: (x, y), each (n,)."""
        return self._x, self._y

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """[low, high] of the finite positions along ``ax`` (0 = x, 1 = y), None with none;
        with ``orthoRange``, of the markers whose other coordinate lies in it."""
        d, other = (self._x, self._y) if ax == 0 else (self._y, self._x)
        keep = np.isfinite(d) & np.isfinite(other)
        if orthoRange is not None:
            keep &= (other >= orthoRange[0]) & (other <= orthoRange[1])
        if not keep.any():
            return None
        d = d[keep]
        if frac >= 1.0:
            return [float(d.min()), float(d.max())]
        return list(np.percentile(d, [50 * (1 - frac), 50 * (1 + frac)]))

    def pixelPadding(self) -> float:
        """Pixels the view keeps around the positions: half a marker's diagonal (pyqtgraph's
        0.7072 × width for scatter spots, pen included)."""
        if not len(self._x):
            return 0.0
        sizes = self._sizes[: self._shown] if self._shown else [self._size]
        return (max(sizes) + self._pen.widthF()) * 0.7072

    # -- moving --------------------------------------------------------------------------------
    def set_points(self, x, y, brushes=None, sizes=None) -> None:
        """Show markers at (x[i], y[i]) in data coordinates; non-finite ones are hidden.
        ``brushes``: one per marker (anything pg.mkBrush takes), else the item's brush;
        ``sizes``: one per marker, else the item's size. Changes only what changed."""
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        n = len(x)
        if brushes is not None and len(brushes) != n:
            raise ValueError(f"{len(brushes)} brushes for {n} points")
        if sizes is not None and len(sizes) != n:
            raise ValueError(f"{len(sizes)} sizes for {n} points")
        if n > self.many:
            self._set_scatter(x, y, brushes, sizes)
            return
        if self._scatter is not None and self._scatter.isVisible():
            self._scatter.setVisible(False)
        moved = not (n == len(self._x) and np.array_equal(x, self._x, equal_nan=True)
                     and np.array_equal(y, self._y, equal_nan=True))
        self._x, self._y = x, y
        while len(self._dots) < n:
            self._dots.append(Dot(self._path(self._size), self._pen, self._brush, self))
            self._sizes.append(self._size)
        for k in range(n):
            dot = self._dots[k]
            size = self._size if sizes is None else float(sizes[k])
            if size != self._sizes[k]:
                self._sizes[k] = size
                dot.setPath(self._path(size))
            brush = self._brush if brushes is None else _brush(brushes[k])
            if brush != dot.brush():
                dot.setBrush(brush)
            xk, yk = float(x[k]), float(y[k])
            if math.isfinite(xk) and math.isfinite(yk):
                pos = dot.pos()
                if pos.x() != xk or pos.y() != yk:
                    dot.setPos(xk, yk)
                if not dot.isVisible():
                    dot.setVisible(True)
            elif dot.isVisible():
                dot.setVisible(False)
        for dot in self._dots[n: self._shown]:
            dot.setVisible(False)
        self._shown = n
        if moved:
            self._bounds_changed()

    def _set_scatter(self, x, y, brushes, sizes) -> None:
        for dot in self._dots[: self._shown]:
            dot.setVisible(False)
        self._shown = 0
        moved = not (len(x) == len(self._x) and np.array_equal(x, self._x, equal_nan=True)
                     and np.array_equal(y, self._y, equal_nan=True))
        self._x, self._y = x, y
        if self._scatter is None:
            self._scatter = pg.ScatterPlotItem(symbol=self._symbol, size=self._size,
                                               pen=self._pen, brush=self._brush)
            self._scatter.setParentItem(self)
        opts, key = {}, None
        if brushes is not None:
            opts["brush"] = [_brush(b) for b in brushes]
            key = tuple(b.color().name(QColor.NameFormat.HexArgb) for b in opts["brush"])
        if sizes is not None:
            opts["size"] = list(sizes)
            key = (key, tuple(sizes))
        set_points(self._scatter, x, y, key=key, **opts)
        self._scatter.setVisible(True)
        if moved:
            self._bounds_changed()

    def clear(self) -> None:
        """No markers."""
        self.set_points([], [])

    def dots(self) -> list[Dot]:
        """The markers now in use (some hidden when their position is not finite)."""
        return self._dots[: self._shown]

    def _path(self, size: float) -> QPainterPath:
        path = self._paths.get(size)
        if path is None:
            path = self._paths[size] = symbol_path(self._symbol, size)
        return path

    def _bounds_changed(self) -> None:
        # what ScatterPlotItem.informViewBoundsChanged does: the ViewBox re-fits its
        # auto-range (when on) to the new positions
        group = self.parentItem()
        view = group.parentItem() if group is not None else None
        if view is not None and hasattr(view, "itemBoundsChanged"):
            view.itemBoundsChanged(self)


_BRUSHES: dict = {}


def _brush(spec) -> QBrush:
    """A QBrush as given, else pg.mkBrush(spec), made once per colour name."""
    if isinstance(spec, QBrush):
        return spec
    if isinstance(spec, str):
        brush = _BRUSHES.get(spec)
        if brush is None:
            brush = _BRUSHES[spec] = pg.mkBrush(spec)
        return brush
    return pg.mkBrush(spec)


class DotCloud(pg.GraphicsObject):
    """Many dots of one symbol, size (pixels) and colour, such as lesson 1's (x, w) path of
    shuffled samples (up to ~1000 dots): ``set_points(x, y)`` replaces them.

    Why not pg.ScatterPlotItem: it keeps a record per spot (with Python objects in it), so
    adding or moving points re-allocates and restyles the record array (~0.5 ms a frame for
    1000 dots while a run plays), and its paint does per-spot bookkeeping. Here the positions
    are two float arrays, and ``paint`` draws one pre-rendered symbol at each of them with
    ``drawPixmapFragments``, the same symbol image (pyqtgraph's ``renderSymbol``) and the
    same call a scatter with ``pxMode`` draws with: the picture is the scatter's."""

    def __init__(self, symbol: str = "o", size: float = 4, pen=None, brush=None) -> None:
        super().__init__()
        self._symbol, self._size = symbol, float(size)
        self._pen = pg.mkPen(pen) if pen is not None else pg.mkPen(None)
        self._brush = pg.mkBrush(brush) if brush is not None else pg.mkBrush(None)
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._rect = None              # bounding rectangle, until the data or the view change
        self._shown = None             # the finite dots (_finite), until the data change
        self._codes = None             # (n,) index of each dot's brush in _palette, or None
        self._palette: tuple = ()
        self._pixmaps: dict = {}       # dpr -> the symbols (_atlas)
        self._fragments = pg.Qt.internals.PrimitiveArray(QPainter.PixmapFragment, 10)

    def set_points(self, x, y, brushes=None) -> None:
        """Dots at (x[i], y[i]) in data coordinates (non-finite ones are not drawn);
        ``brushes``: one per dot (anything pg.mkBrush takes), else the item's brush."""
        x = np.array(x, dtype=np.float64).ravel()
        y = np.array(y, dtype=np.float64).ravel()
        if brushes is None:
            codes, palette = None, ()
        else:
            if len(brushes) != len(x):
                raise ValueError(f"{len(brushes)} brushes for {len(x)} points")
            found: dict[str, int] = {}
            palette_list: list[QBrush] = []
            codes = np.empty(len(x), dtype=np.int64)
            for k, spec in enumerate(brushes):
                brush = _brush(spec)
                name = brush.color().name(QColor.NameFormat.HexArgb)
                code = found.get(name)
                if code is None:
                    code = found[name] = len(palette_list)
                    palette_list.append(brush)
                codes[k] = code
            palette = tuple(palette_list)
        same_style = (palette == self._palette and (
            codes is None if self._codes is None else
            codes is not None and np.array_equal(codes, self._codes)))
        if (same_style and len(x) == len(self._x) and np.array_equal(x, self._x, equal_nan=True)
                and np.array_equal(y, self._y, equal_nan=True)):
            return
        if not same_style:
            self._codes, self._palette = codes, palette
            self._pixmaps.clear()
        self.prepareGeometryChange()
        self._x, self._y = x, y
        self._rect = None
        self._shown = None
        self.informViewBoundsChanged()
        self.update()

    def setBrush(self, brush) -> None:  # noqa: N802 (pyqtgraph style)
        brush = pg.mkBrush(brush)
        if brush != self._brush:
            self._brush = brush
            self._pixmaps.clear()
            self.update()

    def brush(self) -> QBrush:
        return self._brush

    def clear(self) -> None:
        self.set_points([], [])

    # -- what pyqtgraph asks of a plot item ---------------------------------------------------
    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        d, other = (self._x, self._y) if ax == 0 else (self._y, self._x)
        keep = np.isfinite(d) & np.isfinite(other)
        if orthoRange is not None:
            keep &= (other >= orthoRange[0]) & (other <= orthoRange[1])
        if not keep.any():
            return [None, None]
        d = d[keep]
        if frac >= 1.0:
            return [float(d.min()), float(d.max())]
        return list(np.percentile(d, [50 * (1 - frac), 50 * (1 + frac)]))

    def pixelPadding(self) -> float:
        return (self._size + self._pen.widthF()) * 0.7072

    def boundingRect(self):  # noqa: N802 (Qt name)
        if self._rect is None:
            xs, ys = self.dataBounds(0), self.dataBounds(1)
            if xs[0] is None or ys[0] is None:
                self._rect = pg.QtCore.QRectF()
                return self._rect
            px, py = self.pixelVectors()
            pad = self.pixelPadding()
            px = 0.0 if px is None else px.length() * pad
            py = 0.0 if py is None else py.length() * pad
            self._rect = pg.QtCore.QRectF(xs[0] - px, ys[0] - py, xs[1] - xs[0] + 2 * px,
                                          ys[1] - ys[0] + 2 * py)
        return self._rect

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph name)
        self.prepareGeometryChange()
        self._rect = None

    # -- painting ------------------------------------------------------------------------------
    def _atlas(self, dpr: float):
        """The symbol in each brush of the palette (the item's brush without one), side by
        side in one pixmap, as pyqtgraph's renderSymbol draws it: (pixmap, side in pixels)."""
        found = self._pixmaps.get(dpr)
        if found is None:
            from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
            from PySide6.QtCore import QPoint, Qt
            from PySide6.QtGui import QImage, QPixmap

            brushes = self._palette or (self._brush,)
            images = [renderSymbol(self._symbol, self._size, self._pen, b, dpr=dpr)
                      for b in brushes]
            side = images[0].width()
            atlas = QImage(side * len(images), side, QImage.Format.Format_ARGB32_Premultiplied)
            atlas.fill(Qt.GlobalColor.transparent)
            painter = QPainter(atlas)
            for k, image in enumerate(images):
                image.setDevicePixelRatio(1.0)
                painter.drawImage(QPoint(k * side, 0), image)
            painter.end()
            pixmap = QPixmap.fromImage(atlas)
            pixmap.setDevicePixelRatio(dpr)
            found = self._pixmaps[dpr] = (pixmap, side)
        return found

    def _finite(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The dots that are drawn (finite x and y) and their brush codes, found once per
        set of points, not on every paint."""
        if self._shown is None:
            keep = np.isfinite(self._x) & np.isfinite(self._y)
            self._shown = (self._x[keep], self._y[keep],
                           None if self._codes is None else self._codes[keep])
        return self._shown

    def paint(self, p, *args) -> None:
        x, y, codes = self._finite()
        n = len(x)
        if n == 0:
            return
        widget = args[1] if len(args) > 1 else None
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        pixmap, side = self._atlas(dpr)
        t = p.transform()
        self._fragments.resize(n)
        frags = self._fragments.ndarray()
        # the dots' centres in device pixels (as ScatterPlotItem maps them), drawn unscaled
        # (their size is in pixels) in the order given, each from its brush's symbol
        frags[:, 0] = np.clip(t.m11() * x + t.m21() * y + t.dx(), -2.0 ** 30, 2.0 ** 30)
        frags[:, 1] = np.clip(t.m12() * x + t.m22() * y + t.dy(), -2.0 ** 30, 2.0 ** 30)
        frags[:, 2] = 0 if codes is None else codes * side
        frags[:, 3:6] = [0, side, side]
        frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]
        p.resetTransform()
        p.drawPixmapFragments(*self._fragments.drawargs(), pixmap)
