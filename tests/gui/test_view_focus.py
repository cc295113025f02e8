"""Focus a view (double-click its title, or F), Reset layout, and presenter mode."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gdviz.gui import presenter
from gdviz.gui.settings import AppSettings
from tests.gui.layout_helpers import on_screen, plots


def _docks_on_screen(window) -> set[str]:
    return {name for name, dock in window.docks.items() if on_screen(dock)}


def test_a_focused_view_is_alone_in_the_window_and_the_layout_comes_back(window, qtbot):
    window.resize(1280, 800)
    qtbot.wait(50)
    before = _docks_on_screen(window)
    assert "learning_curve" in before
    window.focus.toggle("learning_curve")
    qtbot.wait(50)
    assert _docks_on_screen(window) == {"learning_curve"}
    (plot,) = [p for p in plots(window) if p.view == "learning_curve"]
    assert plot.width > 900
    assert plot.height > 500
    window.focus.toggle()
    qtbot.wait(50)
    assert _docks_on_screen(window) == before
    assert window.focus.focused is None


def test_double_clicking_a_view_title_focuses_it_instead_of_floating_it(window, qtbot):
    dock = window.docks["params"]
    QTest.mouseDClick(dock, Qt.MouseButton.LeftButton, pos=QPoint(40, 8))
    qtbot.wait(50)
    assert not dock.isFloating()
    assert window.focus.focused == "params"
    assert _docks_on_screen(window) == {"params"}
    QTest.mouseDClick(dock, Qt.MouseButton.LeftButton, pos=QPoint(40, 8))
    qtbot.wait(50)
    assert window.focus.focused is None
    assert "learning_curve" in _docks_on_screen(window)


def test_f_focuses_the_view_last_clicked_but_types_an_f_in_a_text_field(window, qtbot):
    view = window.docks["learning_curve"].widget()
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    window.activateWindow()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F)
    qtbot.wait(50)
    assert window.focus.focused == "learning_curve"
    QTest.keyClick(view, Qt.Key.Key_F)
    qtbot.wait(50)
    assert window.focus.focused is None
    from PySide6.QtWidgets import QLineEdit

    field = window.optimizer_panel.findChildren(QLineEdit)[0]
    field.setFocus()
    field.clear()
    QTest.keyClick(field, Qt.Key.Key_F)
    assert field.text() == "f"
    assert window.focus.focused is None


def test_reset_layout_brings_back_the_default_docks(window, qtbot):
    window.resize(1280, 800)
    qtbot.wait(50)
    fresh = _docks_on_screen(window)
    window.docks["learning_curve"].hide()
    window.docks["problem"].setFloating(True)
    window.docks["histogram"].hide()
    qtbot.wait(50)
    assert _docks_on_screen(window) != fresh
    window.reset_layout()
    qtbot.wait(50)
    assert _docks_on_screen(window) == fresh
    assert not window.docks["problem"].isFloating()


def test_a_stored_presenter_scale_makes_qt_draw_larger(tmp_path):
    settings = AppSettings(tmp_path / "gdviz.ini")
    assert settings.presenter_scale() == 1.0
    settings.save_presenter_scale(2.0)
    settings.sync()
    script = (
        "import sys\n"
        "from gdviz.gui import presenter\n"
        "from gdviz.gui.settings import AppSettings\n"
        "presenter.apply_stored_scale(AppSettings(sys.argv[1]).presenter_scale())\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "print(app.primaryScreen().devicePixelRatio())\n")
    env = {k: v for k, v in os.environ.items() if k != presenter.ENV}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "gdviz.ini")],
                         capture_output=True, text=True, env=env, timeout=60, check=True)
    assert float(out.stdout.split()[-1]) == 2.0


def test_a_scale_the_user_set_wins_and_restarting_repeats_the_arguments(monkeypatch):
    monkeypatch.setenv(presenter.ENV, "1.25")
    assert presenter.apply_stored_scale(2.0) == 1.25
    assert os.environ[presenter.ENV] == "1.25"
    monkeypatch.delenv(presenter.ENV)
    assert presenter.apply_stored_scale(1.0) == 1.0
    assert presenter.ENV not in os.environ
    monkeypatch.setattr(sys, "argv", ["gdviz", "--preset", "bowl"])
    assert presenter.restart_command() == (sys.executable, ["-m", "gdviz", "--preset", "bowl"])
