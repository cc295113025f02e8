"""wide_curve.WideCurve: a wide aliased line drawn as 1-pixel copies covers the pixels Qt's
own wide line covers (to within a pixel), and anything else is drawn as pyqtgraph draws it."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from gdviz.gui.views.contour import ContourView
from gdviz.gui.views.items import wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve, stamps_for
from gdviz.gui.views.learning_curve import LearningCurveView
from gdviz.gui.views.param_trace import ParamTraceView

RED = (200, 40, 40)


def _noisy(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    return np.arange(n, dtype=float), np.cumsum(rng.normal(size=n)) + 8 * rng.normal(size=n)


def _red_pixels(item: pg.PlotCurveItem, x, y) -> np.ndarray:
    """Which pixels of a 400x250 plot of (x, y) the item paints red."""
    plot = pg.PlotWidget(background="w")
    plot.resize(400, 250)
    plot.addItem(item)
    item.setData(x, y)
    plot.getPlotItem().getViewBox().setRange(xRange=(0, len(x)), yRange=(y.min(), y.max()),
                                             padding=0.02)
    image = QImage(400, 250, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    plot.render(painter)
    painter.end()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(250, 400, 4)
    red = (pixels[..., 2] > 150) & (pixels[..., 1] < 120) & (pixels[..., 0] < 120)  # BGRA
    plot.deleteLater()
    return red


@pytest.mark.parametrize("width", [2, 3])
def test_a_wide_noisy_line_covers_what_qts_wide_line_covers(qtbot, monkeypatch, width):
    x, y = _noisy()
    pen = pg.mkPen(RED, width=width)
    stamped_paints = []
    original = WideCurve.paint

    def counting(self, p, opt, widget):
        stamped_paints.append(stamps_for(self.opts["pen"]) is not None
                              and not self.opts["antialias"])
        original(self, p, opt, widget)

    monkeypatch.setattr(WideCurve, "paint", counting)
    qt_line = _red_pixels(pg.PlotCurveItem(pen=pen, antialias=False), x, y)
    ours = _red_pixels(WideCurve(pen=pen, antialias=False), x, y)
    assert stamped_paints
    assert all(stamped_paints)   # drawn by stamping, not by pyqtgraph
    assert qt_line.sum() > 3000
    overlap = (qt_line & ours).sum() / (qt_line | ours).sum()
    assert overlap > 0.8, overlap
    # within a pixel: every pixel of one is next to a pixel of the other
    grown = ours.copy()
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
        grown |= np.roll(np.roll(ours, dy, axis=0), dx, axis=1)
    assert (qt_line & ~grown).sum() <= 0.01 * qt_line.sum()


def test_what_cannot_be_stamped_is_drawn_as_pyqtgraph_draws_it(qtbot):
    x, y = _noisy(200)
    for pen, antialias in ((pg.mkPen(RED, width=2), True),                    # smooth
                           (pg.mkPen((*RED, 120), width=2), False),           # translucent
                           (pg.mkPen(RED, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                            False),
                           (pg.mkPen(RED, width=6), False)):                  # too wide
        theirs = _red_pixels(pg.PlotCurveItem(pen=pen, antialias=antialias), x, y)
        ours = _red_pixels(WideCurve(pen=pen, antialias=antialias), x, y)
        assert np.array_equal(theirs, ours)
    assert stamps_for(pg.mkPen(RED, width=1)) == wide_curve.STAMPS.get(1)   # 1 px: no copies


def test_the_views_draw_their_runs_with_wide_curves(qtbot):
    from tests.gui.test_contour import rosenbrock_tracks

    tracks = rosenbrock_tracks(40)
    views = [LearningCurveView(), ParamTraceView(), ContourView()]
    for view in views:
        qtbot.addWidget(view)
        view.set_run(tracks[0].config.make_problem(), tracks[0].config, tracks[0].history)
        view.set_tracks(tracks, 0)
        view.show_step(30)
    assert len(views[0].full_curves) == len(views[2].tracks_items) == 3
    curves = [*views[0].full_curves, *(c for items in views[1].track_curves for c in items),
              *views[2].tracks_items]
    assert all(isinstance(c, WideCurve) for c in curves)
    assert all(len(c.xData) > 1 for c in views[0].full_curves)   # the data reached them


def test_bounds_are_the_finite_datas_and_follow_new_data(qtbot):
    curve, plain = WideCurve(pen=pg.mkPen(RED, width=2)), pg.PlotCurveItem()
    for x, y in (([0.0, 1.0, 2.0], [5.0, np.nan, -3.0]),
                 ([10.0, 11.0], [np.nan, np.nan]),             # nothing finite on y
                 ([1.0, 2.0, 3.0], [1.0, np.inf, 2.0]),         # an inf: pyqtgraph's answer
                 ([], [])):
        curve.setData(np.array(x), np.array(y))
        plain.setData(np.array(x), np.array(y), pen=pg.mkPen(RED, width=2))
        for ax in (0, 1):
            np.testing.assert_equal(curve.dataBounds(ax), plain.dataBounds(ax))   # NaN == NaN
        rects = [r.getRect() for r in (curve.boundingRect(), plain.boundingRect())]
        np.testing.assert_equal(*rects)
