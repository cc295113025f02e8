"""Painting a widget into export frames, offscreen and one at a time (Qt), and what every
frame source shares (``FrameSource``).

Rendering paints into ONE reused QImage of the widget's size (no pixmap per frame, no PNG
round-trip); a frame comes out as a (height, width) uint32 array of 0xAARRGGBB pixels of
exactly the requested size, copied from the image (a widget that cannot be made that small is
rendered at its minimum size and scaled). ``gdviz.export.gif`` takes these arrays as they are.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


class Painter:
    """Paints a widget into one reused QImage and hands out RGB frames of ``size``."""

    def __init__(self, widget, size: tuple[int, int]) -> None:
        from PySide6.QtGui import QImage

        self.widget = widget
        self.size = (int(size[0]), int(size[1]))
        w, h = widget.width(), widget.height()
        self.image = QImage(w, h, QImage.Format.Format_RGB32)

    def _opengl(self) -> bool:
        """Whether an OpenGL widget is shown in the widget now (the Landscape view makes its
        3-D scene when its box is ticked, after the painter was made)."""
        from PySide6.QtOpenGLWidgets import QOpenGLWidget

        return isinstance(self.widget, QOpenGLWidget) or any(
            child.isVisibleTo(self.widget) for child in self.widget.findChildren(QOpenGLWidget))

    def frame(self) -> np.ndarray:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QImage

        if self._opengl():
            # render() into a QImage leaves an OpenGL widget's area empty; grab() composes
            # it, and a 3-D view's grab_image() adds what grab() drops (the axis labels)
            grab = getattr(self.widget, "grab_image", None)
            image = grab() if grab is not None else self.widget.grab().toImage()
            image = image.convertToFormat(QImage.Format.Format_RGB32)
        else:
            self.image.fill(Qt.GlobalColor.white)
            self.widget.render(self.image)
            image = self.image
        if (image.width(), image.height()) != self.size:
            image = image.scaled(*self.size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
            image = image.convertToFormat(QImage.Format.Format_RGB32)
        rows = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)
        # copy: the buffer belongs to the QImage, which is painted over for the next frame
        return rows[:, : image.width()].copy()


def palette_swatch(size: tuple[int, int], extra: tuple = ()) -> Image.Image:
    """An image of every colour the views use, each faded into the white background in 16
    steps (antialiased edges, translucent fills), as a palette sample: a colour that is not in
    the first frame (the update arrow appears at step 1) still gets its own entries.
    ``extra``: more colours (the runs of a comparison, whose paths appear after frame 0)."""
    from gdviz.gui.views import style

    def rgb(color) -> np.ndarray:
        if isinstance(color, str):
            return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
        return np.array(color[:3], dtype=np.float64)

    colors = [style.BATCH, style.FULL, style.START, style.TRUE, style.SAMPLE, style.TEXT,
              *style.CLASS_COLORS, *style.PARAM_COLORS]
    colors += [c for c in extra if c not in colors]
    fade = np.linspace(0.0, 1.0, 16)[:, None]
    rows = [rgb(c) * (1 - fade) + 255.0 * fade for c in colors]
    strip = np.concatenate(rows).astype(np.uint8)  # (16 * colours, 3)
    # enough pixels per entry to count next to a large white frame in the median cut
    block = max(4, (size[0] * size[1]) // (strip.shape[0] * 40))
    pixels = np.repeat(strip[None, :, :], block, axis=0)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


def cache_static_items(widget) -> None:
    """Let Qt keep the axes (with their grid), legends, lines and labels of ``widget``'s plots
    as pixmaps: they change rarely, and repainting them was half the cost of a frame. An item
    that changes still repaints itself. Compared with the uncached drawing, a few hundred
    pixels of text differ by sub-pixel antialiasing (measured: <= 400 of 307 200 px at
    640x480; the axes, grid and curves are identical)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsItem

    cache = QGraphicsItem.CacheMode.DeviceCoordinateCache

    def cache_tree(item) -> None:
        item.setCacheMode(cache)  # caches only the item's own paint: children too
        for child in item.childItems():
            cache_tree(child)

    for plot in widget.findChildren(pg.PlotWidget):
        for axis in plot.getPlotItem().axes.values():
            cache_tree(axis["item"])
        for item in plot.scene().items():
            if isinstance(item, (pg.LegendItem, pg.InfiniteLine, pg.TextItem)):
                cache_tree(item)


def skip_unchanged_data(widget) -> list[_RepeatSkipper]:
    """Make the curves of ``widget``'s plots ignore ``setData`` with the data they already
    show, and keep a curve as a pixmap while it stays unchanged. Returns the wrappers: call
    ``before_paint()`` on each after the views were updated for a frame and before it is
    painted.

    Views call ``setData`` on every item at every step (cheap on screen at 60 Hz); in an export
    many curves are the same from frame to frame (the per-sample curves of a one-parameter
    problem never change), and re-building and re-stroking them was most of a frame's
    painting (wavy: 9 -> 4.5 ms CPU; then ~2 ms less once the faint curves and their mean,
    which the view sets only once, were no longer stroked on every frame). Only this offscreen
    export copy of the view is changed.
    A curve the view caches itself is drawn exactly as the view draws it (the wavy frames are
    pixel-identical to the view's own drawing: tests/export/test_frames.py); a curve cached
    only here differs from a freshly stroked one only by compositing rounding where it is
    antialiased or translucent (it is drawn into a transparent pixmap, then onto the plot): a
    few levels of 255 for one curve, more where many translucent curves of one item overlap.
    Not in what it shows."""
    import pyqtgraph as pg

    out = []
    for plot in widget.findChildren(pg.PlotWidget):
        for item in plot.getPlotItem().listDataItems():
            if isinstance(item, pg.PlotDataItem):
                out.append(_RepeatSkipper(item))
    return out


class _RepeatSkipper:
    """Wraps one PlotDataItem's ``setData``: a call with the data already shown is dropped.

    Whether the curve is kept as a pixmap is decided per frame, in ``before_paint``: a curve
    the view itself caches (``setCacheMode``; the per-sample curves and the mean of
    ``samples``, which change only with the slice) stays cached, as in the window; any other
    curve is stroked directly on a frame where its data changed (a pixmap drawn once would only
    cost more) and drawn from its pixmap while it does not change. The decision does not wait
    for the view to call ``setData`` again with the same data: a view that sets a curve only
    when it changes (the faint curves of ``samples``: once per run) used to leave it uncached,
    stroking 100 curves on every frame."""

    def __init__(self, item) -> None:
        from PySide6.QtWidgets import QGraphicsItem

        self.item = item
        self.shown = None
        self.changed = True
        self._cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
        self._mode = item.curve.cacheMode()          # the mode last set (by us or the view)
        self._view_caches = self._mode == self._cached
        original = item.setData

        def set_data(*args, **kwargs):
            call = (tuple(_frozen_copy(a) for a in args),
                    {k: _frozen_copy(v) for k, v in kwargs.items()})
            if self.shown is not None and _same(self.shown, call):
                return None
            self.shown = call
            self.changed = True
            return original(*args, **kwargs)

        item.setData = set_data

    def before_paint(self) -> None:
        from PySide6.QtWidgets import QGraphicsItem

        curve = self.item.curve
        current = curve.cacheMode()
        if current != self._mode:  # the view chose a mode itself since the last frame
            self._view_caches = current == self._cached
        cached = self._view_caches or not self.changed
        mode = self._cached if cached else QGraphicsItem.CacheMode.NoCache
        self.changed = False
        self._mode = mode
        if current != mode:  # setting it again would purge the pixmap
            curve.setCacheMode(mode)


def _frozen_copy(value):
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            return np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            return value
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a is b or a == b)
    except Exception:  # objects without a plain equality: treat as changed
        return False


def show_offscreen(widget, size: tuple[int, int]) -> None:
    from PySide6.QtCore import Qt

    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    hint = widget.minimumSizeHint()
    widget.resize(max(size[0], hint.width()), max(size[1], hint.height()))
    widget.show()
    settle()


def wait_for_grids(views, timeout_ms: int = 10000) -> None:
    """Views that compute in the background (contour and 3-D grids) get their data before the
    frame is taken, so no frame shows a map that is still on its way. The wait is on the grid
    work itself (``wait_ready``), bounded, and never runs the event loop: a click (Cancel)
    cannot run in the middle of a frame."""
    for view in views:
        wait = getattr(view, "wait_ready", None)
        if wait is not None and view.isVisible():
            wait(timeout_ms)


def show_new_children(widget) -> None:
    """Show now the child widgets Qt shows in its next turn (a widget added to the layout of a
    shown widget is shown by a queued call: the 3-D view's OpenGL widget, made once the view
    was shown), without running the event loop: only those widgets' own queued calls are
    delivered. Then lay out."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QWidget

    for child in widget.findChildren(QWidget):
        QCoreApplication.sendPostedEvents(child, QEvent.Type.MetaCall)
    settle()


def settle() -> None:
    """Run pending layout requests (a status label that wraps changes height) but not the
    paint requests: ``render`` paints once, and a paint of the hidden window on top of it
    would double the cost of a frame."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


class FrameSource:
    """What a frame source shares: ``widget`` painted into frames of ``size`` (static items
    kept as pixmaps, unchanged curves skipped), the runs' ``colors`` for the palette, and
    ``render`` = ``show`` (subclasses) + ``lay_out`` + ``paint`` (the benchmark times the
    three one by one). The protocol the export job drives is
    ``gdviz.export.animation.FrameSource``."""

    def _prepare(self, widget, size: tuple[int, int]) -> None:
        self.widget = widget
        self.size = size
        cache_static_items(widget)
        self._curves = skip_unchanged_data(widget)
        self._painter = Painter(widget, size)
        self.colors: tuple[str, ...] = ()  # the runs' colours (a comparison) for the palette

    def palette_swatch(self) -> Image.Image:
        return palette_swatch(self.size, self.colors)

    def set_captions(self, script) -> None:
        """Draw ``script``'s caption of each frame's step (``core.captions``), as the window
        shows it: subclasses say where."""
        raise NotImplementedError

    def _add_caption_colors(self) -> None:
        from gdviz.gui.lesson_captions import CAPTION_COLORS

        self.colors = tuple(self.colors) + CAPTION_COLORS

    def render(self, index: int) -> np.ndarray:
        self.show(index)
        self.lay_out()
        return self.paint()

    def append(self, groups) -> None:
        raise NotImplementedError

    def show(self, index: int) -> None:
        raise NotImplementedError

    def lay_out(self) -> None:
        settle()

    def paint(self) -> np.ndarray:
        for curve in self._curves:
            curve.before_paint()
        return self._painter.frame()

    def close(self) -> None:
        self.widget.close()
        self.widget.deleteLater()
