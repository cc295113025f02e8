"""Fixtures for every test: no background thread of the GUI is left running, and every one is
started through the registry (``gdviz.gui.tasks``)."""

from __future__ import annotations

import sys

import pytest

_UNREGISTERED: list[str] = []   # QThreads started during the current test without registering


def _watch_thread_starts() -> None:
    """Once Qt is imported (never imported here: core tests run without it), note every
    ``QThread.start`` of a thread the registry does not know: ``no_thread_left`` then fails the
    test, so a new kind of background thread cannot bypass the one registry."""
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None or getattr(qtcore.QThread.start, "watched_by_gdviz_tests", False):
        return
    from gdviz.gui.tasks import is_registered

    original = qtcore.QThread.start

    def start(thread, *args):
        if not is_registered(thread):
            _UNREGISTERED.append(thread.objectName() or type(thread).__name__)
        return original(thread, *args)

    start.watched_by_gdviz_tests = True
    qtcore.QThread.start = start


@pytest.fixture(autouse=True)
def no_thread_left():
    """Fail any test that leaves a registered background thread running once its widgets are
    closed (pytest-qt closes the ones given to ``qtbot.addWidget`` before this runs), then stop
    and join them so the next test is not affected; fail one that started a QThread without
    registering it. Tests that never imported Qt (core, export writers) are not checked."""
    _watch_thread_starts()
    _UNREGISTERED.clear()
    yield
    problems = []
    if _UNREGISTERED:
        problems.append(f"{len(_UNREGISTERED)} QThread(s) started without the registry "
                        f"(gdviz.gui.tasks.start_thread): {', '.join(sorted(_UNREGISTERED))}")
        _UNREGISTERED.clear()
    tasks = sys.modules.get("gdviz.gui.tasks")
    left = tasks.running_threads() if tasks is not None else []
    if left:
        names = ", ".join(sorted(thread.objectName() or "unnamed" for thread in left))
        tasks.stop_all_threads(5000)
        problems.append(f"{len(left)} background thread(s) still running after the test: "
                        f"{names}")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def gc_in_the_gui_thread():
    """Once a QApplication exists, Python's cyclic garbage collector runs only in the GUI
    thread, as in the app (``gdviz.gui.gui_gc``): a collection started by a grid thread deleted
    Qt objects there (a deadlock and the scene-painting crashes of issue 13)."""
    qtwidgets = sys.modules.get("PySide6.QtWidgets")
    if qtwidgets is not None and qtwidgets.QApplication.instance() is not None:
        from gdviz.gui.gui_gc import collect_in_gui_thread

        collect_in_gui_thread()
    return
