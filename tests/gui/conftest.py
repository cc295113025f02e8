"""GUI test fixtures: offscreen Qt and isolated settings (``no_thread_left``, the fixture that
fails a test leaving a background thread running, is in ../conftest.py: it covers every test)."""

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
