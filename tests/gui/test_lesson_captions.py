"""Lesson captions in the window: the overlay shows the caption of the step shown (playing,
stepping, scrubbing), View > Show lesson captions (remembered), the captions editor."""

import pytest
from PySide6.QtWidgets import QComboBox

from gdviz.core.captions import CaptionScript, caption_text
from gdviz.core.presets import get_preset
from gdviz.gui.caption_editor import edit_captions


def _action(window, name):
    return next(a for a in window.findChildren(type(window.menuBar().actions()[0]))
                if a.objectName() == name)


def _expected(window, index):
    c = window.controller
    return caption_text(window.captions.script, c.histories, c.selected_track, index)


def test_the_overlay_follows_the_step_shown_playing_and_scrubbing(make_window, qtbot):
    window = make_window("wavy")
    overlay = window.captions.overlay
    assert window.captions.script == get_preset("wavy").captions
    assert overlay.text().startswith("w0 = -0.3")
    assert overlay.isVisible()
    window.controller.run_until(100)
    qtbot.waitUntil(lambda: window.controller.shown_index == 100, timeout=10000)
    assert overlay.text() == _expected(window, 100)
    assert overlay.text().startswith("one pass done: the current sample's loss -0.76")
    for step in (17, 18, 50, 3):
        window.show_step(step)  # as the timeline scrubs
        assert overlay.text() == _expected(window, step) != ""
    window.show_step(17)
    assert overlay.text().startswith("stuck on a flat stretch")
    assert overlay.parent() is window.views[0]  # over the view in front of the first row
    assert overlay.geometry().bottom() < window.views[0].height()


def test_a_comparison_caption_follows_the_run_it_names(make_window, qtbot):
    window = make_window()
    window.load_preset("compare_linreg_lr")
    window.controller.run_until(9)
    window.show_step(8)
    assert window.captions.overlay.text() == ("lr 5 overshoots further every step: its loss "
                                              "passes 1e10 at step 8 and the run stops")


def test_show_lesson_captions_hides_them_and_is_remembered(make_window, isolated_settings):
    window = make_window("wavy")
    show = _action(window, "show_captions")
    assert show.isChecked()
    show.trigger()  # off
    assert not window.captions.overlay.isVisible()
    window.show_step(0)
    assert not window.captions.overlay.isVisible()
    window.close()
    again = make_window("wavy")
    assert not _action(again, "show_captions").isChecked()
    assert not again.captions.overlay.isVisible()
    _action(again, "show_captions").trigger()  # on again
    assert again.captions.overlay.isVisible()
    assert again.captions.overlay.text().startswith("w0 = -0.3")


def test_a_new_problem_has_no_captions_and_a_lesson_brings_its_own(make_window):
    window = make_window("wavy")
    window.editor.apply(window.problem_panel, ("problem",), "rosenbrock")
    assert window.controller.config.problem == "rosenbrock"
    assert not window.captions.script
    assert not window.captions.overlay.isVisible()
    window.load_preset("bowl")
    assert window.captions.script == get_preset("bowl").captions
    assert window.captions.overlay.text().startswith("J(w, b) is a convex bowl")


def test_the_editor_edits_the_captions_as_a_table_and_refuses_bad_rows(make_window, qtbot):
    window = make_window("wavy")
    dialog = edit_captions(window)
    qtbot.addWidget(dialog)
    table = dialog.table
    assert table.rowCount() == len(get_preset("wavy").captions)
    assert table.item(0, 3).text().startswith("w0 = -0.3")
    table.item(0, 3).setText("my own opening line")
    dialog.add_button.click()
    row = table.rowCount() - 1
    combo = table.cellWidget(row, 0)
    assert isinstance(combo, QComboBox)
    combo.setCurrentText("at_step")
    table.item(row, 1).setText("2")
    table.item(row, 3).setText("step two: loss {loss:.3f}")
    table.item(row, 2).setText("4")  # the window has one run: refused in the core's words
    dialog.accept()
    assert dialog.isVisible()
    assert "names run 4" in dialog.error.text()
    table.item(row, 2).setText("")
    table.item(row, 1).setText("two")
    dialog.accept()
    assert "the step must be a number, got 'two'" in dialog.error.text()
    table.item(row, 1).setText("2")
    dialog.accept()
    assert not dialog.isVisible()
    script = window.captions.script
    assert script.captions[0].text == "my own opening line"
    assert script.captions[-1].to_dict() == {"at_step": 2, "text": "step two: loss {loss:.3f}"}
    window.controller.run_until(3)
    window.show_step(2)
    loss = window.controller.history.losses[2]
    assert window.captions.overlay.text() == f"step two: loss {loss:.3f}"
    window.show_step(0)
    assert window.captions.overlay.text() == "my own opening line"


def test_the_editor_can_remove_every_caption(make_window, qtbot):
    window = make_window("wavy")
    dialog = edit_captions(window)
    qtbot.addWidget(dialog)
    dialog.table.selectAll()
    dialog.remove_button.click()
    assert dialog.table.rowCount() == 0
    dialog.accept()
    assert window.captions.script == CaptionScript()
    assert not window.captions.overlay.isVisible()


def test_the_export_dialog_offers_captions_only_when_there_are_some(make_window, tmp_path):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window("wavy")
    dialog = ExportDialog(window)
    assert dialog.captions.isEnabled()
    assert dialog.captions.isChecked()
    dialog.path.setText(str(tmp_path / "x.gif"))
    assert dialog.spec().captions == window.captions.script
    dialog.captions.setChecked(False)
    assert not dialog.spec().captions
    dialog.close()
    window.set_captions(CaptionScript())
    empty = ExportDialog(window)
    assert not empty.captions.isEnabled()
    assert not empty.captions.isChecked()
    empty.close()


@pytest.mark.parametrize("preset", ["wavy", "bowl"])  # the samples view; the contour map
def test_the_caption_leaves_the_views_title_and_keys_in_sight(make_window, preset):
    window = make_window(preset)
    overlay = window.captions.overlay
    host = overlay.parent()
    assert overlay.isVisible()
    assert host.isVisible()
    box = overlay.geometry()
    for label in (host.frame.title, host.frame.info):
        if label.isVisible():
            corner = label.mapTo(host, label.rect().topLeft())
            assert not box.intersects(label.rect().translated(corner)), label.text()
