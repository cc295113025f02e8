"""The File menu's exports: the dialog and its frame-by-frame runner, snapshots, traces."""

import numpy as np
import pytest
from PIL import Image

from gdviz.cli.main import main
from gdviz.gui.export_actions import (
    copy_snapshot,
    export_traces,
    save_snapshot,
    trace_paths,
)
from gdviz.gui.export_dialog import ExportDialog

MENU = ["Open session…", "Save session…", "Export animation…", "Export PNG frames…",
        "Save snapshot (PNG, SVG, PDF)…", "Copy snapshot to clipboard", "Export trace (CSV)…",
        "Quit"]


def test_file_menu_has_the_export_entries_above_quit(make_window):
    window = make_window()
    texts = [a.text().replace("&", "") for a in window.file_menu.actions()
             if not a.isSeparator()]
    assert texts == MENU


def _dialog(window, tmp_path, **fields):
    dialog = ExportDialog(window)
    dialog.path.setText(str(tmp_path / "out.gif"))
    dialog.on_screen.setChecked(False)  # a size of its own, not the capture's on screen
    dialog.width_box.setValue(240)
    dialog.height_box.setValue(180)
    dialog.last.setValue(fields.get("last", 20))
    dialog.per_frame.setValue(fields.get("per", 2))
    return dialog


def test_dialog_spec_and_runner_write_the_gif_while_the_live_run_is_untouched(
        make_window, tmp_path, qtbot):
    window = make_window()
    window.controller.run_until(5)
    live = window.controller.history.params.copy()
    dialog = _dialog(window, tmp_path)
    dialog.select_target("learning_curve")
    spec = dialog.spec()
    assert (spec.target, spec.frames, spec.steps_per_frame, spec.size) == (
        "learning_curve", 11, 2, (240, 180))
    runner = window.start_export(spec)
    with qtbot.waitSignal(runner.sig_finished, timeout=30000) as blocker:
        pass
    path = blocker.args[0]
    with Image.open(path) as gif:
        assert (gif.n_frames, gif.size) == (11, (240, 180))
    assert np.array_equal(window.controller.history.params, live)
    assert len(window.controller.history) == 6


def test_frame_count_mode(make_window, tmp_path):
    window = make_window()
    dialog = _dialog(window, tmp_path, last=90)
    dialog.by_count.setChecked(True)
    dialog.count.setValue(10)
    assert dialog.frame_plan() == (10, 10)


def test_cancel_in_the_progress_dialog_leaves_no_file(make_window, tmp_path, qtbot):
    window = make_window()
    spec = _dialog(window, tmp_path, last=100, per=1).spec()
    runner = window.start_export(spec)
    qtbot.waitUntil(lambda: runner.job.done >= 3, timeout=20000)
    assert runner.progress.labelText().startswith("Frame ")
    from PySide6.QtWidgets import QPushButton

    (button,) = runner.progress.findChildren(QPushButton)
    assert button.text() == "Cancel"
    with qtbot.waitSignal(runner.sig_cancelled, timeout=5000):
        button.click()
    done = runner.job.done
    qtbot.wait(50)
    assert runner.job.done == done  # stopped at once
    assert list(tmp_path.iterdir()) == []
    assert "cancelled" in window.status.currentMessage()


def test_dialog_refuses_an_unwritable_target_inline(make_window, tmp_path):
    window = make_window()
    dialog = _dialog(window, tmp_path)
    dialog.path.setText(str(tmp_path / "missing" / "x.gif"))
    from PySide6.QtWidgets import QPushButton

    (export,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Export"]
    export.click()
    assert "does not exist" in dialog.error.text()
    assert dialog.result() == 0


def test_failure_is_reported_and_leaves_no_file(make_window, tmp_path, qtbot, monkeypatch):
    from gdviz.export import gif as gif_module

    window = make_window()
    spec = _dialog(window, tmp_path).spec()
    calls = []

    def full(self, frame):
        calls.append(1)
        if len(calls) > 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(gif_module.GifWriter, "add", full)
    runner = window.start_export(spec, show_progress=False)
    with qtbot.waitSignal(runner.sig_failed, timeout=20000) as blocker:
        pass
    assert "No space left" in blocker.args[0]
    assert list(tmp_path.iterdir()) == []
    assert "No space left" in window.status.currentMessage()


def test_snapshot_png_and_clipboard(make_window, tmp_path):
    window = make_window()
    view = window.views[0]
    path = save_snapshot(window, tmp_path / "snap", view)
    assert path.name == "snap.png"
    with Image.open(path) as im:
        assert im.size == (view.width(), view.height())
    image = copy_snapshot(window, view)
    assert not image.isNull()


def test_trace_export_equals_gdviz_run(make_window, tmp_path, capsys):
    window = make_window("wavy")
    window.controller.run_until(1000)
    assert window.controller.state == "finished"
    (gui_csv,) = export_traces(window, tmp_path / "gui.csv")
    cli_csv = tmp_path / "cli.csv"
    assert main(["run", "--preset", "wavy", "--out", str(cli_csv)]) == 0
    assert gui_csv.read_text() == cli_csv.read_text()


def test_one_trace_file_per_run_when_there_are_several(tmp_path):
    assert trace_paths(tmp_path / "t.csv", ["one"]) == [tmp_path / "t.csv"]
    assert trace_paths(tmp_path / "t", ["adam lr=0.05", "sgd"]) == [
        tmp_path / "t_adam_lr=0.05.csv", tmp_path / "t_sgd.csv"]


@pytest.mark.parametrize("kind", ["gif", "png"])
def test_dialog_kind_sets_the_path(make_window, kind):
    dialog = ExportDialog(make_window(), kind)
    assert dialog.kind.currentData() == kind
    assert dialog.path.text().endswith(".gif") == (kind == "gif")


def test_the_window_stays_responsive_while_exporting(make_window, tmp_path, qtbot):
    from PySide6.QtCore import QTimer

    window = make_window()
    runner = window.start_export(_dialog(window, tmp_path, last=40, per=1).spec(),
                          show_progress=False)
    seen = []
    timer = QTimer()
    timer.timeout.connect(lambda: seen.append(runner.job.done))
    timer.start(1)
    with qtbot.waitSignal(runner.sig_finished, timeout=30000):
        pass
    timer.stop()
    assert len(set(seen)) > 10  # other events ran between the frames


def test_whole_window_export_keeps_the_window_layout(make_window, tmp_path, qtbot):
    window = make_window()
    window.docks["histogram"].hide()
    dialog = _dialog(window, tmp_path, last=4, per=2)
    dialog.select_target("window")
    spec = dialog.spec()
    assert spec.target == "window"
    assert spec.window_state
    runner = window.start_export(spec, show_progress=False)
    with qtbot.waitSignal(runner.sig_finished, timeout=30000) as blocker:
        pass
    with Image.open(blocker.args[0]) as gif:
        assert (gif.n_frames, gif.size) == (3, (240, 180))
    assert window.isVisible()
    assert window.docks["histogram"].isHidden()
