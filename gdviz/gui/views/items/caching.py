"""What Qt keeps between a plot's paints: pixmap caches for what changes rarely while a run
plays (Qt keeps such an item as a pixmap and replays it, instead of stroking or replaying its
text on every paint), and no index of items that move on every frame."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene


def unindexed(plot: pg.GraphicsView) -> None:
    """No position index for ``plot``'s scene. Qt files a scene's items in a BSP tree for fast
    lookups by position, and re-files an item whenever its geometry changes: a plot's curves
    change theirs on every frame, and a plot has a few dozen items, which a lookup (a hover,
    a click) goes through at once. Measured on mlp_spiral, seven views: ~1 ms of the GUI
    thread a redraw (134 bounding rectangles a redraw asked for by the index)."""
    plot.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


def cache_axes(plot) -> None:
    """Let Qt keep each axis of ``plot`` (a PlotWidget or a PlotItem, such as a colour bar:
    its ticks, labels and grid lines) as a pixmap, redrawn only when the axis changes (range,
    size, label). Replaying an axis's text on every paint was ~1-4 ms per axis and frame, the
    largest fixed cost of a plot whose range stays put."""
    def cache_tree(item) -> None:
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for child in item.childItems():
            cache_tree(child)

    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    for axis in item.axes.values():
        cache_tree(axis["item"])


def cache_as_pixmap(item: pg.PlotDataItem) -> None:
    """Let Qt keep a PlotDataItem's curve as a pixmap between frames: for curves that change
    with the map or the slice only (iso-lines, the faint per-sample curves and their mean),
    not with every step."""
    item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
