"""dots.Dots: markers of a few points drawn by Qt (no Python paint), answering pyqtgraph's
questions (getData, dataBounds, pixelPadding) in data coordinates."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from gdviz.gui.views.contour import ContourView
from gdviz.gui.views.data import DataView
from gdviz.gui.views.histogram import HistogramView
from gdviz.gui.views.items import dots as dots_module
from gdviz.gui.views.items.dots import Dot, DotCloud, Dots
from gdviz.gui.views.learning_curve import LearningCurveView
from gdviz.gui.views.param_trace import ParamTraceView
from gdviz.gui.views.sample_curves import SampleCurvesView


def _plot(qtbot) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(300, 200)
    return plot


def test_dots_move_hide_and_report_their_data(qtbot):
    plot = _plot(qtbot)
    item = Dots("o", size=10, pen=pg.mkPen("w"), brush=pg.mkBrush("r"))
    plot.addItem(item)
    x, y = item.getData()
    assert len(x) == len(y) == 0
    assert item.dataBounds(0) is None
    item.set_points([2.0], [3.0])
    (dot,) = item.dots()
    assert (dot.pos().x(), dot.pos().y()) == (2.0, 3.0)
    assert dot.isVisible()
    assert dot.flags() & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
    x, y = item.getData()
    assert list(x) == [2.0]
    assert list(y) == [3.0]
    assert item.dataBounds(0) == [2.0, 2.0]
    assert item.dataBounds(1) == [3.0, 3.0]
    assert item.pixelPadding() > 0
    item.set_points([5.0], [7.0])                     # moved, the same item
    assert item.dots() == [dot]
    assert (dot.pos().x(), dot.pos().y()) == (5.0, 7.0)
    item.set_points([1.0, np.nan], [1.0, 4.0], brushes=["b", "g"], sizes=[8, 12])
    first, second = item.dots()
    assert first is dot
    assert first.brush().color().name() == "#0000ff"
    assert not second.isVisible()                     # not finite: hidden, still reported
    assert np.isnan(item.getData()[0][1])
    assert item.dataBounds(1) == [1.0, 1.0]           # only the finite ones count
    item.clear()
    assert not dot.isVisible()
    assert not second.isVisible()
    assert len(item.getData()[0]) == 0
    assert item.dataBounds(0) is None


def test_dots_are_painted_by_qt_in_cxx(qtbot):
    """No Python paint anywhere (that was the ~0.4 ms per scatter and frame), and the parent
    draws nothing itself."""
    for cls in (Dot, Dots):
        assert "paint" not in cls.__dict__
        assert issubclass(cls, QGraphicsPathItem)
    assert Dots().flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
    plot = _plot(qtbot)
    item = Dots("star", size=17, pen=pg.mkPen("w"), brush=pg.mkBrush("g"))
    plot.addItem(item)
    item.set_points([0.5], [0.5])
    plot.grab()                                       # paints without a Python paint method


def test_dots_size_in_pixels_whatever_the_zoom(qtbot):
    plot = _plot(qtbot)
    item = Dots("o", size=10)
    plot.addItem(item)
    item.set_points([0.0], [0.0])
    view = plot.getPlotItem().getViewBox()
    widths = []
    for span in (1.0, 1000.0):
        view.setRange(xRange=(-span, span), yRange=(-span, span), padding=0)
        (dot,) = item.dots()
        rect = dot.deviceTransform(plot.viewportTransform()).mapRect(dot.boundingRect())
        widths.append(round(rect.width()))
    assert widths[0] == widths[1] == 10               # 10 px (no outline)


def test_auto_range_includes_the_dots(qtbot):
    plot = _plot(qtbot)
    item = Dots("o", size=10)
    plot.addItem(item)
    item.set_points([10.0, 20.0], [-5.0, 5.0])
    plot.getPlotItem().getViewBox().updateAutoRange()
    (x0, x1), (y0, y1) = plot.getPlotItem().getViewBox().viewRange()
    assert x0 < 10.0
    assert y0 < -5.0
    assert x1 > 20.0
    assert y1 > 5.0


def test_many_points_are_drawn_by_one_scatter_and_few_again_by_dots(qtbot):
    plot = _plot(qtbot)
    item = Dots("t1", size=9, brush=pg.mkBrush("r"), many=3)
    plot.addItem(item)
    item.set_points([1.0, 2.0], [0.0, 0.0])
    assert len(item.dots()) == 2
    x = np.arange(5.0)
    item.set_points(x, np.zeros(5))
    assert item.dots() == []                           # the dots are hidden ...
    scatters = [c for c in item.childItems() if isinstance(c, pg.ScatterPlotItem)]
    assert len(scatters) == 1                          # ... one scatter shows them
    assert scatters[0].isVisible()
    assert np.array_equal(scatters[0].getData()[0], x)
    assert np.array_equal(item.getData()[0], x)
    assert item.dataBounds(0) == [0.0, 4.0]
    plot.grab()
    item.set_points([7.0], [1.0])
    assert not scatters[0].isVisible()
    assert [d.isVisible() for d in item.dots()] == [True]


def test_brushes_by_name_are_made_once():
    # private: the module's brush cache, a cost saving with no visible effect
    assert dots_module._brush("#123456") is dots_module._brush("#123456")


def test_the_views_markers_are_dots(qtbot):
    markers = {ContourView: ("current", "start", "minima", "picked"),
               LearningCurveView: ("current",), ParamTraceView: ("current",),
               SampleCurvesView: ("mean_point", "batch_points"), DataView: ("batch_points",),
               HistogramView: ("rug",)}
    for cls, names in markers.items():
        view = cls()
        qtbot.addWidget(view)
        for name in names:
            assert isinstance(getattr(view, name), Dots), (cls.__name__, name)


@pytest.mark.parametrize("colors", [None, ("#2b6cb0", "#d64541")])
def test_dot_cloud_paints_what_a_scatter_paints(qtbot, colors):
    """The same pixels as a pxMode ScatterPlotItem: one colour, or a colour per dot (drawn in
    the order given, so overlapping dots stack as in the scatter)."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 10, 500), rng.uniform(-1, 1, 500)
    x[7] = np.nan
    brushes = None if colors is None else [pg.mkBrush(colors[k % 2]) for k in range(500)]
    images = []
    for scatter in (True, False):
        plot = _plot(qtbot)
        plot.resize(400, 300)
        plot.show()
        if scatter:
            item = pg.ScatterPlotItem(x=x, y=y, size=6, pen=None, brush="#1f77b4")
            if brushes is not None:
                item.setBrush(brushes)
        else:
            item = DotCloud("o", size=6, brush="#1f77b4")
            item.set_points(x, y, brushes=brushes)
        plot.addItem(item)
        plot.setRange(xRange=(0, 10), yRange=(-1, 1), padding=0.05)
        images.append(plot.grab().toImage())
    assert images[0] == images[1]
    cloud_x, cloud_y = item.getData()
    assert np.array_equal(cloud_x, x, equal_nan=True)
    assert np.array_equal(cloud_y, y)
