"""Export test fixtures: offscreen Qt, isolated settings, no worker thread left behind."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("settings") / "gdviz-settings.ini"
    monkeypatch.setenv("GDVIZ_SETTINGS", str(path))
    return path


@pytest.fixture(autouse=True)
def no_thread_left():
    yield
    from gdviz.gui.worker import running_threads

    left = running_threads()
    if left:
        for thread in left:
            thread.wait(5000)
        names = ", ".join(sorted(t.objectName() or type(t).__name__ for t in left))
        pytest.fail(f"{len(left)} thread(s) still running after the test: {names}")


@pytest.fixture
def make_window(qtbot, isolated_settings):
    """Factory: ``make_window(preset=None)`` -> a shown MainWindow, closed after the test."""
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings

    windows = []

    def make(preset: str | None = "wavy"):
        window = MainWindow(preset=preset, settings=AppSettings(isolated_settings))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
