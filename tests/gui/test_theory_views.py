"""The Quadratic theory view (errors along the eigen-directions, measured and predicted) and the
Rate phase diagram (the (lr, momentum) plane; a click sets both on the selected run)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from view_helpers import not_blank, shown_view_of

from gdviz.core.presets import get_preset
from gdviz.core.quadratic_theory import curved, rate_grid, run_theory
from gdviz.core.records import RunConfig
from gdviz.gui.views import VIEW_CLASSES, PhaseDiagramView, QuadraticTheoryView
from gdviz.gui.views.status_label import plain_text


def shown_view(qtbot, cls, config: RunConfig):
    view, history = shown_view_of(qtbot, cls, config)
    assert view.wait_ready(30000)
    view.show_step(history.last_step)
    return view, history


def test_the_views_are_registered_as_tabs():
    from gdviz.gui.docks import TAB_WITH

    assert QuadraticTheoryView in VIEW_CLASSES
    assert PhaseDiagramView in VIEW_CLASSES
    assert TAB_WITH["theory"] == "data"
    assert TAB_WITH["phase"] == "contour"


def test_measured_and_predicted_curves_are_the_runs_errors_and_agree(qtbot):
    config = get_preset("stability_threshold").runs[0].config   # the bowl, 0.9·(2/λmax)
    view, history = shown_view(qtbot, QuadraticTheoryView, config)
    theory = run_theory(config)
    errors = theory.quadratic.errors(np.asarray(history.params))
    for i in range(2):
        measured, predicted = view.measured_curves[i], view.predicted_curves[i]
        steps = measured.xData.astype(int)
        assert len(steps) > 100
        above = np.abs(errors[steps, i]) > theory.quadratic.error_floor   # else rounding: gaps
        assert above.sum() > 100
        assert np.isnan(measured.yData[~above]).all()
        assert measured.yData[above] == pytest.approx(np.log10(np.abs(errors[steps, i]))[above],
                                                      abs=1e-12)
        assert np.array_equal(predicted.xData, measured.xData)
        # the prediction from the eigenvalues alone lies on the run's errors
        assert np.max(np.abs(10 ** predicted.yData[above] - 10 ** measured.yData[above])) \
            < 1e-10
    status = plain_text(view.frame.status)
    assert f"predicted rate {theory.rate:.4g}" in status
    assert "measured 0.9888" in status
    assert not_blank(view)


def test_momentum_rates_are_read_out_for_the_selected_run(qtbot):
    config = get_preset("momentum_kappa100").runs[1].config
    view, _ = shown_view(qtbot, QuadraticTheoryView, config)
    status = plain_text(view.frame.status)
    assert "predicted rate 0.8182 per step (heavy-ball momentum)" in status
    assert "measured 0.8226" in status
    assert "κ = 100" in status


def test_a_loss_that_is_not_quadratic_is_said_so_and_nothing_is_drawn(qtbot):
    config = get_preset("rosenbrock").config.with_changes(max_steps=20)
    for cls in (QuadraticTheoryView, PhaseDiagramView):
        view, _ = shown_view(qtbot, cls, config)
        assert "is not quadratic" in plain_text(view.frame.status)
    assert view.rates.size == 0
    assert len(view.runs_marker.data) == 0


def test_a_quadratic_formula_is_derived_in_the_background_then_drawn(qtbot):
    config = RunConfig(problem="custom", settings={"expr": "(w*x + b - y)**2"},
                       optimizer="sgd", lr=0.05, batch_size=None, max_steps=60)
    view, history = shown_view(qtbot, QuadraticTheoryView, config)
    assert len(view.measured_curves[0].xData) == len(history)
    assert "predicted rate" in plain_text(view.frame.status)


def test_the_plane_is_coloured_by_the_predicted_rate_and_marks_the_runs(qtbot):
    preset = get_preset("momentum_kappa100")
    view, _ = shown_view(qtbot, PhaseDiagramView, preset.runs[1].config)
    theory = run_theory(preset.runs[1].config)
    lr_lo, lr_hi, beta_lo, beta_hi = view.extent
    lrs, momenta = np.linspace(lr_lo, lr_hi, 241), np.linspace(beta_lo, beta_hi, 201)
    assert np.array_equal(view.rates, rate_grid(curved(theory.quadratic), lrs, momenta))
    row, col = np.unravel_index(np.argmin(view.rates), view.rates.shape)
    assert abs(lrs[col] - 0.0331) < 2 * (lrs[1] - lrs[0])        # Distill's optimum
    assert abs(momenta[row] - 0.669) < 2 * (momenta[1] - momenta[0])
    assert view.rates.min() == pytest.approx(0.818, abs=0.01)
    assert view.rate_at(0.04, 0.1) >= 1.0                       # beyond (2 + 2β)/λmax
    assert view.rate_at(0.01, 0.0) == pytest.approx(0.99, abs=1e-3)   # 1 − ηλmin
    spots = view.runs_marker.data
    assert (spots["x"][0], spots["y"][0]) == pytest.approx((0.03305785, 0.66942149))
    assert "best: η = 0.03306, β = 0.6694 (rate 0.8182)" in plain_text(view.frame.status)
    assert not_blank(view)


def test_a_click_on_the_plane_sets_lr_and_momentum_of_the_selected_run(make_window, qtbot):
    window = make_window("momentum_kappa100")
    view = next(v for v in window.views if v.view_id == "phase")
    window.docks["phase"].raise_()
    qtbot.waitUntil(lambda: view.rates.size > 0 and not view.visibleRegion().isEmpty(),
                    timeout=10000)
    box = view.plot.getPlotItem().getViewBox()
    scene = box.mapViewToScene(QPointF(0.025, 0.5))
    where = view.plot.mapFromScene(scene)
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    selected = window.controller.selected_track
    qtbot.waitUntil(lambda: window.controller.runs[selected].config.lr != pytest.approx(
        0.0198019802), timeout=10000)
    config = window.controller.runs[selected].config
    assert config.lr == pytest.approx(0.025, rel=0.02)
    assert config.hyperparams["momentum"] == pytest.approx(0.5, abs=0.01)
    assert window.optimizer_panel.isEnabled()
    # the plane follows: the run's ring moved to the clicked point
    spots = view.runs_marker.data
    assert spots["x"][selected] == pytest.approx(config.lr)
    assert spots["y"][selected] == pytest.approx(config.hyperparams["momentum"])


def test_the_views_export_from_the_command_line(qapp, tmp_path, capsys):
    from PIL import Image

    from gdviz.cli.main import main

    for view_id in ("theory", "phase"):
        out = tmp_path / f"{view_id}.gif"
        code = main(["export", "--preset", "momentum_kappa100", "--view", view_id,
                     "--frames", "2", "--size", "480x360", "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        with Image.open(out) as image:
            assert image.size == (480, 360)
            assert len(image.convert("RGB").getcolors(1 << 20)) > 20   # not blank
