"""What a student sees of the window's layout: every visible plot's size in pixels, and every
axis title, key and status line that does not fit where it is drawn. Read from the widgets'
geometry (no pixels), so the same checks run at any screen size."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget

MIN_PLOT_HEIGHT = 160
MIN_PLOT_WIDTH = 240


@dataclass(frozen=True)
class Plot:
    view: str          # the view's id
    width: int         # the plot's data area in pixels
    height: int


def on_screen(widget: QWidget) -> bool:
    """Shown and not behind another tab (Qt 6 keeps a tab behind another "visible")."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def visible_views(window) -> list:
    return [v for v in window.views if on_screen(window.docks[v.view_id]) and on_screen(v)]


def plots(window) -> list[Plot]:
    """The data area of every plot the visible views show (2-D: the ViewBox; 3-D: the GL
    widget), in device-independent pixels."""
    found = []
    for view in visible_views(window):
        for widget in view.findChildren(pg.GraphicsView):
            if not widget.isVisible():
                continue
            for item in widget.scene().items():
                if isinstance(item, pg.ViewBox) and item.isVisible() and item.parentItem() \
                        is not None and _is_main_viewbox(item):
                    rect = item.sceneBoundingRect()
                    found.append(Plot(view.view_id, round(rect.width()), round(rect.height())))
        try:
            from pyqtgraph.opengl import GLViewWidget
        except ImportError:  # no OpenGL here
            continue
        for gl in view.findChildren(GLViewWidget):
            if gl.isVisible():
                found.append(Plot(view.view_id, gl.width(), gl.height()))
    return found


def _is_main_viewbox(box: pg.ViewBox) -> bool:
    # a colour bar or a legend's box is no plot: plots have a left and a bottom axis
    parent = box.parentItem()
    while parent is not None and not isinstance(parent, pg.PlotItem):
        parent = parent.parentItem()
    if parent is None or isinstance(parent, pg.ColorBarItem):
        return False
    if parent.vb is not box:
        return False
    bottom = parent.getAxis("bottom")
    return bottom.isVisible() and parent.getAxis("left").isVisible()


def clipped_axis_titles(window) -> list[str]:
    """Axis titles longer than their axis (the text is cut, "number of sampl"), as
    "view: title"."""
    out = []
    for view in visible_views(window):
        for widget in view.findChildren(pg.GraphicsView):
            if not widget.isVisible():
                continue
            for item in widget.scene().items():
                if not isinstance(item, pg.AxisItem) or not item.isVisible():
                    continue
                label = item.label
                if not item.showLabel or not label.isVisible() or not label.toPlainText():
                    continue
                text = label.boundingRect().width()
                rect = item.sceneBoundingRect()
                length = rect.height() if item.orientation in ("left", "right") else \
                    rect.width()
                if text > length + 1:
                    out.append(f"{view.view_id}: {label.toPlainText()!r} needs {text:.0f} px, "
                               f"has {length:.0f}")
    return out


def clipped_labels(window) -> list[str]:
    """Labels of the visible views (status lines, keys, titles) whose text needs more room
    than they were given, as "view: text"."""
    out = []
    for view in visible_views(window):
        for label in view.findChildren(QLabel):
            if not label.isVisible() or not label.text():
                continue
            need = label.heightForWidth(label.width()) if label.wordWrap() else \
                label.sizeHint().height()
            if label.wordWrap() and need > label.height() + 2:
                out.append(f"{view.view_id}: {label.text()[:40]!r} needs {need} px tall, "
                           f"has {label.height()}")
            elif not label.wordWrap() and label.sizeHint().width() > label.width() + 2:
                out.append(f"{view.view_id}: {label.text()[:40]!r} needs "
                           f"{label.sizeHint().width()} px wide, has {label.width()}")
    return out


def plot_report(window) -> list[str]:
    lines = [f"{p.view}: {p.width}x{p.height}" for p in plots(window)]
    lines += ["axis title clipped: " + s for s in clipped_axis_titles(window)]
    lines += ["label clipped: " + s for s in clipped_labels(window)]
    docks = [d.objectName()[5:] for d in window.findChildren(QDockWidget) if on_screen(d)]
    lines.append("docks on screen: " + ", ".join(docks))
    return lines
