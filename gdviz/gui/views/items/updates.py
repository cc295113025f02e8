"""The cheap in-place updates views make to pyqtgraph's own items while a run plays. They read
and write what pyqtgraph keeps inside its items (a scatter's record array and bounds, a curve's
``opts``), so they live here with the other code that depends on pyqtgraph's internals."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

ANTIALIAS_POINTS = 300  # wide noisy curves are antialiased up to this many points


def set_wide_curve(item: pg.PlotDataItem, x, y) -> None:
    """``item.setData(x, y)``, antialiased only while the curve has few points: Qt's raster
    engine strokes an antialiased line wider than 1 px along a noisy path ~50x slower
    (measured: 4000 points 350 ms with, 6 ms without; SGD's losses and parameters are noisy)."""
    smooth = len(x) <= ANTIALIAS_POINTS
    if item.opts.get("antialias") != smooth:
        item.setData(x, y, antialias=smooth)
    else:
        item.setData(x, y)


def set_curve(item: pg.PlotDataItem, x, y, wide: bool = False) -> bool:
    """``item.setData(x, y)`` (``set_wide_curve`` when ``wide``), skipped when the item
    already holds exactly these values: a PlotDataItem's setData costs ~0.3 ms even for the
    same or no data (bounds, path, scene updates), and while a run plays many items stay as
    they are (an empty fan, cleared arrows, a hidden batch curve). Returns whether it set."""
    x = np.asarray(x)
    y = np.asarray(y)
    shown_x, shown_y = item.xData, item.yData
    if shown_x is None:
        if len(x) == 0:
            return False
    elif (len(shown_x) == len(x) and len(shown_y) == len(y)
          and np.array_equal(shown_x, x, equal_nan=True)
          and np.array_equal(shown_y, y, equal_nan=True)):
        return False
    if wide:
        set_wide_curve(item, x, y)
    else:
        item.setData(x, y)
    return True


def set_points(item: pg.ScatterPlotItem, x, y, key=None, **opts) -> None:
    """``item.setData(x, y, **opts)`` for markers that move while a run plays. When the
    markers look as last time (the same number, the same ``key``: a hashable summary of
    ``opts`` such as the colours and sizes) only their positions are written in place: setData
    restyles every spot (~0.5 ms even for one), and the picture is the same either way (the
    spots keep their styles; positions, bounds and the view's range are updated as setData
    does). Nothing at all when nothing moved."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    data = item.data
    last = getattr(item, "_gd_points", None)
    if last is not None and last[0] is data and last[1] == key and len(data) == len(x):
        if (np.array_equal(data["x"], x, equal_nan=True)
                and np.array_equal(data["y"], y, equal_nan=True)):
            return
        item.prepareGeometryChange()
        data["x"] = x
        data["y"] = y
        item.bounds = [None, None]
        item.informViewBoundsChanged()
        item.invalidate()
        item.sigPlotChanged.emit(item)
        return
    item.setData(x, y, **opts)
    # every setData/addPoints/clear replaces the record array: while it is still the one
    # set here, nobody else changed the markers
    item._gd_points = (item.data, key)


def set_antialias(item: pg.PlotDataItem, smooth: bool) -> None:
    """Switch a PlotDataItem's (and its curve's) antialiasing without setData: the item keeps
    its data and path, and only the next paint changes (setData would rebuild the path of
    every NaN-separated curve in it)."""
    item.opts["antialias"] = item.curve.opts["antialias"] = smooth
