"""The main window end to end: playback, views, presets, panels, divergence, close, settings."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from gdviz.core.optimizers import OPTIMIZERS
from gdviz.core.presets import list_presets
from gdviz.core.problems.registry import problem_specs
from gdviz.gui import worker as worker_module
from gdviz.gui.tasks import running_threads
from gdviz.gui.views import VIEW_CLASSES


def shown_messages(window) -> list[str]:
    """The texts of the window's message boxes that are on screen."""
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def fast(window, **changes):
    """Full speed and an effectively endless run (so Play keeps going)."""
    window.toolbar.set_speed(None)
    if changes:
        window.controller.set_config(window.controller.config.with_changes(**changes))


def view_signature(view) -> list:
    """Everything a view's pyqtgraph items currently show (data, lines, texts)."""
    out = []
    for plot in view.findChildren(pg.PlotWidget):
        for item in plot.getPlotItem().items:
            if hasattr(item, "getData"):
                for arr in item.getData():
                    out.append(None if arr is None else np.asarray(arr, float).copy())
            elif isinstance(item, pg.InfiniteLine):
                out.append(float(item.value()))
            elif isinstance(item, pg.TextItem):
                out.append(item.toPlainText())
        out.append(plot.getPlotItem().titleLabel.text)
    for label in view.findChildren(pg.QtWidgets.QLabel):
        out.append(label.text())
    return out


def draws_data(signature: list) -> bool:
    return any(isinstance(x, np.ndarray) and x.size for x in signature)


def same(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                    and x.shape == y.shape and np.array_equal(x, y, equal_nan=True)):
                return False
        elif x != y:
            return False
    return True


def step_and_wait(qtbot, window, n: int = 1) -> None:
    target = window.controller.history.last.step + n
    window.toolbar.act_step.trigger()
    qtbot.waitUntil(lambda: window.controller.history.last.step >= target, timeout=5000)
    qtbot.waitUntil(lambda: window.controller.state != "running", timeout=5000)


def test_opens_on_the_wavy_lesson_ready_at_step_zero(window):
    c = window.controller
    assert c.config.problem == "wavy"
    assert c.state == "ready"
    assert len(c.history) == 1
    assert "step 0" in window.status.text()
    assert "Lesson 1" in window.problem_panel.lesson_label.text()
    assert {f"dock_{cls.view_id}" for cls in VIEW_CLASSES} <= {
        d.objectName() for d in window.docks.values()}
    for view in window.views:
        assert window.docks[view.view_id].windowTitle() == view.title
    assert "step 0" in window.step_math.plain_text()


def test_step_advances_exactly_one_step_and_every_view_changes(qtbot, window, monkeypatch):
    calls = {cls.view_id: [] for cls in VIEW_CLASSES}
    for view in window.views:
        original = view.show_step

        def spy(index, _view=view, _original=original):
            calls[_view.view_id].append(index)
            return _original(index)

        monkeypatch.setattr(view, "show_step", spy)
    before = {view.view_id: view_signature(view) for view in window.views}
    status_before = window.status.text()
    math_before = window.step_math.plain_text()
    step_and_wait(qtbot, window)
    qtbot.wait(50)
    c = window.controller
    assert len(c.history) == 2
    assert c.history.last.step == 1
    assert c.state == "paused"
    assert window.status.text() != status_before
    assert "step 1" in window.status.text()
    math = window.step_math.plain_text()
    assert math != math_before
    assert "w ← w − η·g = −0.3000 − 0.01·" in math
    for view in window.views:
        if not calls[view.view_id]:  # a tab behind another: drawn when it comes to the front
            window.docks[view.view_id].raise_()
            qtbot.waitUntil(lambda v=view: bool(calls[v.view_id]), timeout=2000)
        # only step 1 was drawn (views may redraw themselves, e.g. when a grid arrives)
        assert set(calls[view.view_id]) == {1}, view.view_id
        if not draws_data(view_signature(view)):
            continue  # e.g. a contour of a one-parameter problem: nothing to draw, says why
        try:  # some views finish drawing asynchronously (loss grids): give them a moment
            qtbot.waitUntil(lambda v=view: not same(before[v.view_id], view_signature(v)),
                            timeout=3000)
        except Exception:
            pytest.fail(f"the {view.title} view did not change")


def test_a_tab_behind_another_is_not_drawn_until_it_comes_to_the_front(qtbot, window,
                                                                       monkeypatch):
    window.docks["samples"].raise_()          # the contour's tab is behind it
    qtbot.wait(30)
    contour = next(v for v in window.views if v.view_id == "contour")
    drawn = []
    original = contour.show_step
    monkeypatch.setattr(contour, "show_step", lambda i: (drawn.append(i), original(i)))
    for _ in range(3):
        step_and_wait(qtbot, window)
    assert drawn == []                        # nothing on screen: no work
    window.docks["contour"].raise_()
    qtbot.waitUntil(lambda: drawn == [window.controller.last_index], timeout=2000)


def test_play_then_pause_stops_within_a_frame(qtbot, window):
    fast(window, max_epochs=None, max_steps=1_000_000)
    window.toolbar.set_speed(2000.0)
    c = window.controller
    window.toolbar.act_play.trigger()
    assert window.toolbar.act_play.text() == "Pause"
    qtbot.waitUntil(lambda: c.history.last.step > 50, timeout=5000)
    window.toolbar.act_play.trigger()  # the same action pauses
    assert c.state == "paused"
    qtbot.wait(50)
    paused_at = len(c.history)
    qtbot.wait(250)
    assert len(c.history) == paused_at
    assert window.toolbar.act_play.text() == "Play"


def test_reset_returns_to_step_zero(qtbot, window):
    step_and_wait(qtbot, window, 1)
    step_and_wait(qtbot, window, 1)
    assert window.controller.history.last.step == 2
    window.toolbar.act_reset.trigger()
    c = window.controller
    assert len(c.history) == 1
    assert c.history.last.step == 0
    assert c.state == "ready"
    assert "step 0" in window.status.text()


def test_one_epoch_runs_to_the_epoch_boundary(qtbot, window):
    fast(window, batch_size=10, max_epochs=5)  # 10 steps per epoch
    c = window.controller
    window.toolbar.act_epoch.trigger()
    qtbot.waitUntil(lambda: c.state == "paused", timeout=5000)
    assert c.history.last.step == 10
    window.toolbar.act_epoch.trigger()
    qtbot.waitUntil(lambda: c.history.last.step == 20 and c.state == "paused", timeout=5000)


def test_a_run_plays_to_its_end(qtbot, window):
    fast(window)  # wavy: one epoch of 100 steps
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: window.controller.state == "finished", timeout=10_000)
    assert window.controller.history.last.step == 100
    assert len(window.controller.history) == 101
    assert "finished" in window.status.text()


@pytest.mark.parametrize("name", [spec.name for spec in problem_specs()])
def test_every_problem_can_be_chosen_and_stepped(qtbot, window, name):
    combo = window.problem_panel.combo
    combo.setCurrentIndex(combo.findData(name))
    c = window.controller
    assert c.config.problem == name
    assert c.state == "ready"
    assert len(c.history) == 1
    if name != "wavy":  # wavy is already on: nothing changed, nothing reset
        assert "Settings changed — run reset to step 0" in window.status.currentMessage()
    step_and_wait(qtbot, window)
    assert c.history.last.step == 1
    assert c.state in ("paused", "converged", "finished", "diverged")
    starts = [key for key in window.run_panel.fields if key[0] == "init"]
    assert starts == [("init", i) for i in range(c.problem.n_params)]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_can_be_chosen_and_stepped(qtbot, window, name):
    combo = window.optimizer_panel.combo
    combo.setCurrentIndex(combo.findData(name))
    c = window.controller
    assert c.config.optimizer == name
    assert set(c.config.hyperparams) == {hp.name for hp in OPTIMIZERS[name].hyperparams}
    step_and_wait(qtbot, window, 1)
    step_and_wait(qtbot, window, 1)
    assert c.history.last.step == 2
    assert "w ←" in window.step_math.plain_text()


def test_every_preset_loads(qtbot, window):
    assert set(window.preset_actions) == {p.name for p in list_presets()}
    for preset in list_presets():
        window.preset_actions[preset.name].trigger()
        c = window.controller
        expected = preset.runs[0].config if preset.runs else preset.config
        assert c.config == expected, preset.name
        assert len(c.history) == 1
        assert window.optimizer_panel.combo.currentData() == expected.optimizer
    window.preset_actions["linreg"].trigger()
    step_and_wait(qtbot, window)
    assert window.controller.history.last.step == 1


def test_a_stale_dock_tab_bar_is_hidden_and_the_live_ones_stay(qtbot, window):
    from PySide6.QtWidgets import QDockWidget, QTabBar

    from gdviz.gui import docks

    def visible_bars():
        return [b for b in window.findChildren(QTabBar)
                if b.parent() is window and b.isVisible()]

    qtbot.wait(30)
    live = visible_bars()
    assert live
    assert docks.hide_stale_tab_bars(window) == 0
    # what Qt sometimes leaves behind: a bar of the same tabs where the group used to be
    group = next(b for b in live if b.tabText(0) == "Per-sample losses")
    stale = QTabBar(window)
    for i in range(group.count()):
        stale.addTab(group.tabText(i))
    stale.setGeometry(261, 187, 289, 26)
    stale.show()
    assert docks.hide_stale_tab_bars(window) == 1
    assert not stale.isVisible()
    assert visible_bars() == live
    titles = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    for bar in live:   # each live bar sits against the dock of its current tab
        d, b = titles[bar.tabText(bar.currentIndex())].geometry(), bar.geometry()
        assert abs(b.top() - d.bottom() - 1) <= 2 or abs(d.top() - b.bottom() - 1) <= 2
    # a preset switch tidies by itself (in the next turn of the event loop)
    stale.show()
    window.preset_actions["linreg"].trigger()
    qtbot.waitUntil(lambda: not stale.isVisible(), timeout=2000)


def test_diverging_run_is_explained_and_the_window_lives(qtbot, window):
    window.preset_actions["linreg"].trigger()
    panel = window.optimizer_panel
    panel.lr_field.setText("5")
    panel.lr_field.editingFinished.emit()
    c = window.controller
    assert c.config.lr == 5.0
    assert c.config.batch_size == 10
    fast(window)
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: c.state == "diverged", timeout=10_000)
    assert window.isVisible()
    text = window.status.text()
    assert "diverged" in text.lower()
    assert c.history.last.message.lower() in window.status.currentMessage().lower()
    assert "smaller learning rate" in window.status.currentMessage()
    assert "diverged" in window.step_math.plain_text()
    window.toolbar.act_reset.trigger()  # and it can start again
    assert c.state == "ready"


def test_closing_while_playing_leaves_no_thread(qtbot, window):
    fast(window, max_epochs=None, max_steps=1_000_000)
    window.toolbar.set_speed(1000.0)
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: window.controller.history.last.step > 5, timeout=5000)
    assert running_threads()
    window.close()
    assert running_threads() == []


def test_invalid_learning_rate_is_shown_and_never_applied(qtbot, window):
    step_and_wait(qtbot, window)
    c = window.controller
    config, history = c.config, c.history
    panel = window.optimizer_panel
    panel.lr_field.setText("-1")
    panel.lr_field.editingFinished.emit()
    assert panel.lr_field.property("invalid") is True
    assert panel.has_error()
    assert "learning rate must be a finite number > 0" in panel.error_text().lower()
    assert c.config is config
    assert c.history is history
    assert c.history.last.step == 1
    panel.lr_field.setText("0.02")  # a valid value clears the mark and applies
    panel.lr_field.editingFinished.emit()
    assert not panel.lr_field.property("invalid")
    assert not panel.has_error()
    assert c.config.lr == 0.02
    assert len(c.history) == 1


def test_invalid_batch_size_is_shown_and_never_applied(qtbot, window):
    c = window.controller
    config = c.config
    panel = window.sampling_panel
    panel.batch_spin.setValue(0)
    assert panel.batch_spin.property("invalid") is True
    assert "batch size must be between 1 and 100" in panel.error_text().lower()
    assert c.config is config
    panel.batch_spin.setValue(5)
    assert c.config.batch_size == 5
    assert not panel.has_error()


def test_invalid_hyperparameter_and_start_point(qtbot, window):
    panel = window.optimizer_panel
    field = panel.fields[("hyperparams", "momentum")]
    field.setText("abc")
    field.editingFinished.emit()
    assert field.property("invalid") is True
    assert "momentum" in panel.error_text()
    run = window.run_panel
    start = run.fields[("init", 0)]
    start.setText("0.25")
    start.editingFinished.emit()
    assert window.controller.config.init == (0.25,)
    assert window.controller.history.last.params[0] == 0.25


def test_worker_exception_reaches_the_window_as_a_message(qtbot, window, monkeypatch):
    real = worker_module.iterate

    def broken(config):
        records = real(config)
        yield next(records)
        raise RuntimeError("numerical trouble")

    monkeypatch.setattr(worker_module, "iterate", broken)
    with qtbot.waitSignal(window.controller.sig_failed, timeout=5000) as blocker:
        window.toolbar.act_step.trigger()
    assert "numerical trouble" in blocker.args[0]
    assert window.controller.state == "failed"
    assert "numerical trouble" in window.status.text()
    (shown,) = shown_messages(window)          # one message box, on screen
    assert "numerical trouble" in shown
    qtbot.waitUntil(lambda: not running_threads(), timeout=2000)


def test_settings_persist_across_windows(qtbot, make_window, isolated_settings):
    first = make_window()
    first.optimizer_panel.lr_field.setText("0.03")
    first.optimizer_panel.lr_field.editingFinished.emit()
    first.docks["histogram"].hide()
    first.resize(1100, 700)
    first.toolbar.set_speed(100.0)
    first.close()
    second = make_window()
    assert second.controller.config.lr == 0.03
    assert second.controller.config.problem == "wavy"
    assert second.docks["histogram"].isHidden()
    assert not second.docks["samples"].isHidden()
    assert second.toolbar.speed() == pytest.approx(100.0)
    assert second.optimizer_panel.lr_field.text() == "0.03"
    assert "Lesson 1" in second.problem_panel.lesson_label.text()  # the lesson text survives
    second.preset_actions["rosenbrock"].trigger()
    second.close()
    third = make_window()
    assert third.controller.config.problem == "rosenbrock"
    assert third.preset.name == "rosenbrock"


def test_corrupt_settings_fall_back_to_defaults(qtbot, make_window, isolated_settings):
    qs = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    qs.setValue("run/config", "{this is not json")
    qs.setValue("window/state", "garbage")
    qs.setValue("window/geometry", 12345)
    qs.setValue("run/speed", "fast please")
    qs.sync()
    window = make_window()
    assert window.controller.config.problem == "wavy"
    assert window.controller.state == "ready"
    qs.setValue("run/config", '{"problem": "no-such-problem"}')
    qs.sync()
    window.close()
    assert make_window().controller.config.problem == "wavy"


def test_keyboard_shortcuts_and_tooltips(window):
    tb = window.toolbar
    assert tb.act_play.shortcut().toString() == "Space"
    assert tb.act_step.shortcut().toString() == "Right"
    assert tb.act_reset.shortcut().toString() == "R"
    for action in (tb.act_play, tb.act_step, tb.act_reset, tb.act_epoch):
        assert action.toolTip()
        assert action.toolTip() != action.text()
    assert tb.speed_slider.toolTip()
    assert window.how_to_read_text().count("<b>") >= len(window.views)


def test_unexpected_exceptions_become_a_dialog_not_a_traceback(window, capsys):
    from gdviz.gui.app import ExceptHook

    hook = ExceptHook(window)
    try:
        raise RuntimeError("a slot went wrong")
    except RuntimeError as err:
        hook(type(err), err, err.__traceback__)
    (shown,) = shown_messages(window)          # one message box, on screen
    assert "a slot went wrong" in shown
    assert "a slot went wrong" in window.status.currentMessage()
    assert "Traceback" not in capsys.readouterr().err


def test_keyboard_drives_playback(qtbot, window):
    from PySide6.QtCore import Qt

    window.activateWindow()
    window.setFocus()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    c = window.controller
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: c.history.last.step == 1 and c.state == "paused", timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: c.history.last.step > 2, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert c.state == "paused"
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert len(c.history) == 1
    field = window.optimizer_panel.lr_field  # typing in a field never triggers playback
    field.setFocus()
    qtbot.keyClicks(field, " r")
    assert len(c.history) == 1
    assert " r" in field.text()


def test_play_on_an_ended_run_says_that_it_restarts(qtbot, make_window):
    window = make_window("bowl")
    c = window.controller
    c.run_until(c.config.step_limit())
    qtbot.waitUntil(lambda: c.state in ("converged", "finished"), timeout=20_000)
    play = window.toolbar.act_play
    assert play.text() == "Replay"
    assert "play it again from step 0" in play.toolTip()
    play.trigger()
    assert "playing it again from step 0" in window.status.currentMessage()
    assert "raise the step or epoch limit" in window.status.currentMessage()
    qtbot.waitUntil(lambda: c.last_index >= 1, timeout=10_000)
    play.trigger()                                  # pause
    assert play.text() == "Play"
