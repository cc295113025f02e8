"""Fixtures for every test: no background thread of the GUI is left running."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def no_thread_left():
    """Fail any test that leaves a registered background thread running once its widgets are
    closed (pytest-qt closes the ones given to ``qtbot.addWidget`` before this runs), then stop
    and join them so the next test is not affected. Tests that never imported the GUI (core,
    export writers) are not checked: importing it here would import Qt into them."""
    yield
    tasks = sys.modules.get("gdviz.gui.tasks")
    if tasks is None:
        return
    left = tasks.running_threads()
    if left:
        names = ", ".join(sorted(thread.objectName() or "unnamed" for thread in left))
        tasks.stop_all_threads(5000)
        pytest.fail(f"{len(left)} background thread(s) still running after the test: {names}",
                    pytrace=False)
