"""Fault tests: the command line run as a child process (as a user or a script runs it), with
the limits, signals and files a careful tester throws at it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest  # noqa: E402

from tests.faults.helpers import gdviz_env  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("settings") / "gdviz-settings.ini"
    monkeypatch.setenv("GDVIZ_SETTINGS", str(path))
    return path


@pytest.fixture
def env(tmp_path):
    return gdviz_env()



@pytest.fixture
def make_faults_window(qtbot, isolated_settings):
    """Factory: a shown MainWindow with its own settings, closed after the test."""
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings

    windows = []

    def make(preset: str | None = "wavy"):
        window = MainWindow(preset=preset, settings=AppSettings(isolated_settings))
        qtbot.addWidget(window)
        window.resize(1024, 700)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
