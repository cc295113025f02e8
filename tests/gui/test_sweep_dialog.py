"""Optimizer panel → Sweep learning rate…: the sweep in the background, its plot, Use best lr,
Cancel, the fair race, and bad input shown inline."""

import math

import pytest
from PySide6.QtCore import Qt

from gdviz.core.sweep import Objective, default_grid, run_sweep


def _open(window, qtbot, points=9, seeds=2):
    qtbot.mouseClick(window.optimizer_panel.sweep_button, Qt.MouseButton.LeftButton)
    dialog = window.sweep_dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.points.setValue(points)
    dialog.seeds.setValue(seeds)
    return dialog


def test_sweep_of_the_selected_run_then_use_best_lr(make_window, qtbot):
    window = make_window("bowl")
    config = window.controller.config.with_changes(max_steps=60)
    window.controller.set_config(config)
    dialog = _open(window, qtbot)
    qtbot.mouseClick(dialog.sweep_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isEnabled()
    assert not dialog.sweep_button.isEnabled()
    assert dialog.runner.wait(60000)
    assert len(dialog.results) == 1
    result = dialog.results[0]
    expected = run_sweep(config, default_grid(config.lr, 9), Objective("final"),
                         [config.seed, config.seed + 1])
    assert result.best_lr == expected.best_lr
    assert dialog.progress.value() == 1000
    # drawn: the best lr as a vertical line, the usable window shaded (log10 of the lr)
    assert [line.value() for line in dialog.plot.best_lines] == [
        pytest.approx(math.log10(expected.best_lr))]
    low, high = expected.window_lrs
    assert dialog.plot.windows[0].getRegion() == (pytest.approx(math.log10(low)),
                                                  pytest.approx(math.log10(high)))
    assert f"best lr {expected.best_lr:.4g}" in dialog.summary.text()
    assert "final loss, mean of 2 seeds over 60 steps" in dialog.summary.text()
    assert "No gradient clipping" in dialog.sweep_button.toolTip()
    assert dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.controller.config.lr == expected.best_lr
    assert window.optimizer_panel.lr_field.text() == f"{expected.best_lr:g}" or \
        float(window.optimizer_panel.lr_field.text()) == pytest.approx(expected.best_lr)


def test_a_sweep_of_settings_changed_since_is_not_applied(make_window, qtbot):
    window = make_window("bowl")
    window.controller.set_config(window.controller.config.with_changes(max_steps=20))
    dialog = _open(window, qtbot, points=5, seeds=1)
    qtbot.mouseClick(dialog.sweep_button, Qt.MouseButton.LeftButton)
    assert dialog.runner.wait(60000)
    changed = window.controller.config.with_changes(lr=0.0123)
    window.controller.update_run(0, changed)
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert "changed since the sweep" in dialog.summary.text()
    assert window.controller.config.lr == 0.0123


def test_cancel_leaves_the_run_as_it_was(make_window, qtbot):
    window = make_window("bowl")
    lr = window.controller.config.lr
    dialog = _open(window, qtbot, points=41, seeds=8)
    qtbot.mouseClick(dialog.sweep_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.runner.busy
    assert dialog.sweep_button.isEnabled()
    assert not dialog.use_button.isEnabled()
    assert "Cancelled" in dialog.summary.text()
    assert dialog.results == []
    assert window.controller.config.lr == lr
    dialog.close()


def test_bad_input_is_shown_in_the_dialog_and_nothing_starts(make_window, qtbot):
    window = make_window("bowl")
    dialog = _open(window, qtbot)
    dialog.objective.setCurrentIndex(dialog.objective.findData("steps-to"))
    assert dialog.target.isEnabled()
    dialog.target.setText("abc")
    qtbot.mouseClick(dialog.sweep_button, Qt.MouseButton.LeftButton)
    assert not dialog.runner.busy
    assert dialog.summary.text().startswith("Not started:")
    assert "steps-to" in dialog.summary.text()


def test_race_sets_every_run_to_its_own_best_lr_and_plays(make_window, qtbot):
    window = make_window("compare_bowl_lr")
    c = window.controller
    assert len(c.runs) == 4
    dialog = _open(window, qtbot, points=7, seeds=1)
    assert dialog.race_button.isEnabled()
    assert "No gradient clipping" in dialog.race_button.toolTip()
    before = [run.config for run in c.runs]
    qtbot.mouseClick(dialog.race_button, Qt.MouseButton.LeftButton)
    assert dialog.runner.wait(120000)
    assert len(dialog.results) == 4
    for k, (config, result) in enumerate(zip(before, dialog.results)):
        # every run on the same horizon, each on a grid centred on its own lr
        assert result.horizon == before[0].step_limit()
        assert result.lrs[3] == pytest.approx(config.lr)
        expected = run_sweep(config, default_grid(config.lr, 7), Objective("final"),
                             [config.seed])
        assert result.best_lr == expected.best_lr
        assert c.runs[k].config.lr == expected.best_lr
    assert len(dialog.plot.best_lines) == 4
    assert c.is_playing()
    c.pause()
