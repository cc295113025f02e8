"""The Curvature view (computed in the background, drawn from what arrived) and the Optimizer
panel's stability note."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from view_helpers import make_run, not_blank, same, shown_view_of, snapshot

from gdviz.core.curvature import CurvatureColumns
from gdviz.core.history import RunHistory
from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate, run_to_end
from gdviz.gui.views import VIEW_CLASSES, CurvatureView
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.status_label import plain_text


def curvature_view(qtbot, config: RunConfig):
    return shown_view_of(qtbot, CurvatureView, config)


def test_the_view_is_registered_behind_the_histogram():
    from gdviz.gui.docks import TAB_WITH

    assert CurvatureView in VIEW_CLASSES
    assert TAB_WITH["curvature"] == "histogram"


def test_curves_hold_the_eigenvalues_of_every_step(qtbot):
    config = get_preset("himmelblau").config.with_changes(max_steps=40, init=(0.2, -0.9))
    view, history = curvature_view(qtbot, config)
    assert view.wait_ready(20000)
    view.show_step(len(history) - 1)
    columns = CurvatureColumns(config.make_problem(), "sgd", config.hyperparams)
    expected = np.array([columns.row(p, {}) for p in history.params])
    sharp = view.sharp_curves[0]
    assert set(sharp.xData.astype(int)) <= set(history.steps.tolist())
    shown = dict(zip(sharp.xData.astype(int), sharp.yData))
    for step, value in shown.items():
        assert value == pytest.approx(expected[step, 0], rel=1e-12)
    assert min(view.low_curves[0].yData) == pytest.approx(expected[:, 1].min(), rel=1e-12)
    assert f"2/η = {2 / config.lr:.4g}" in plain_text(view.frame.status).replace(",", "")
    assert not_blank(view)
    # scrubbing back redraws the same picture, and no item is created per step
    view.show_step(10)
    first = snapshot(view)
    view.show_step(len(history) - 1)
    view.show_step(10)
    assert same(snapshot(view), first)
    view.close()


def test_adam_runs_show_their_preconditioned_sharpness_from_replayed_states(qtbot):
    config = RunConfig(problem="rosenbrock", optimizer="adam", lr=0.02, max_steps=3000)
    view, history = curvature_view(qtbot, config)     # more than one chunk
    assert view.wait_ready(60000)
    records = run_to_end(config)
    columns = CurvatureColumns(config.make_problem(), "adam", config.hyperparams)
    table = view._computed[0].table
    assert len(table) == len(records)
    for i in (1, 2, 2047, 2048, 2049, len(records) - 1):   # across chunk boundaries
        assert table[i] == pytest.approx(columns.row(records[i].params, records[i].state),
                                         rel=1e-12)
    view.show_step(len(history) - 1)
    assert len(view.pre_curve.xData) > 0
    assert view.threshold_line.values[0] == pytest.approx(38 / 0.02)   # (2 + 2β₁)/((1 − β₁)η)
    view.close()


def test_every_run_gets_its_curves_and_the_selected_run_its_line(qtbot):
    preset = get_preset("stability_threshold")
    view, _ = curvature_view(qtbot, preset.runs[0].config)
    problem = preset.config.make_problem()
    tracks = []
    for run in preset.runs:
        history = RunHistory(problem.n_params)
        history.append(iterate(run.config.with_changes(max_steps=30)))
        tracks.append(RunTrack(run, history))
    view.set_tracks(tuple(tracks), 1)
    assert view.wait_ready(20000)
    view.show_step(20)
    assert all(len(curve.xData) for curve in view.sharp_curves[:2])
    assert view.threshold_line.values[0] == pytest.approx(2 / preset.runs[1].config.lr)
    view.close()


def test_window_optimizer_panel_says_where_gradient_descent_is_stable(make_window, qtbot):
    window = make_window("stability_threshold")
    note = window.optimizer_panel.stability_note
    qtbot.waitUntil(note.isVisible, timeout=10000)
    problem = get_preset("bowl").config.make_problem()
    limit = 2 / np.linalg.eigvalsh(problem.hessian(problem.default_init))[-1]
    assert f"2/λmax = {limit:.4g}" in note.text()
    window.editor.apply(window.optimizer_panel, ("hyperparams", "momentum"), "0.5")
    qtbot.waitUntil(lambda: "(2 + 2·0.5)/λmax" in note.text(), timeout=10000)
    assert f"= {3 * limit / 2:.4g}" in note.text()
    window.editor.apply(window.optimizer_panel, ("optimizer",), "adam")
    assert not note.isVisible()


def test_a_moved_start_updates_the_note(make_window, qtbot):
    window = make_window("rosenbrock")
    note = window.optimizer_panel.stability_note
    qtbot.waitUntil(note.isVisible, timeout=10000)
    before = note.text()
    window.editor.apply(window.run_panel, ("init", 0), "1")
    window.editor.apply(window.run_panel, ("init", 1), "1")
    qtbot.waitUntil(lambda: note.text() != before, timeout=10000)
    problem = make_run("rosenbrock")[0]
    sharpness = np.linalg.eigvalsh(problem.hessian(np.array([1.0, 1.0])))[-1]
    assert f"{2 / sharpness:.4g}" in note.text()


def test_the_tab_catches_up_when_it_comes_to_the_front(make_window, qtbot):
    window = make_window("bowl")   # its lesson does not bring the curvature to the front
    view = next(v for v in window.views if v.view_id == "curvature")
    for count in range(2, 7):
        window.toolbar.act_step.trigger()
        qtbot.waitUntil(lambda count=count: len(window.controller.history) >= count,
                        timeout=10000)
    assert view.visibleRegion().isEmpty()           # behind the histogram: not drawn
    assert len(view.sharp_curves[0].xData) <= 1
    window.docks["curvature"].raise_()
    qtbot.waitUntil(lambda: len(view.sharp_curves[0].xData) >= 6, timeout=10000)
    sharpness = view.sharp_curves[0].yData
    assert sharpness == pytest.approx(np.full(len(sharpness), 37.0206643))  # the bowl's λmax


def test_the_view_exports_from_the_command_line(qapp, tmp_path, capsys):
    from PIL import Image, ImageChops

    from gdviz.cli.main import main

    out = tmp_path / "curvature.gif"
    code = main(["export", "--preset", "momentum_kappa100", "--view", "curvature", "--frames",
                 "4", "--steps-per-frame", "10", "--size", "320x240", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (4, (320, 240))
        gif.seek(0)
        first = gif.convert("RGB")
        gif.seek(3)
        last = gif.convert("RGB")
    assert ImageChops.difference(first, last).getbbox() is not None   # the curves grew


def test_newton_runs_in_the_window(make_window, qtbot):
    window = make_window("booth")
    window.editor.apply(window.optimizer_panel, ("optimizer",), "newton")
    window.editor.apply(window.optimizer_panel, ("lr",), "1")
    assert window.controller.config.optimizer == "newton"
    assert not window.optimizer_panel.stability_note.isVisible()   # GD and heavy ball only
    window.toolbar.act_step.trigger()
    qtbot.waitUntil(lambda: len(window.controller.history) >= 2, timeout=10000)
    assert window.controller.history.params[1] == pytest.approx([1.0, 3.0], abs=1e-12)
    assert "(H + μI)⁻¹" in window.step_math.text.toPlainText()


def _contour(qtbot, config: RunConfig):
    from gdviz.gui.views.contour import ContourView

    history = RunHistory(config.make_problem().n_params)
    history.append(iterate(config))
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.set_run(config.make_problem(), config, history)
    return view, history


def test_the_contour_draws_the_hessian_ellipse_at_the_current_point(qtbot):
    config = RunConfig(problem="booth", optimizer="sgd", lr=0.01, max_steps=20)
    view, history = _contour(qtbot, config)
    view.show_step(10)
    assert len(view.ellipse.xData) == 0                    # off by default
    view.hessian_box.setChecked(True)
    view.show_step(10)
    center = history.params[10]
    d = np.column_stack([view.ellipse.xData, view.ellipse.yData]) - center
    hessian = config.make_problem().hessian(center)
    levels = 0.5 * np.einsum("ni,ij,nj->n", d, hessian, d)
    assert len(d) > 10
    assert levels == pytest.approx(np.full(len(d), levels[0]))
    axes = np.column_stack([view.ellipse_axes.xData, view.ellipse_axes.yData])
    midpoints = (axes[0::2] + axes[1::2]) / 2                   # both through the point
    assert midpoints == pytest.approx(np.array([center, center]))
    view.hessian_box.setChecked(False)
    assert len(view.ellipse.xData) == 0
    view.close()


def test_a_formulas_hessian_is_derived_in_the_background_for_the_ellipse(qtbot):
    config = RunConfig(problem="custom", optimizer="sgd", lr=0.05, max_steps=5,
                       settings={"expr": "(p - 1)**2 + 3*(q + p/2)**2 + p*q*x", "n": 7})
    problem = config.make_problem()
    view, _ = _contour(qtbot, config)
    assert not problem.hessian_ready
    view.hessian_box.setChecked(True)
    qtbot.waitUntil(lambda: len(view.ellipse.xData) > 0, timeout=10000)
    assert problem.hessian_ready
    view.close()


def test_edge_of_stability_shows_each_runs_line_two_over_lr(qtbot):
    preset = get_preset("edge_of_stability")
    problem = preset.config.make_problem()
    view, _ = curvature_view(qtbot, preset.runs[0].config.with_changes(max_steps=5))
    tracks = []
    for run in preset.runs:
        history = RunHistory(problem.n_params)
        history.append(iterate(run.config.with_changes(max_steps=200)))
        tracks.append(RunTrack(run, history))
    for selected, run in enumerate(preset.runs):
        view.set_tracks(tuple(tracks), selected)
        assert view.wait_ready(60000)
        view.show_step(200)
        assert view.threshold_line.values[0] == pytest.approx(2 / run.config.lr)
        low, high = view.plot.getPlotItem().viewRange()[1]
        assert low <= 2 / run.config.lr <= high                  # on the plot, not off it
        assert f"2/η = {2 / run.config.lr:.4g}" in plain_text(view.frame.status)
        assert all(len(curve.xData) for curve in view.sharp_curves[:2])
    view.close()


def test_the_window_brings_the_curvature_of_edge_of_stability_to_the_front(make_window,
                                                                          qtbot):
    window = make_window("edge_of_stability")
    view = next(v for v in window.views if v.view_id == "curvature")
    for count in range(2, 5):
        window.toolbar.act_step.trigger()
        qtbot.waitUntil(lambda count=count: len(window.controller.history) >= count,
                        timeout=10000)
    assert not view.visibleRegion().isEmpty()
    qtbot.waitUntil(lambda: len(view.sharp_curves[0].xData) >= 4, timeout=20000)
    assert view.threshold_line.values[0] == pytest.approx(20.0)   # 2/η of lr 0.1


def test_a_network_above_200_parameters_is_computed_in_short_jobs(qtbot):
    from gdviz.gui.views.curvature import JOB_NUMBERS

    config = RunConfig(problem="mlp", optimizer="sgd", lr=0.05, batch_size=None,
                       max_steps=60, settings={"layers": (12.0, 12.0), "n": 60})
    problem = config.make_problem()
    assert not problem.has_hessian                   # 205 parameters: Lanczos
    assert JOB_NUMBERS // problem.n_params ** 2 < 60   # so more than one job
    view, history = curvature_view(qtbot, config)
    assert view.wait_ready(60000)
    expected = CurvatureColumns(problem, "sgd", config.hyperparams).table(history.params)
    np.testing.assert_allclose(view._computed[0].table, expected, rtol=1e-12)
    view.show_step(len(history) - 1)
    assert len(view.sharp_curves[0].xData) > 0
    assert "2/η = 40" in plain_text(view.frame.status)   # far above λmax: named, not drawn
    view.close()


def test_a_growing_run_is_redrawn_at_most_once_an_interval_and_wait_ready_catches_up(
        qtbot, monkeypatch):
    from gdviz.gui.views import curvature

    monkeypatch.setattr(curvature, "REDRAW_INTERVAL", 1000.0)   # no redraw by the clock
    config = get_preset("bowl").config.with_changes(max_steps=60)
    records = list(iterate(config))
    history = RunHistory(config.make_problem().n_params)
    history.append(records[:20])
    view, _ = shown_view_of(qtbot, CurvatureView, config.with_changes(max_steps=19))
    view.set_run(config.make_problem(), config, history)
    assert view.wait_ready(20000)
    view.show_step(5)                           # a scrub of a run that did not grow: at once
    assert view.sharp_curves[0].xData[-1] == 5
    view.show_step(19)
    assert view.sharp_curves[0].xData[-1] == 19
    history.append(records[20:])
    view.show_step(len(history) - 1)            # the run grew: this draw waits its turn
    assert view.sharp_curves[0].xData[-1] == 19
    assert view.wait_ready(20000)               # an export's wait: everything, drawn now
    assert view.sharp_curves[0].xData[-1] == 60
