"""The default layout at the screen sizes students and teachers use: every plot on screen at
least 240×160 px, no axis title cut, and the window no larger than it was made, whatever the
lesson (tests/gui/layout_helpers.py reads the widgets' geometry)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect

from gdviz.gui.window_geometry import first_geometry, fitted
from tests.gui.layout_helpers import (
    MIN_PLOT_HEIGHT,
    MIN_PLOT_WIDTH,
    clipped_axis_titles,
    plot_report,
    plots,
)

SIZES = ((1280, 800), (1366, 768), (1920, 1080))
PRESETS = ("wavy", "linreg", "logistic", "bowl", "rosenbrock", "compare_rosenbrock")


def _window_at(make_window, qtbot, preset: str, size: tuple[int, int]):
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings

    window = MainWindow(preset=preset, settings=AppSettings(memory=True))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    return window


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("preset", PRESETS)
def test_every_plot_on_screen_is_readable(make_window, qtbot, preset, size):
    window = _window_at(make_window, qtbot, preset, size)
    report = "\n".join(plot_report(window))
    shown = plots(window)
    assert len(shown) >= 3, report          # the lesson's main views are all in sight
    small = [p for p in shown if p.width < MIN_PLOT_WIDTH or p.height < MIN_PLOT_HEIGHT]
    assert not small, report
    assert not clipped_axis_titles(window), report
    assert not cut_tab_titles(window), report
    assert (window.width(), window.height()) == size
    window.close()


def cut_tab_titles(window) -> list[str]:
    """The titles of the dock tabs on screen that Qt cut short ("Gradie…")."""
    from PySide6.QtWidgets import QTabBar

    cut = []
    for bar in window.findChildren(QTabBar):
        if bar.parent() is not window or not bar.isVisible():
            continue
        metrics = bar.fontMetrics()
        for i in range(bar.count()):   # a whole title has ~24 px of padding around it
            if bar.tabRect(i).width() < metrics.horizontalAdvance(bar.tabText(i)) + 20:
                cut.append(bar.tabText(i))
    return cut


def test_the_window_keeps_its_size_while_a_run_plays(make_window, qtbot):
    """Status lines grow by a line as their numbers grow: the window must not (it grew past an
    800 px screen)."""
    window = _window_at(make_window, qtbot, "linreg", (1280, 800))
    window.controller.run_until(200)
    qtbot.wait(100)
    assert (window.width(), window.height()) == (1280, 800)
    window.close()


def test_a_first_window_fills_a_laptop_screen_and_85_percent_of_a_larger_one():
    assert first_geometry(QRect(0, 0, 1280, 770)) == QRect(0, 0, 1280, 770)
    big = first_geometry(QRect(0, 0, 2560, 1440))
    assert (big.width(), big.height()) == (2176, 1224)
    assert big.center() == QRect(0, 0, 2560, 1440).center()


def test_a_remembered_geometry_is_brought_into_the_screen():
    screen = QRect(0, 0, 1280, 800)
    assert fitted(QRect(10, 25, 1278, 982), screen) == QRect(2, 0, 1278, 800)
    assert fitted(QRect(1500, 900, 800, 600), screen) == QRect(480, 200, 800, 600)
    assert fitted(QRect(100, 100, 800, 600), screen) == QRect(100, 100, 800, 600)


def test_a_lesson_brings_the_views_it_needs_to_the_front(make_window, qtbot):
    """Lesson 5 is about the mechanics of one step: its step math and contour are in front of
    the data and the per-sample view they share a place with; lesson 2 shows its data."""
    from tests.gui.layout_helpers import on_screen

    window = _window_at(make_window, qtbot, "bowl", (1280, 800))
    assert on_screen(window.docks["step_math"])
    assert on_screen(window.docks["contour"])
    assert not on_screen(window.docks["data"])
    window.load_preset("linreg")
    qtbot.wait(50)
    assert on_screen(window.docks["data"])
    assert on_screen(window.docks["samples"])
    window.close()


def test_view_options_start_fresh_with_each_preset_unless_kept(make_window, qtbot):
    window = make_window("linreg")
    samples, curve = window.docks["samples"].widget(), window.docks["learning_curve"].widget()
    samples.zoom_box.setChecked(True)
    curve.log_box.setChecked(False)
    window.load_preset("bowl")
    assert not samples.zoom_box.isChecked()
    assert curve.log_box.isChecked()
    window.settings.save_keep_view_options(True)
    samples.zoom_box.setChecked(True)
    curve.log_box.setChecked(False)
    window.load_preset("linreg")
    assert samples.zoom_box.isChecked()
    assert not curve.log_box.isChecked()


def test_a_function_whose_minimum_is_zero_keeps_a_log_learning_curve(make_window):
    window = make_window("rosenbrock")
    assert window.docks["learning_curve"].widget().log_box.isChecked()
    window.load_preset("wavy")                       # its minimum is −0.76: linear
    assert not window.docks["learning_curve"].widget().log_box.isChecked()
