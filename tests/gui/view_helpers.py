"""Shared helpers of the view tests: build a run, a view on it, snapshots of its items."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg

from gdviz.core.history import RunHistory
from gdviz.core.presets import get_preset
from gdviz.core.runner import iterate
from gdviz.gui.views import (
    DataView,
    HistogramView,
    LearningCurveView,
    ParamTraceView,
    SampleCurvesView,
)
from gdviz.gui.views.items.dots import DotCloud, Dots
from gdviz.gui.views.items.wide_curve import WideCurve

# the five lesson views this file tests (VIEW_CLASSES may hold more, tested elsewhere)

LESSON_VIEWS = (SampleCurvesView, HistogramView, LearningCurveView, ParamTraceView, DataView)
RUNS = ("wavy", "linreg", "logistic", "slope", "bowl", "rosenbrock", "himmelblau")
_CACHE: dict[tuple, tuple] = {}


def make_run(name: str, **changes):
    """(problem, config, history) of preset ``name``, 30 steps unless told otherwise."""
    changes.setdefault("max_steps", 30)
    key = (name, tuple(sorted(changes.items())))
    if key not in _CACHE:
        config = get_preset(name).config.with_changes(**changes)
        history = RunHistory(config.make_problem().n_params)
        history.append(iterate(config))
        _CACHE[key] = (config.make_problem(), config, history)
    return _CACHE[key]


def make_view(qtbot, cls, name: str, **changes):
    problem, config, history = make_run(name, **changes)
    view = cls()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.set_run(problem, config, history)
    return view, problem, config, history


def shown_view_of(qtbot, cls, config, size=(640, 400)):
    """(view, history): a shown ``cls`` view on the whole run of ``config``."""
    history = RunHistory(config.make_problem().n_params)
    history.append(iterate(config))
    view = cls()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.set_run(config.make_problem(), config, history)
    return view, history


def snapshot(view) -> list:
    """Everything a view draws, as plain arrays and strings, for before/after comparisons."""
    out = []
    for plot in view.findChildren(pg.PlotWidget):
        for item in plot.getPlotItem().items:
            if isinstance(item, (pg.PlotDataItem, WideCurve)):
                out.append((item.xData, item.yData, item.isVisible()))
            elif isinstance(item, (pg.ScatterPlotItem, Dots, DotCloud)):
                out.append((*item.getData(), item.isVisible()))
            elif isinstance(item, pg.InfiniteLine):
                out.append((item.value(), item.isVisible()))
            elif isinstance(item, pg.ArrowItem):     # a hidden head may sit anywhere
                out.append((item.pos().x(), item.pos().y(), item.rotation())
                           if item.isVisible() else None)
    out.append(view.frame.status.text())
    return out


def same(a, b) -> bool:
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            return a is b
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    return a == b


def not_blank(view) -> bool:
    image = view.grab().toImage()
    colours = {image.pixel(x, y) for x in range(5, image.width() - 5, 16)
               for y in range(5, image.height() - 5, 16)}
    return len(colours) > 8
