"""The Data view: the data with the current model (line, predicted vs actual, decision
boundary, wavy samples), or a sentence saying why there is nothing to draw."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

# the five lesson views this file tests (VIEW_CLASSES may hold more, tested elsewhere)
from view_helpers import (  # tests/gui is on sys.path (no __init__.py)
    make_run,
    make_view,
)

from gdviz.core.history import RunHistory
from gdviz.core.records import RunConfig
from gdviz.core.surfaces import evenly_chosen
from gdviz.gui.views import (
    DataView,
)
from gdviz.gui.views.data import POINT_CAP, boundary_segment


def test_data_wavy_highlights_the_batch(qtbot):
    view, problem, config, history = make_view(qtbot, DataView, "wavy")
    assert view.mode == "samples"
    for i in (1, 10, 30):
        view.show_step(i)
        batch = history.batch_at(i)
        x, y = view.batch_points.getData()
        np.testing.assert_array_equal(x, problem.data_x[batch, 0])
        np.testing.assert_allclose(y, problem.sample_losses(history.params[i], batch))


def test_data_logistic_boundary_and_accuracy(qtbot):
    view, problem, config, history = make_view(qtbot, DataView, "logistic")
    assert view.mode == "classes"
    view.show_step(25)
    w = history.params[25]
    bx, by = view.model_line.xData, view.model_line.yData
    assert len(bx) == 2
    np.testing.assert_allclose(w[0] * bx + w[1] * by + w[2], 0.0, atol=1e-9)
    tx, ty = problem.extras["test_x"], problem.extras["test_y"]
    acc = np.mean((tx @ w[:2] + w[2] > 0) == (ty == 1))
    assert view.accuracy == pytest.approx(acc)
    assert "test accuracy" in view.frame.status.text()
    x, _ = view.test_points.getData()
    assert len(x) == len(tx)


def test_boundary_segment_clips_to_the_box():
    x, y = boundary_segment(np.array([1.0, -1.0]), 0.0, (-1, 2, -1, 1))
    np.testing.assert_allclose(x, [-1, 1])
    np.testing.assert_allclose(y, [-1, 1])
    x, _ = boundary_segment(np.array([0.0, 0.0]), 1.0, (-1, 1, -1, 1))
    assert len(x) == 0
    x, _ = boundary_segment(np.array([1.0, 0.0]), -5.0, (-1, 1, -1, 1))  # x = 5: outside
    assert len(x) == 0


@pytest.mark.parametrize("name", ["slope", "bowl"])
def test_data_line(qtbot, name):
    view, problem, config, history = make_view(qtbot, DataView, name)
    assert view.mode == "line"
    view.show_step(12)
    x, y = view.model_line.xData, view.model_line.yData
    np.testing.assert_allclose(y, problem.predict(history.params[12], x[:, None]))


def test_data_linreg_predicted_vs_actual(qtbot):
    view, problem, config, history = make_view(qtbot, DataView, "linreg")
    assert view.mode == "pred"
    view.show_step(9)
    x, y = view.points.getData()
    shown = evenly_chosen(problem.n_samples, POINT_CAP)   # the samples drawn
    np.testing.assert_allclose(x, problem.data_y[shown])
    np.testing.assert_allclose(y, problem.predict(history.params[9], problem.data_x)[shown])
    assert "Predicted vs actual" in view.frame.title.text()


def test_data_analytic_says_there_is_no_data(qtbot):
    view, problem, config, history = make_view(qtbot, DataView, "rosenbrock")
    assert view.mode == "none"
    assert view.message.isVisible()
    assert "no data" in view.message.textItem.toPlainText()
    view.resize(220, 300)              # a narrow dock: the message wraps inside the plot
    qtbot.waitUntil(lambda: view.message.textItem.textWidth()
                    <= view.plot.getPlotItem().getViewBox().width())
    assert view.message.textItem.boundingRect().width() <= view.plot.width()
    assert not view.plot.getPlotItem().getAxis("bottom").isVisible()
    assert not view.legend.isVisible()
    # the same view shows axes again for a problem with data
    problem, config, history = make_run("slope")
    view.set_run(problem, config, history)
    assert view.plot.getPlotItem().getAxis("bottom").isVisible()
    assert not view.message.isVisible()


# -- drawing cost: what stays put while a run plays ---------------------------------------------
def test_data_view_says_why_for_a_typed_formula(qtbot):
    from gdviz.core.runner import run_to_end
    from gdviz.gui.views.data import NO_MODEL

    config = RunConfig(problem="custom", max_steps=5, lr=0.01)
    problem = config.make_problem()
    assert problem.has_data
    history = RunHistory(problem.n_params)
    history.append(run_to_end(config))
    view = DataView()
    qtbot.addWidget(view)
    view.set_run(problem, config, history)
    view.show_step(3)
    assert view.mode == "none"
    assert view.message.isVisible()
    assert view.message.textItem.toPlainText() == NO_MODEL
