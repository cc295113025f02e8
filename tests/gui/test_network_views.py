"""The window on a network (mlp): the Data view's heat map of the network's output, and
every network preset opening and stepping with every view, without an error."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox
from view_helpers import make_view  # tests/gui is on sys.path (no __init__.py)

from gdviz.core.presets import list_presets
from gdviz.gui.views import DataView, ParamTraceView
from gdviz.gui.views.data import MAP_CELLS

NETWORK_PRESETS = [p.name for p in list_presets() if p.name.startswith("mlp_")]


def _cell_centres(view):
    """The heat map's cell centres in data coordinates, (MAP_CELLS², 2), row by row."""
    rect = view.heat.mapRectToParent(view.heat.boundingRect())
    cx = rect.left() + (np.arange(MAP_CELLS) + 0.5) * rect.width() / MAP_CELLS
    cy = rect.top() + (np.arange(MAP_CELLS) + 0.5) * rect.height() / MAP_CELLS
    mx, my = np.meshgrid(cx, cy)
    return np.stack([mx.ravel(), my.ravel()], axis=1)


def test_decision_surface_is_the_networks_probability_over_the_input_plane(qtbot):
    view, problem, _, history = make_view(qtbot, DataView, "mlp_circle", max_steps=300)
    assert view.mode == "surface"
    for step in (0, 300):
        view.show_step(step)
        image = view.heat.image
        assert image.shape == (MAP_CELLS, MAP_CELLS)
        expected = problem.predict(history.params[step], _cell_centres(view))
        np.testing.assert_allclose(image.ravel(), expected, rtol=1e-9, atol=1e-12)
        tx, ty = problem.extras["test_x"], problem.extras["test_y"]
        accuracy = problem.score(history.params[step], tx, ty)
        assert view.accuracy == pytest.approx(accuracy)
        assert f"test accuracy {100 * accuracy:.1f}%" in view.frame.status.text()
    assert image.min() < 0.2
    assert image.max() > 0.8
    # the map covers the data
    rect = view.heat.mapRectToParent(view.heat.boundingRect())
    assert rect.left() <= problem.data_x[:, 0].min()
    assert rect.right() >= problem.data_x[:, 0].max()


def test_regression_shows_the_prediction_and_the_test_error(qtbot):
    view, problem, _, history = make_view(qtbot, DataView, "mlp_plane", max_steps=40)
    assert view.mode == "surface"
    view.show_step(40)
    expected = problem.predict(history.params[40], _cell_centres(view))
    np.testing.assert_allclose(view.heat.image.ravel(), expected, rtol=1e-9, atol=1e-12)
    tx, ty = problem.extras["test_x"], problem.extras["test_y"]
    error = np.mean((problem.predict(history.params[40], tx) - ty) ** 2)
    assert "test error (mean squared)" in view.frame.status.text()
    assert f"{error:.4g}".replace("-", "−") in view.frame.status.text()


@pytest.mark.parametrize("name", NETWORK_PRESETS)
def test_window_opens_on_each_network_preset_and_steps_without_error(qtbot, make_window,
                                                                     name):
    window = make_window(preset=name)
    controller = window.controller
    assert controller.config.problem == "mlp"
    for _ in range(3):
        target = controller.history.last.step + 1
        window.toolbar.act_step.trigger()
        qtbot.waitUntil(lambda t=target: controller.history.last.step >= t, timeout=10000)
    qtbot.waitUntil(lambda: controller.state != "running", timeout=10000)
    assert controller.history.last.step == 3
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    data = window.findChild(DataView)
    assert data.mode == "surface"
    # a window this size stays this size: no title or status line lists every parameter
    assert window.height() <= 800
    assert len(window.status.text()) < 300


def test_parameter_trace_of_a_network_opens_on_one_parameter_and_names_a_few(qtbot):
    view, problem, _, history = make_view(qtbot, ParamTraceView, "mlp_circle", max_steps=20)
    assert view.combo.currentText() == problem.param_names[0]
    assert [c.isVisible() for c in view.curves].count(True) == 1
    view.combo.setCurrentIndex(0)  # "all": every curve, a key of six entries
    view.show_step(20)
    assert [c.isVisible() for c in view.curves].count(True) == problem.n_params
    status = view.frame.status.text()
    assert "(+12 more)" in status  # 17 parameters: five named, the rest counted
    assert problem.param_names[5] not in status
