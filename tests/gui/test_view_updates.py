"""items.updates.set_points / set_curve: the cheap updates views use while a run plays must leave
the items exactly as a plain setData would."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg

from gdviz.gui.views.items.updates import set_curve, set_points


def _plot(qtbot) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    return plot


def _brush(item: pg.ScatterPlotItem) -> str:
    """The colour the first spot is filled with (its own brush, else the item's)."""
    brush = item.data["brush"][0]
    return (brush if brush is not None else item.opts["brush"]).color().name()


def test_set_points_moves_markers_in_place_and_restyles_when_told(qtbot):
    plot = _plot(qtbot)
    item = pg.ScatterPlotItem(size=9)
    plot.addItem(item)
    set_points(item, [1.0, 2.0], [3.0, 4.0], key="red", brush=pg.mkBrush("r"))
    records = item.data
    set_points(item, [5.0, 6.0], [7.0, 8.0], key="red", brush=pg.mkBrush("r"))
    assert item.data is records                       # moved, not rebuilt
    assert np.array_equal(item.getData()[0], [5.0, 6.0])
    assert np.array_equal(item.getData()[1], [7.0, 8.0])
    assert tuple(map(float, item.dataBounds(0))) == (5.0, 6.0)   # not the old bounds
    set_points(item, [5.0], [7.0], key="red", brush=pg.mkBrush("r"))   # fewer: rebuilt
    assert len(item.data) == 1
    set_points(item, [5.0], [7.0], key="blue", brush=pg.mkBrush("b"))  # another style
    assert _brush(item) == "#0000ff"
    item.setData([0.0, 1.0], [0.0, 1.0])              # someone else sets it ...
    set_points(item, [2.0, 3.0], [2.0, 3.0], key="blue", brush=pg.mkBrush("b"))
    assert _brush(item) == "#0000ff"   # ... so it is set in full


def test_set_curve_skips_only_what_is_already_shown(qtbot):
    plot = _plot(qtbot)
    item = pg.PlotDataItem([], [])
    plot.addItem(item)
    assert not set_curve(item, [], [])                # empty stays empty, untouched
    assert set_curve(item, [0.0, 1.0], [1.0, np.nan])
    assert not set_curve(item, np.array([0.0, 1.0]), np.array([1.0, np.nan]))
    assert set_curve(item, [0.0, 1.0], [1.0, 2.0])
    assert np.array_equal(item.yData, [1.0, 2.0])
    assert set_curve(item, [], [])
    assert item.xData is None or len(item.xData) == 0
