"""AfterPaint: the worker's acknowledgement runs after the window has painted the batch."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QMainWindow

from gdviz.gui.after_paint import FALLBACK_MS, AfterPaint


class PaintLog(QObject):
    def __init__(self, widget, log: list) -> None:
        super().__init__(widget)
        self.log = log
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint:
            self.log.append("paint")
        return False


def make_window(qtbot):
    window = QMainWindow()
    label = QLabel("step 0")
    window.setCentralWidget(label)
    window.resize(300, 200)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(20)
    return window, label


def test_the_callback_runs_after_the_paint_of_what_changed(qtbot):
    window, label = make_window(qtbot)
    log: list[str] = []
    PaintLog(label, log)
    after = AfterPaint(window)
    label.setText("step 1")        # what a batch changes ...
    after.call(lambda: log.append("ack"))   # ... then the acknowledgement is requested
    assert log == []               # not at once
    qtbot.waitUntil(lambda: "ack" in log, timeout=2000)
    assert log.index("paint") < log.index("ack")


def test_without_a_paint_the_callback_still_runs(qtbot):
    window, _label = make_window(qtbot)
    after = AfterPaint(window)
    called: list[float] = []
    start = time.perf_counter()
    after.call(lambda: called.append(time.perf_counter()))  # nothing changed: no paint
    qtbot.waitUntil(lambda: len(called) == 1, timeout=2000)
    assert called[0] - start >= 0.8 * FALLBACK_MS / 1000
    window.hide()                  # a hidden window never paints: called in the next turn
    after.call(lambda: called.append(time.perf_counter()))
    qtbot.waitUntil(lambda: len(called) == 2, timeout=500)


def test_a_newer_request_releases_the_older_one(qtbot):
    window, label = make_window(qtbot)
    after = AfterPaint(window)
    log: list[str] = []
    after.call(lambda: log.append("first"))
    after.call(lambda: log.append("second"))
    assert log == ["first"]
    label.setText("changed")
    qtbot.waitUntil(lambda: log == ["first", "second"], timeout=2000)
