"""Comparing runs: the Runs panel (add, edit, rename, recolour, remove, limits), comparison
presets playing in lock-step, every view drawing every run, divergence of one run among
others, closing while six runs play, and the runs kept across windows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit

from gdviz.core.errors import ConfigError
from gdviz.core.history import peaks
from gdviz.core.lockstep import MAX_RUNS
from gdviz.core.presets import get_preset
from gdviz.core.run_set import PALETTE
from gdviz.core.runner import run_to_end
from gdviz.gui.tasks import running_threads
from gdviz.gui.views import style


def play_to_end(qtbot, window, timeout=60_000) -> None:
    window.toolbar.set_speed(None)
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: window.controller.state in ("finished", "converged", "diverged"),
                    timeout=timeout)


def set_lr(window, text: str) -> None:
    field = window.optimizer_panel.lr_field
    field.setText(text)
    field.editingFinished.emit()


def assert_equals_the_runner(controller) -> None:
    """Every run's history holds exactly the records of run_to_end(its config)."""
    for run, history in zip(controller.runs, controller.histories):
        expected = run_to_end(run.config)
        assert len(history) == len(expected), run.name
        np.testing.assert_array_equal(history.params, np.stack([r.params for r in expected]))
        np.testing.assert_array_equal(history.losses, [r.loss for r in expected])
        np.testing.assert_array_equal(history.grads, np.stack([r.grad for r in expected]))
        assert history.last.status == expected[-1].status


def test_add_edit_rename_recolour_remove(qtbot, window):
    c, panel = window.controller, window.runs_panel
    assert panel.names() == [c.runs[0].name] == ["sgd lr=0.01 batch=1 sequential"]
    assert not panel.remove_button.isEnabled()
    panel.add_button.click()
    assert len(c.runs) == 2
    assert c.selected_track == 1  # the copy is selected, ready to be changed
    assert c.runs[1].config == c.runs[0].config
    assert c.runs[1].color != c.runs[0].color
    assert c.runs[1].name == "sgd lr=0.01 batch=1 sequential (2)"
    set_lr(window, "0.05")  # edits the selected run only
    assert c.runs[0].config.lr == 0.01
    assert c.runs[1].config.lr == 0.05
    assert panel.names()[1] == "sgd lr=0.05 batch=1 sequential"  # the name follows
    assert [len(h) for h in c.histories] == [1, 1]
    assert "all 2 runs reset to step 0" in window.status.currentMessage()
    panel.select(0)  # the panels now edit run 0
    assert c.selected_track == 0
    assert window.optimizer_panel.lr_field.text() == "0.01"
    panel.rename(0, "baseline")
    qtbot.waitUntil(lambda: c.runs[0].name == "baseline", timeout=2000)
    assert c.runs[0].named_by == "user"
    set_lr(window, "0.02")
    assert c.runs[0].name == "baseline"  # a typed name stays
    panel.list.editItem(panel.list.topLevelItem(1), 0)  # as a double-click or F2 does
    editor = panel.list.findChild(QLineEdit)
    editor.setText("fast")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.runs[1].name == "fast", timeout=2000)
    assert panel.names() == ["baseline", "fast"]
    panel.sig_recolored.emit(0, "#123456")
    assert c.runs[0].color == "#123456"
    assert all(view.tracks[0].color == "#123456" for view in window.views)
    assert all(view.tracks[0].name == "baseline" for view in window.views)
    assert window.run_label.isVisible() or not window.isVisible()
    assert "baseline" in window.run_label.text()
    panel.rename(0, "")  # empty: back to the description of its settings
    qtbot.waitUntil(lambda: c.runs[0].name == "sgd lr=0.02 batch=1 sequential", timeout=2000)
    panel.select(1)
    panel.remove_button.click()
    assert len(c.runs) == 1
    assert c.selected_track == 0
    assert c.config.lr == 0.02
    assert not panel.remove_button.isEnabled()


def test_at_most_six_runs_with_distinct_colours_and_the_seventh_is_refused(qtbot, window):
    c, panel = window.controller, window.runs_panel
    for _ in range(MAX_RUNS - 1):
        panel.add_button.click()
    assert len(c.runs) == MAX_RUNS
    assert len({r.color for r in c.runs}) == MAX_RUNS
    assert {r.color for r in c.runs} == set(PALETTE)
    assert len({r.name for r in c.runs}) == MAX_RUNS
    assert not panel.message.isVisibleTo(panel)
    panel.add_button.click()
    assert len(c.runs) == MAX_RUNS
    assert panel.message.isVisibleTo(panel)
    assert "At most 6 runs" in panel.message.text()
    assert "at most 6 runs" in window.status.currentMessage()
    for _ in range(MAX_RUNS - 1):
        panel.remove_button.click()
    assert len(c.runs) == 1
    with pytest.raises(ConfigError, match="last run"):
        c.remove_run(0)


def test_shared_settings_apply_to_every_run(qtbot, window):
    c = window.controller
    window.load_preset("compare_slope_lr")
    start = window.run_panel.fields[("init", 0)]
    start.setText("5")
    start.editingFinished.emit()
    assert [r.config.init for r in c.runs] == [(5.0,)] * 3
    assert [r.config.lr for r in c.runs] == [0.0001, 0.001, 0.01]  # per run: kept
    # a preset's names describe the runs' own settings: a shared edit keeps them
    assert [r.name for r in c.runs] == [r.name for r in get_preset("compare_slope_lr").runs]
    combo = window.problem_panel.combo
    combo.setCurrentIndex(combo.findData("rosenbrock"))
    assert {r.config.problem for r in c.runs} == {"rosenbrock"}
    assert len(c.runs) == 3
    assert all(len(h) == 1 for h in c.histories)


def test_comparison_preset_plays_in_lock_step_and_every_view_gets_every_run(qtbot, window):
    failures = []
    window.controller.sig_failed.connect(failures.append)
    window.preset_actions["compare_linreg_batch"].trigger()
    c = window.controller
    assert [r.name for r in c.runs] == ["batch 1, lr 0.2", "batch 10, lr 0.2",
                                        "full batch 1000, lr 0.999"]
    assert window.runs_panel.names() == [r.name for r in c.runs]
    assert c.config == c.runs[0].config
    play_to_end(qtbot, window)
    assert failures == []
    assert [len(h) for h in c.histories] == [3001, 301, 4]
    assert_equals_the_runner(c)
    assert c.state == "finished"
    assert "Every run ended (3 finished)" in window.status.currentMessage()
    assert window.runs_panel.ended_texts() == ["finished at 3000", "finished at 300",
                                               "finished at 3"]
    qtbot.wait(50)
    for view in window.views:
        assert [t.name for t in view.tracks] == [r.name for r in c.runs], view.view_id
        assert [t.history for t in view.tracks] == c.histories, view.view_id
        assert view.selected_track == 0
    curve = next(v for v in window.views if v.view_id == "learning_curve")
    assert curve.key.texts()[:3] == [r.name for r in c.runs]
    assert curve.epoch_box.isChecked()  # different batch sizes: epochs on the x axis
    assert curve.plot.getPlotItem().ctrl.logYCheck.isChecked()   # curves in log10(loss)
    for k, (item, history) in enumerate(zip(curve.full_curves, c.histories)):
        assert item.isVisible()
        np.testing.assert_array_equal(item.yData[-1], np.log10(history.losses[-1]))
        keep = peaks(history.losses, style.columns(curve.plot))  # each pixel column's envelope
        np.testing.assert_array_equal(item.yData, np.log10(history.losses[keep]))
        spe = c.runs[k].config.steps_per_epoch()
        assert item.xData[-1] == pytest.approx(3.0) == history.steps[-1] / spe
        assert item.opts["pen"].color().name() == c.runs[k].color
    params = next(v for v in window.views if v.view_id == "params")
    assert len(params.track_curves) == 3
    for items, history in zip(params.track_curves, c.histories):
        np.testing.assert_array_equal(items[0].yData[-1], history.params[-1][0])


def test_a_diverging_run_is_reported_by_name_and_the_others_go_on(qtbot, window):
    window.load_preset("compare_linreg_lr")
    c = window.controller
    ended = []
    c.sig_run_ended.connect(lambda k, message: ended.append((k, message, c.state,
                                                             window.status.currentMessage())))
    play_to_end(qtbot, window)
    k, message, state, shown = ended[0]
    assert k == 1
    assert message.startswith("lr 5 (diverges) diverged at step 8: the loss")
    assert state == "running"  # the others go on
    assert message in shown
    assert [len(h) for h in c.histories] == [301, 9, 301]
    assert_equals_the_runner(c)
    assert c.state == "finished"
    assert "Every run ended (2 finished, 1 diverged)" in window.status.currentMessage()
    assert window.runs_panel.ended_texts() == ["finished at 300", "diverged at 8",
                                               "finished at 300"]
    # the selected run's numbers in the status bar; select the diverged one: its own numbers
    window.runs_panel.select(1)
    assert "step 8" in window.status.text()
    assert "lr 5" in window.run_label.text()


def test_runs_ending_in_one_batch_are_reported_in_the_order_they_ended(qtbot, window):
    from gdviz.core.lockstep import iterate_lockstep
    from gdviz.core.runner import iterate
    from gdviz.core.step_blocks import StepBlock

    window.load_preset("compare_linreg_lr")
    c = window.controller
    groups = list(iterate_lockstep([run.config for run in c.runs], iterate))[1:]
    ended = []
    c.sig_run_ended.connect(lambda k, message: ended.append(k))
    # the whole comparison in one block, as a fast machine's worker may send it
    c.append_block(StepBlock.from_groups(groups))
    assert ended == [1, 0, 2]           # lr 5 diverged at step 8, the others at 300


def test_closing_while_six_runs_play_leaves_no_thread(qtbot, window):
    c = window.controller
    c.set_config(c.config.with_changes(max_epochs=None, max_steps=1_000_000))
    for _ in range(MAX_RUNS - 1):
        window.runs_panel.add_button.click()
    assert len(c.runs) == MAX_RUNS
    window.toolbar.set_speed(1000.0)
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: c.last_index > 20, timeout=10_000)
    assert running_threads()
    assert len({len(h) for h in c.histories}) == 1  # lock-step
    window.close()
    assert running_threads() == []


def test_runs_persist_across_windows(qtbot, make_window, isolated_settings):
    first = make_window("compare_himmelblau")
    first.runs_panel.select(2)
    first.runs_panel.rename(1, "heavy ball")
    qtbot.waitUntil(lambda: first.controller.runs[1].name == "heavy ball", timeout=2000)
    first.runs_panel.sig_recolored.emit(3, "#abcdef")
    runs = first.controller.runs
    first.close()
    second = make_window()
    assert second.controller.runs == runs
    assert second.controller.selected_track == 2
    assert second.runs_panel.names()[1] == "heavy ball"
    assert second.preset.name == "compare_himmelblau"
    assert "Himmelblau" in second.windowTitle()
    second.close()
    qs = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    qs.setValue("run/runs", '{"runs": [{"name": "x", "color": "red", "config": {}}]}')
    qs.sync()
    third = make_window()  # a corrupt value: the last config instead
    assert len(third.controller.runs) == 1
    assert third.controller.config == runs[2].config
    third.close()
    qs.setValue("run/runs", "{not json")
    qs.setValue("run/config", "{not json")
    qs.sync()
    assert make_window().controller.config.problem == "wavy"
