"""GUI test fixtures: offscreen Qt, isolated settings, and no worker thread left behind."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own settings file: never the developer's, never shared."""
    path = tmp_path / "gdviz-settings.ini"
    monkeypatch.setenv("GDVIZ_SETTINGS", str(path))
    return path


@pytest.fixture(autouse=True)
def no_thread_left():
    """Fail any test that leaves an optimizer thread running (after its widgets closed)."""
    yield
    from gdviz.gui.worker import running_threads, stop_all_threads

    left = running_threads()
    if left:
        stop_all_threads()  # so the next test (and interpreter exit) is not affected
        pytest.fail(f"{len(left)} optimizer thread(s) still running after the test")


@pytest.fixture
def make_window(qtbot, isolated_settings):
    """Factory: ``make_window(preset=None)`` -> a shown MainWindow, closed after the test."""
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings

    windows = []

    def make(preset: str | None = None, settings_path=None):
        window = MainWindow(preset=preset, settings=AppSettings(settings_path or
                                                                isolated_settings))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def window(make_window):
    """The main window on its default preset (wavy), shown offscreen."""
    return make_window()
